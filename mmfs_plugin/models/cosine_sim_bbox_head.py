"""Cosine-similarity box classifier of TFA w/ cos (Wang et al., ICML 2020).

The classifier scores a RoI feature ``x`` against class weights ``w_c`` as
``scale * <x / (|x| + eps), w_c / (|w_c| + eps)>``: a scaled cosine similarity, which
keeps the scores of base and novel classes on the same footing after fine-tuning on a
handful of shots. The scale is 20 by default, TFA's ``COSINE_SCALE``.

The classifier is an ordinary layer (:class:`CosineSimLinear`) plugged in through mmdet's
``cls_predictor_cfg``, so :class:`CosineSimBBoxHead` keeps every other behaviour of
mmdet's ``Shared2FCBBoxHead`` (box regressor, losses, ``predict_by_feat``, init).
"""
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmdet.models.roi_heads.bbox_heads import Shared2FCBBoxHead
from mmdet.registry import MODELS


@MODELS.register_module()
class CosineSimLinear(nn.Linear):
    """A bias-free linear layer scoring scaled cosine similarities.

    Its only parameter is ``weight`` (``out_features x in_features``), one row per
    class, so checkpoints map onto it row by row like onto ``nn.Linear``; there is no
    ``bias`` (a bias would shift cosine scores by a class prior).

    Args:
        in_features (int): Size of each input feature.
        out_features (int): Number of scores (classes, background included).
        scale (float): Factor applied to the cosine similarities. Defaults to 20.
        learnable_scale (bool): Whether ``scale`` is a trainable parameter
            (initialised to ``scale``) instead of a constant. Defaults to False.
        eps (float): Added to the L2 norms before dividing, as in TFA.
            Defaults to 1e-5.
    """

    def __init__(self,
                 in_features: int,
                 out_features: int,
                 scale: float = 20.0,
                 learnable_scale: bool = False,
                 eps: float = 1e-5) -> None:
        if scale <= 0:
            raise ValueError(f'CosineSimLinear: scale: must be positive, got {scale}')
        super().__init__(in_features, out_features, bias=False)
        self.eps = eps
        if learnable_scale:
            self.scale = nn.Parameter(torch.tensor(float(scale)))
        else:
            self.register_buffer('scale', torch.tensor(float(scale)), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """Score features against the class weights.

        Args:
            x (Tensor): Features of shape (N, in_features).

        Returns:
            Tensor: ``scale * cos(x, weight)`` of shape (N, out_features).
        """
        x_unit = x / (torch.linalg.vector_norm(x, dim=1, keepdim=True) + self.eps)
        w_unit = self.weight / (
            torch.linalg.vector_norm(self.weight, dim=1, keepdim=True) + self.eps)
        return self.scale * F.linear(x_unit, w_unit)

    def extra_repr(self) -> str:
        """Describe the layer for ``print(module)``."""
        return (f'in_features={self.in_features}, out_features={self.out_features}, '
                f'scale={float(self.scale):g}, '
                f'learnable_scale={isinstance(self.scale, nn.Parameter)}')


@MODELS.register_module()
class CosineSimBBoxHead(Shared2FCBBoxHead):
    """Shared2FCBBoxHead whose classifier is a scaled cosine similarity.

    ``fc_cls`` is a :class:`CosineSimLinear` with ``num_classes + 1`` rows (background
    last, as in mmdet) and no bias; ``fc_reg`` and everything else are mmdet's.

    Args:
        scale (float): Factor applied to the cosine similarities. Defaults to 20.
        learnable_scale (bool): Whether the scale is trained. Defaults to False.
        eps (float): Added to the L2 norms before dividing. Defaults to 1e-5.
        **kwargs: The arguments of ``Shared2FCBBoxHead`` (``fc_out_channels``,
            ``num_classes``, ``loss_cls``, ...) except ``cls_predictor_cfg``, which
            this head sets.
    """

    def __init__(self,
                 *,
                 scale: float = 20.0,
                 learnable_scale: bool = False,
                 eps: float = 1e-5,
                 **kwargs: Any) -> None:
        if 'cls_predictor_cfg' in kwargs:
            raise ValueError(
                'CosineSimBBoxHead: cls_predictor_cfg: set by the head (a CosineSimLinear); '
                'configure it through scale, learnable_scale and eps')
        super().__init__(
            cls_predictor_cfg=dict(
                type='CosineSimLinear',
                scale=scale,
                learnable_scale=learnable_scale,
                eps=eps),
            **kwargs)
