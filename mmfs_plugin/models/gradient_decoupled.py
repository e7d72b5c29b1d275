"""DeFRCN's gradient-decoupled layer (GDL) between the backbone and each head (Qiao et al.,
"DeFRCN: Decoupled Faster R-CNN for Few-Shot Object Detection", ICCV 2021).

The features reach the RPN and the RoI head through a layer of their own: forward, a
per-channel affine transform (weight 1 and bias 0 at start, trained); backward, the gradient
into the backbone scaled by ``backward_scale`` (0 stops it, 1 leaves it). DeFRCN stops the
RPN's gradient (0.0) in base training and fine-tuning, and scales the RoI head's by 0.75 in base
training, 0.001 (VOC) or 0.01 (COCO) in fine-tuning. The heads are mmdet's RPN head and standard
RoI head with the layer in front (the RoI head's box and mask forwards, which every path
through the head takes); their weights keep mmdet's names, so a checkpoint of the plain
heads loads (the affine layers then start as the identity).
"""
from typing import Any, Optional, Tuple

import torch
from torch import Tensor, nn

from mmdet.models.dense_heads import RPNHead
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.registry import MODELS


class _ScaleGradient(torch.autograd.Function):
    """Identity forward; the gradient times ``scale`` backward."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, scale: float) -> Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tuple[Tensor, None]:
        return grad * ctx.scale, None


class GradientDecoupledLayer(nn.Module):
    """The gradient-decoupled layer: ``x * weight + bias`` per channel forward, the gradient
    into ``x`` times ``backward_scale`` backward.

    Args:
        num_channels (int): Channels C of the features.
        backward_scale (float): Factor of the gradient that reaches the input, in [0, 1].

    Raises:
        ValueError: ``backward_scale`` outside [0, 1].
    """

    def __init__(self, num_channels: int, backward_scale: float) -> None:
        super().__init__()
        if not 0.0 <= backward_scale <= 1.0:
            raise ValueError(f'GradientDecoupledLayer: backward_scale: expected a number in '
                             f'[0, 1], got {backward_scale!r}')
        self.backward_scale = float(backward_scale)
        self.weight = nn.Parameter(torch.ones(1, num_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, num_channels, 1, 1))

    def forward(self, features: Tuple[Tensor, ...]) -> Tuple[Tensor, ...]:
        """Decouple every level of a feature pyramid (one affine transform for all).

        Args:
            features (tuple[Tensor]): Levels of shape (N, C, H_l, W_l).

        Returns:
            tuple[Tensor]: The same shapes.
        """
        return tuple(_ScaleGradient.apply(level, self.backward_scale) * self.weight + self.bias
                     for level in features)

    def extra_repr(self) -> str:
        return f'num_channels={self.weight.shape[1]}, backward_scale={self.backward_scale}'


@MODELS.register_module()
class DecoupledRPNHead(RPNHead):
    """mmdet's ``RPNHead`` behind a :class:`GradientDecoupledLayer` (``self.decouple``).

    Args:
        backward_scale (float): The layer's gradient factor. Defaults to 0.0 (DeFRCN: the
            RPN's gradient never reaches the backbone).
        **kwargs: The arguments of mmdet's ``RPNHead``.
    """

    def __init__(self, backward_scale: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.decouple = GradientDecoupledLayer(self.in_channels, backward_scale)

    def forward(self, x: Tuple[Tensor, ...]) -> Tuple[list, list]:
        """The RPN's scores and box deltas of the decoupled features (every entry point of
        the head, ``loss``, ``predict`` and ``loss_and_predict``, calls it)."""
        return super().forward(self.decouple(x))


@MODELS.register_module()
class DecoupledStandardRoIHead(StandardRoIHead):
    """mmdet's ``StandardRoIHead`` behind a :class:`GradientDecoupledLayer`
    (``self.decouple``), with the channels of its RoI extractor.

    Args:
        backward_scale (float): The layer's gradient factor. Defaults to 0.01 (DeFRCN's
            fine-tuning on COCO; 0.001 on VOC, 0.75 in base training).
        **kwargs: The arguments of mmdet's ``StandardRoIHead``.
    """

    def __init__(self, backward_scale: float = 0.01, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.decouple = GradientDecoupledLayer(self.bbox_roi_extractor.out_channels,
                                               backward_scale)

    def _bbox_forward(self, x: Tuple[Tensor, ...], rois: Tensor) -> dict:
        """mmdet's box forward on the decoupled features: every path to the box head (``loss``,
        ``predict``, ``forward``, and the ground-truth box scoring of the evaluation) takes
        it."""
        return super()._bbox_forward(self.decouple(x), rois)

    def _mask_forward(self, x: Tuple[Tensor, ...], rois: Optional[Tensor] = None,
                      pos_inds: Optional[Tensor] = None,
                      bbox_feats: Optional[Tensor] = None) -> dict:
        """mmdet's mask forward on the decoupled features."""
        return super()._mask_forward(self.decouple(x), rois, pos_inds, bbox_feats)
