"""RetentiveTFA: a fine-tuned detector that keeps the base detector's own base-class detections.

Generalized few-shot detection asks for new classes without forgetting the old ones. Fine-tuning
on k shots per class adapts the features to the novel classes and, with them, changes the base
classes' detections (measured on NEU-DET: docs/results.md). Retentive R-CNN (Fan et al.,
"Generalized Few-shot Object Detection without Forgetting", CVPR 2021) keeps the base detector
unchanged beside the fine-tuned one and takes its detections for the base classes. This is that
idea in its simplest form: a frozen copy of the base detector runs beside the fine-tuned detector;
base-class detections come from the copy (so base AP is the base detector's), novel-class
detections from the fine-tuned detector. The price is a second forward pass at inference.
"""
import copy
from typing import Any, Mapping, Optional, Sequence

import torch
from mmengine.structures import InstanceData
from torch import Tensor, nn

from mmdet.registry import MODELS
from mmdet.structures import SampleList
from .tfa import TFA

#: What the base branch's logits of the non-retained classes become: exp() underflows to 0.
_MASKED_LOGIT = -1e4


@MODELS.register_module()
class RetentiveTFA(TFA):
    """:class:`TFA` plus a frozen copy of the base detector whose base-class detections are kept.

    The base branch (``self.base_detector``) is a Faster R-CNN of the same architecture with
    ``base_bbox_head`` as its box head (the base training's head, e.g. mmdet's
    ``Shared2FCBBoxHead``), sized to the label space. :class:`FewShotSurgeryHook` loads the base
    checkpoint into it, rows by class name, and marks the classes the checkpoint knows as
    retained (``retained``, a buffer saved with the model). The branch's logits of the other
    classes are masked, so its softmax equals the base detector's over its own classes, and its
    detections are the base detector's. At inference the detections are the fine-tuned
    detector's for the classes not retained (novel) and the base branch's for the retained ones
    (base): at most ``max_per_img`` of each, so COCO's per-class limit sees every detection of
    both. Training trains the fine-tuned detector only (the base branch has no gradient and stays
    in eval mode). Without retained classes (before the surgery) it predicts as :class:`TFA`.
    ``GTBoxAccuracy`` scores ground-truth boxes with the fine-tuned detector's box head (the
    base branch has its own classifier, not consulted there).

    Args:
        base_bbox_head (dict): Overrides of the box head config for the base branch; a key
            set to None is removed. E.g. ``dict(type='Shared2FCBBoxHead', scale=None)`` when
            the fine-tuned head is a cosine head and the base training's was mmdet's.
        **kwargs: The arguments of :class:`TFA` (``frozen_parameters``,
            ``backbone_grad_scale``) and of mmdet's ``FasterRCNN``.
    """

    def __init__(self, base_bbox_head: Optional[dict] = None, **kwargs: Any) -> None:
        base_cfg = copy.deepcopy({key: value for key, value in kwargs.items()
                                  if key not in ('frozen_parameters', 'backbone_grad_scale',
                                                 'init_cfg')})
        super().__init__(**kwargs)
        head = dict(base_cfg['roi_head']['bbox_head'], **(base_bbox_head or {}))
        base_cfg['roi_head']['bbox_head'] = {k: v for k, v in head.items() if v is not None}
        base_cfg.pop('data_preprocessor', None)  # inputs arrive preprocessed
        self.base_detector = MODELS.build(dict(base_cfg, type='FasterRCNN'))
        self.base_detector.requires_grad_(False)
        num_classes = self.roi_head.bbox_head.num_classes
        if self.base_detector.roi_head.bbox_head.num_classes != num_classes:
            raise ValueError('RetentiveTFA: base_bbox_head must keep num_classes '
                             f'({num_classes}): both branches share the label space')
        self.register_buffer('retained', torch.zeros(num_classes, dtype=torch.bool))
        self.base_detector.roi_head.bbox_head.fc_cls.register_forward_hook(self._mask_logits)

    def _mask_logits(self, module: nn.Module, args: Any, logits: Tensor) -> Tensor:
        """Forward hook of the base branch's classifier: mask the classes not retained."""
        masked = torch.cat([~self.retained, self.retained.new_zeros(1)])  # background kept
        return logits.masked_fill(masked, _MASKED_LOGIT)

    def load_base_detector(self, state_dict: Mapping[str, Tensor],
                           retained_classes: Sequence[bool]) -> None:
        """Load the base branch and set the retained classes (done by the surgery hook).

        Args:
            state_dict (Mapping[str, Tensor]): The base detector's weights, its box head's last
                layers already mapped onto the label space (names without a prefix).
            retained_classes (Sequence[bool]): Per class of the label space, whether the base
                branch's detections of it are kept (the classes the base checkpoint knows).

        Raises:
            RuntimeError: A weight of the base branch is missing or does not fit.
        """
        if len(retained_classes) != len(self.retained):
            raise ValueError(f'RetentiveTFA: {len(retained_classes)} retained flags for '
                             f'{len(self.retained)} classes')
        self.base_detector.load_state_dict(dict(state_dict), strict=True)
        self.retained.copy_(torch.as_tensor(list(retained_classes), dtype=torch.bool))

    def train(self, mode: bool = True) -> 'RetentiveTFA':
        """Set the training mode; the base branch stays in eval mode."""
        super().train(mode)
        self.base_detector.eval()
        return self

    def predict(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """Detections of the novel classes from the fine-tuned detector, of the base classes
        from the base branch.

        Args:
            batch_inputs (Tensor): Images, shape (N, C, H, W).
            batch_data_samples (list[DetDataSample]): Their data samples.
            rescale (bool): Whether to rescale the results. Defaults to True.

        Returns:
            list[DetDataSample]: The samples with ``pred_instances``, sorted by score.
        """
        if not bool(self.retained.any()):
            return super().predict(batch_inputs, batch_data_samples, rescale=rescale)
        base_samples = copy.deepcopy(batch_data_samples)  # predict() fills the samples it gets
        samples = super().predict(batch_inputs, batch_data_samples, rescale=rescale)
        base_samples = self.base_detector.predict(batch_inputs, base_samples, rescale=rescale)
        for sample, base_sample in zip(samples, base_samples):
            ours, theirs = sample.pred_instances, base_sample.pred_instances
            merged = InstanceData.cat([ours[~self.retained[ours.labels]],
                                       theirs[self.retained[theirs.labels]]])
            sample.pred_instances = merged[merged.scores.argsort(descending=True)]
        return samples
