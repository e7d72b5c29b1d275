"""TFA: Faster R-CNN fine-tuned with part of its weights frozen (Wang et al., ICML 2020), and
optionally with decoupled gradients into the backbone (DeFRCN, Qiao et al., ICCV 2021)."""
import copy
from typing import Any, Dict, Optional, Sequence

import torch
from torch import Tensor

from mmdet.models.detectors import FasterRCNN
from mmdet.registry import MODELS
from mmdet.structures import SampleList

from .freezing import freeze_parameters, frozen_modules
from .gradient_decoupling import scale_gradient


@MODELS.register_module()
class TFA(FasterRCNN):
    """Faster R-CNN whose parameters under ``frozen_parameters`` are frozen.

    The fine-tuning stage of "Frustratingly Simple Few-Shot Object Detection" trains only
    the last layers of the box head. Freezing lives in the detector rather than in a hook
    because mmengine's Runner builds the optimizer wrapper before any hook runs: frozen
    here, the parameters never receive a gradient, so the optimizer keeps no state for them
    and weight decay leaves them alone. The frozen modules stay in eval mode while the model
    trains (:meth:`train`), so batch-norm statistics and dropout of a frozen part behave as
    at inference and the part is frozen in full, not only its parameters.

    Args:
        frozen_parameters (Sequence[str]): Dotted prefixes of the parameter names to freeze,
            e.g. ``['backbone', 'neck', 'rpn_head', 'roi_head.bbox_head.shared_fcs']``.
            Each must match at least one parameter. Defaults to none (plain Faster R-CNN).
        backbone_grad_scale (dict, optional): DeFRCN's gradient decoupling:
            ``dict(rpn=a, roi=b)`` scales the gradients that the RPN (``a``) and the RoI head
            (``b``) send back into the shared features (0 stops them, 1 keeps them); the
            features themselves are unchanged, so inference is too. Defaults to None (1, 1).
        **kwargs: The arguments of mmdet's ``FasterRCNN``.
    """

    def __init__(self, frozen_parameters: Sequence[str] = (),
                 backbone_grad_scale: Optional[Dict[str, float]] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.frozen_parameters = tuple(frozen_parameters)
        freeze_parameters(self, self.frozen_parameters)
        if backbone_grad_scale is not None:
            unknown = sorted(set(backbone_grad_scale) - {'rpn', 'roi'})
            if unknown:
                raise ValueError(f'TFA: backbone_grad_scale: unknown keys {unknown}; expected '
                                 "'rpn' and/or 'roi'")
        self.backbone_grad_scale = dict(backbone_grad_scale or {})

    def train(self, mode: bool = True) -> 'TFA':
        """Set the training mode, keeping the frozen modules in eval mode.

        Args:
            mode (bool): Whether to set training mode. Defaults to True.

        Returns:
            TFA: The model itself.
        """
        super().train(mode)
        if mode:
            for module in frozen_modules(self, self.frozen_parameters):
                module.eval()
        return self

    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> dict:
        """mmdet 3.3's ``TwoStageDetector.loss``, each head on its gradient-scaled features.

        Args:
            batch_inputs (Tensor): Images, shape (N, C, H, W).
            batch_data_samples (list[DetDataSample]): Their data samples.

        Returns:
            dict: The losses.
        """
        if not self.backbone_grad_scale:
            return super().loss(batch_inputs, batch_data_samples)
        x = self.extract_feat(batch_inputs)
        rpn_x = scale_gradient(x, self.backbone_grad_scale.get('rpn', 1.0))
        roi_x = scale_gradient(x, self.backbone_grad_scale.get('roi', 1.0))
        losses = dict()
        proposal_cfg = self.train_cfg.get('rpn_proposal', self.test_cfg.rpn)
        rpn_data_samples = copy.deepcopy(batch_data_samples)
        for data_sample in rpn_data_samples:  # the RPN is class-agnostic
            data_sample.gt_instances.labels = torch.zeros_like(data_sample.gt_instances.labels)
        rpn_losses, rpn_results_list = self.rpn_head.loss_and_predict(
            rpn_x, rpn_data_samples, proposal_cfg=proposal_cfg)
        for key in list(rpn_losses):
            if 'loss' in key and 'rpn' not in key:
                rpn_losses[f'rpn_{key}'] = rpn_losses.pop(key)
        losses.update(rpn_losses)
        losses.update(self.roi_head.loss(roi_x, rpn_results_list, batch_data_samples))
        return losses
