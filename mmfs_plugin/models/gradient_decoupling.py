"""Gradient decoupling (DeFRCN's GDL, Qiao et al., ICCV 2021): features pass unchanged, gradients
flowing back through them are scaled.

In Faster R-CNN the RPN and the RoI head share the backbone's features and both send gradients
into it. Scaling what each sends (0: none, 1: unchanged) lets the backbone adapt to the few shots
mostly through the box head and not be pulled around by the RPN.
"""
from typing import Any, Sequence, Tuple

import torch
from torch import Tensor


class _ScaleGradient(torch.autograd.Function):
    """Identity forward; the gradient multiplied by ``scale`` backward."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, scale: float) -> Tensor:  # noqa: D102
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tuple[Tensor, None]:  # noqa: D102
        return grad * ctx.scale, None


def scale_gradient(features: Sequence[Tensor], scale: float) -> Tuple[Tensor, ...]:
    """Return the features unchanged, with their gradients scaled by ``scale`` on the way back.

    Args:
        features (Sequence[Tensor]): Multi-level features (e.g. the FPN's outputs).
        scale (float): The factor, >= 0 (0 stops the gradient, 1 leaves it as it is).

    Returns:
        tuple[Tensor, ...]: The same values.
    """
    if scale < 0:
        raise ValueError(f'scale_gradient: scale must be >= 0, got {scale}')
    if scale == 1:
        return tuple(features)
    return tuple(_ScaleGradient.apply(feature, scale) for feature in features)
