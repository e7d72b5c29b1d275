"""mmdet datasets and samplers of the plugin: the labelme readers, the few-shot wrapper that
applies the protocol to any detection dataset, and the few-shot samplers."""
from .dataset_configs import dataset_classes, fewshot_label_space
from .fewshot_dataset import FewShotDataset
from .labelme_dataset import LabelmeDataset
from .mvtec_fs_dataset import MVTecFSDataset
from .samplers import FewShotBalancedSampler

__all__ = [
    'FewShotDataset', 'LabelmeDataset', 'MVTecFSDataset', 'FewShotBalancedSampler',
    'dataset_classes', 'fewshot_label_space'
]
