"""Freezing parts of a model by parameter-name prefix.

A prefix names a dotted path of the model (``'backbone'``, ``'roi_head.bbox_head.shared_fcs'``)
and matches whole name components only: ``'neck'`` matches ``neck.lateral_convs.0.conv.weight``
but not ``necktie.weight``. Freezing is done when the model is built, before mmengine's Runner
builds the optimizer wrapper, so no hook ordering is involved: frozen parameters get no
gradient, hence no optimizer state and no weight decay.
"""
from typing import Iterator, Sequence

import torch.nn as nn


def _matches(name: str, prefix: str) -> bool:
    """Whether the dotted ``name`` is ``prefix`` or lies below it."""
    return name == prefix or name.startswith(prefix + '.')


def freeze_parameters(model: nn.Module, prefixes: Sequence[str]) -> list[str]:
    """Stop the gradient of every parameter whose name lies under one of ``prefixes``.

    Args:
        model (nn.Module): The model; it is modified in place.
        prefixes (Sequence[str]): Dotted prefixes of parameter names.

    Returns:
        list[str]: The names of the frozen parameters, in the model's order.

    Raises:
        ValueError: If a prefix is empty or matches no parameter (a typo would
            otherwise silently train everything).
    """
    if isinstance(prefixes, str):
        raise TypeError(f'frozen_parameters: expected a list of prefixes, got the string '
                        f'{prefixes!r}')
    named = list(model.named_parameters())
    for prefix in prefixes:
        if not prefix:
            raise ValueError('frozen_parameters: an empty prefix would freeze the whole model')
        if not any(_matches(name, prefix) for name, _ in named):
            raise ValueError(f'frozen_parameters: {prefix!r} matches no parameter of '
                             f'{type(model).__name__}')
    frozen = []
    for name, param in named:
        if any(_matches(name, prefix) for prefix in prefixes):
            param.requires_grad_(False)
            frozen.append(name)
    return frozen


def frozen_modules(model: nn.Module, prefixes: Sequence[str]) -> Iterator[nn.Module]:
    """Yield the modules lying under one of ``prefixes`` (the prefix module included).

    Args:
        model (nn.Module): The model.
        prefixes (Sequence[str]): Dotted prefixes, as given to :func:`freeze_parameters`.

    Yields:
        nn.Module: Each module whose dotted name lies under a prefix. A prefix naming a
        single parameter (``'backbone.conv1.weight'``) names no module.
    """
    for name, module in model.named_modules():
        if any(_matches(name, prefix) for prefix in prefixes):
            yield module
