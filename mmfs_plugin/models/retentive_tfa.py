"""RetentiveTFA: a fine-tuned detector beside the frozen base detector, whose base-class
detections are kept (after Retentive R-CNN, Fan et al., "Generalized Few-shot Object Detection
without Forgetting", CVPR 2021)."""
import copy
from pathlib import Path
from typing import Any, Mapping, Sequence, Union

import torch
from mmengine.config import Config
from mmengine.structures import InstanceData
from torch import Tensor

from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import ConfigType
from .tfa import TFA


@MODELS.register_module()
class RetentiveTFA(TFA):
    """:class:`TFA` beside a frozen base detector whose base-class detections are kept.

    The base branch is the base training's detector, in its own label space. Its weights
    come from the base checkpoint through :meth:`load_base_detector` (called by
    ``FewShotSurgeryHook``), which also maps its classes onto this detector's by name; it is
    never initialised otherwise (building it draws nothing from torch's random stream, so the
    fine-tuned detector trains as :class:`TFA` would), gets no gradient and stays in eval
    mode. At inference, the detections of the classes the base detector knows (retained) are
    its own, those of the other (novel) classes the fine-tuned detector's; both branches predict
    with this detector's ``test_cfg``, each keeping at most its ``max_per_img``. Before
    :meth:`load_base_detector` it predicts as :class:`TFA`.

    Args:
        base_detector (str | dict): The base training's config file (its ``model`` is built,
            as mmdet's ``KnowledgeDistillationSingleStageDetector`` builds its teacher) or
            the base detector's model config.
        **kwargs: The arguments of :class:`TFA`.
    """

    def __init__(self, base_detector: Union[str, ConfigType], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        base_detector = base_detector_config(base_detector)
        # one test_cfg (score threshold, NMS, detections per image) for every detection
        base_detector = dict(base_detector, test_cfg=kwargs.get('test_cfg'))
        with torch.random.fork_rng(devices=[]):  # its init draws leave the stream alone
            self.base_detector = MODELS.build(base_detector)
        self.base_detector.requires_grad_(False)
        self.base_detector.is_init = True  # mmengine's init_weights skips it: weights are loaded
        num_base = _num_classes(self.base_detector)
        # per class of the base detector: its label in this detector's label space, or -1
        self.register_buffer('base_labels', torch.full((num_base,), -1, dtype=torch.long))

    def load_base_detector(self, state_dict: Mapping[str, Tensor],
                           base_classes: Sequence[str], classes: Sequence[str]) -> None:
        """Load the base branch and map its classes onto the label space by name.

        Args:
            state_dict (Mapping[str, Tensor]): The base checkpoint's weights.
            base_classes (Sequence[str]): The base checkpoint's classes, in its label order.
            classes (Sequence[str]): This detector's label space.

        Raises:
            ValueError: If the number of base classes differs from the base branch's.
            RuntimeError: If a weight of the base branch is missing or does not fit.
        """
        if len(base_classes) != len(self.base_labels):
            raise ValueError(f'RetentiveTFA: the base checkpoint has {len(base_classes)} '
                             f'classes, base_detector is built for {len(self.base_labels)}')
        self.base_detector.load_state_dict(dict(state_dict), strict=True)
        labels = [classes.index(name) if name in classes else -1 for name in base_classes]
        self.base_labels.copy_(torch.as_tensor(labels, dtype=torch.long))

    def retained(self) -> Tensor:
        """Per class of the label space, whether the base branch's detections are kept.

        Returns:
            Tensor: Shape (num_classes,), bool.
        """
        retained = torch.zeros(self.roi_head.bbox_head.num_classes, dtype=torch.bool,
                               device=self.base_labels.device)
        retained[self.base_labels[self.base_labels >= 0]] = True
        return retained

    def train(self, mode: bool = True) -> 'RetentiveTFA':
        """Set the training mode; the base branch stays in eval mode."""
        super().train(mode)
        self.base_detector.eval()
        return self

    def predict_detections(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                           rescale: bool = True) -> SampleList:
        """Novel-class detections of the fine-tuned detector, base-class ones of the base branch.

        Args:
            batch_inputs (Tensor): Images, shape (N, C, H, W).
            batch_data_samples (list[DetDataSample]): Their data samples.
            rescale (bool): Whether to rescale the results. Defaults to True.

        Returns:
            list[DetDataSample]: The samples with ``pred_instances``, sorted by score.
        """
        retained = self.retained()
        if not bool(retained.any()):
            return super().predict_detections(batch_inputs, batch_data_samples, rescale=rescale)
        base_samples = copy.deepcopy(batch_data_samples)  # predict() fills the samples it gets
        samples = super().predict_detections(batch_inputs, batch_data_samples, rescale=rescale)
        base_samples = self.base_detector.predict(batch_inputs, base_samples, rescale=rescale)
        for sample, base_sample in zip(samples, base_samples):
            ours, theirs = sample.pred_instances, base_sample.pred_instances
            theirs.labels = self.base_labels[theirs.labels]
            merged = InstanceData.cat([ours[~retained[ours.labels]], theirs[theirs.labels >= 0]])
            sample.pred_instances = merged[merged.scores.argsort(descending=True)]
        return samples


def base_detector_config(base_detector: Union[str, Path, ConfigType]) -> ConfigType:
    """The model config of ``base_detector``: a base training config file's ``model``, or the
    model config itself.

    Args:
        base_detector (str | Path | dict): What ``RetentiveTFA(base_detector=...)`` takes.

    Returns:
        dict: The base detector's model config.
    """
    if isinstance(base_detector, (str, Path)):
        return Config.fromfile(base_detector)['model']
    return base_detector


def _num_classes(detector: torch.nn.Module) -> int:
    """The number of classes of a two-stage (``roi_head.bbox_head``) or one-stage
    (``bbox_head``) mmdet detector."""
    head = getattr(getattr(detector, 'roi_head', None), 'bbox_head', None) \
        or getattr(detector, 'bbox_head', None)
    if head is None or not hasattr(head, 'num_classes'):
        raise TypeError(f'RetentiveTFA: base_detector: {type(detector).__name__} has no '
                        'roi_head.bbox_head or bbox_head with num_classes')
    return head.num_classes
