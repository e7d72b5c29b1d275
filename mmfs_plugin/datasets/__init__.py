"""Datasets, k-shot selection and samplers for few-shot detection on labelme data."""
from .labelme_dataset import LabelmeDataset
from .mvtec_fs_dataset import MVTecFSDataset
from .samplers import FewShotBalancedEpochSampler, FewShotBalancedSampler

__all__ = [
    'LabelmeDataset', 'MVTecFSDataset', 'FewShotBalancedSampler', 'FewShotBalancedEpochSampler'
]
