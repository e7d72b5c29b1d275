"""PrototypeHook: the prototypes of DeFRCN's calibration, built from the k-shot set before every
evaluation of a model that has one."""
import copy
from typing import List, Tuple

import torch
from mmengine.dataset import Compose
from mmengine.hooks import Hook
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.runner import Runner
from torch import Tensor

from mmdet.registry import DATASETS, HOOKS


@HOOKS.register_module()
class PrototypeHook(Hook):
    """Before validation and testing, set the prototypes of the model's ``pcb``
    (:class:`~mmfs_plugin.models.prototypical_calibration.PrototypicalCalibration`); a model
    without one is left alone.

    The boxes are the training set's (the k-shot set, built from ``train_dataloader``'s config
    with the run's ``fewshot`` settings: the same selection as training), without ignored
    ones, in each image's original pixels; each image goes through the evaluation loop's
    pipeline (the one the calibrated detections come from), and its boxes are mapped with the
    image's ``scale_factor``. Every process builds them on the whole set.
    """

    priority = 'LOW'

    def before_val(self, runner: Runner) -> None:
        """Build the prototypes with the val dataloader's pipeline."""
        self._build(runner, runner.cfg.val_dataloader)

    def before_test(self, runner: Runner) -> None:
        """Build the prototypes with the test dataloader's pipeline."""
        self._build(runner, runner.cfg.test_dataloader)

    def _build(self, runner: Runner, loader_cfg: dict) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if isinstance(model, BaseTTAModel):  # tools/test.py --tta: the detector inside
            model = model.module
        pcb = getattr(model, 'pcb', None)
        if pcb is None:
            return
        if not runner.cfg.get('train_dataloader'):
            raise ValueError('PrototypeHook: train_dataloader: the k-shot set the prototypes '
                             'are built from is missing from the config')
        dataset = DATASETS.build(copy.deepcopy(runner.cfg.train_dataloader['dataset']))
        pipeline = Compose(_leaf_pipeline(loader_cfg['dataset']))
        was_training = model.training
        model.eval()
        features, labels = [], []
        with torch.no_grad():
            for index in range(len(dataset)):
                info = dataset.get_data_info(index)
                boxes, box_labels = _kshot_boxes(info)
                if not len(boxes):
                    continue
                packed = pipeline(copy.deepcopy(info))
                data = model.data_preprocessor(dict(inputs=[packed['inputs']],
                                                    data_samples=[packed['data_samples']]), False)
                scale = boxes.new_tensor(packed['data_samples'].metainfo.get(
                    'scale_factor', (1.0, 1.0))).repeat(2)
                features.append(pcb.features(model, data['inputs'],
                                             [(boxes * scale).to(data['inputs'].device)]))
                labels.append(box_labels)
        model.train(was_training)
        if not features:
            raise ValueError('PrototypeHook: the training set has no box to build a prototype '
                             'from')
        meta = dataset.metainfo
        classes = pcb.set_prototypes(torch.cat(features), torch.cat(labels).to(
            features[0].device), meta['classes'], meta.get('novel_classes') or ())
        runner.logger.info(f'PrototypeHook: prototypes of {classes} from '
                           f'{sum(map(len, labels))} boxes of {len(dataset)} training images')


def _leaf_pipeline(dataset_cfg: dict) -> List[dict]:
    """The pipeline of an evaluation dataset config (a wrapper's, else its dataset's); a
    ``TestTimeAug`` step becomes its first view (the first transform of each of its stages)."""
    while 'pipeline' not in dataset_cfg and 'dataset' in dataset_cfg:
        dataset_cfg = dataset_cfg['dataset']
    pipeline = []
    for step in copy.deepcopy(dataset_cfg['pipeline']):
        if step.get('type') == 'TestTimeAug':
            pipeline += [stage[0] for stage in step['transforms']]
        else:
            pipeline.append(step)
    return pipeline


def _kshot_boxes(info: dict) -> Tuple[Tensor, Tensor]:
    """The boxes (shape (n, 4), original pixels) and labels (n,) of an entry's instances that
    are not ignored."""
    kept = [inst for inst in info.get('instances', []) if not inst.get('ignore_flag', 0)]
    boxes = torch.tensor([inst['bbox'] for inst in kept], dtype=torch.float32).reshape(-1, 4)
    return boxes, torch.tensor([inst['bbox_label'] for inst in kept], dtype=torch.long)

