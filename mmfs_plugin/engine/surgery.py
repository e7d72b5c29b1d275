"""Weight surgery: the class rows of a box head's ``fc_cls``/``fc_reg`` mapped by class name.

A checkpoint names its classes in ``meta['dataset_meta']['classes']``; each target class known
to it gets its rows (background last in ``fc_cls``; 4 rows per class in ``fc_reg``, kept whole
when class-agnostic), as TFA's ``ckpt_surgery.py``: ``randinit`` draws the other (novel) rows
from N(0, ``std``) with zero biases; ``remove`` drops both layers, so the model keeps its own.
Every other weight is the checkpoint's; biases are mapped only where it has them (cosine head).
"""
from dataclasses import dataclass
from typing import Collection, Mapping, Optional, Sequence

import torch
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader
from torch import Tensor

from mmfs_data.errors import FieldError

HEAD_PREFIX = 'roi_head.bbox_head'
SURGERY_METHODS = ('randinit', 'remove')


class SurgeryError(FieldError):
    """A checkpoint or class list that weight surgery cannot use.

    ``str(error)`` is ``f'{file}: {field}: {reason}'``.

    Args:
        file (str): The checkpoint file (or what else holds the faulty value).
        field (str): The checkpoint key or argument at fault.
        reason (str): What is wrong with it.
    """


@dataclass(frozen=True)
class SurgerySource:
    """The weights of a trained model and the names of its classes.

    Args:
        state_dict (Mapping[str, Tensor]): The model's weights.
        classes (tuple[str, ...]): Its class names, in the order of its head rows.
        name (str): Where the weights come from (the checkpoint file), for messages.
    """

    state_dict: Mapping[str, Tensor]
    classes: tuple[str, ...]
    name: str


def load_surgery_source(filename: str, classes_required: bool = True) -> SurgerySource:
    """Load a checkpoint saved by mmengine and the class names in its metadata.

    Args:
        filename (str): Path or URI understood by mmengine's ``CheckpointLoader``.
        classes_required (bool): Whether the checkpoint must name its classes. Not when
            every target class is novel (a detector of another label space, e.g. a model-zoo
            checkpoint without class names): nothing is copied by name then. Defaults to True.

    Returns:
        SurgerySource: Its ``state_dict`` and ``meta['dataset_meta']['classes']`` (mmdet
        2.x's ``meta['CLASSES']`` where that is what it has; empty where it names none).

    Raises:
        SurgeryError: If the checkpoint is missing, or does not name its classes where they
            are required.
    """
    try:
        checkpoint = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
    except FileNotFoundError as error:
        raise SurgeryError(filename, 'fewshot.base_checkpoint',
                           'not found: the base training checkpoint to fine-tune from') from error
    meta = checkpoint.get('meta') or {}
    classes = (meta.get('dataset_meta') or {}).get('classes') or meta.get('CLASSES') or ()
    if not classes and classes_required:
        raise SurgeryError(filename, "meta['dataset_meta']['classes']",
                           'missing or empty: the checkpoint does not name its classes (it '
                           'may come without names only when every class is novel)')
    state_dict = checkpoint.get('state_dict', checkpoint)
    return SurgerySource(state_dict, tuple(classes), filename)


def _checked_rows(source: SurgerySource, key: str, rows: int,
                  required: bool) -> Optional[Tensor]:
    """Fetch ``key`` from ``source``, checking that it has ``rows`` rows.

    Returns None when the key is absent and not ``required`` (a bias-free classifier).
    """
    tensor = source.state_dict.get(key)
    if tensor is None:
        if required:
            raise SurgeryError(source.name, key, 'missing from the checkpoint')
        return None
    if tensor.dim() == 0 or tensor.shape[0] != rows:
        raise SurgeryError(
            source.name, key,
            f'shape {tuple(tensor.shape)} does not fit its {len(source.classes)} classes '
            f'(expected {rows} rows)')
    return tensor


def _map_rows(source: SurgerySource, key: str, placements: Sequence[Optional[int]],
              rows_per_class: int, background_rows: int, required: bool,
              generator: torch.Generator, std: float) -> Optional[Tensor]:
    """Build the target tensor of ``key`` class by class.

    Args:
        source (SurgerySource): The checkpoint.
        key (str): The state-dict key (a weight or a bias of ``fc_cls``/``fc_reg``).
        placements (Sequence[int | None]): For each target class, its class index in the
            checkpoint; None for a class drawn at random (weights from N(0, std), biases 0).
        rows_per_class (int): 1 for the classifier, the box size for the regressor.
        background_rows (int): Trailing rows kept from the checkpoint.
        required (bool): Whether the checkpoint must hold ``key`` (a bias may be absent).
        generator (torch.Generator): Source of the random rows.
        std (float): Standard deviation of the random weights.

    Returns:
        Tensor | None: The mapped tensor, or None when the checkpoint lacks ``key``.
    """
    found = _checked_rows(source, key, rows_per_class * len(source.classes) + background_rows,
                          required)
    if found is None:
        return None
    shape = (rows_per_class * len(placements) + background_rows, *found.shape[1:])
    if found.dim() > 1:
        out = (torch.randn(shape, generator=generator) * std).to(found.dtype)
    else:
        out = found.new_zeros(shape)
    for i, j in enumerate(placements):
        if j is not None:
            out[i * rows_per_class:(i + 1) * rows_per_class] = \
                found[j * rows_per_class:(j + 1) * rows_per_class]
    if background_rows:
        out[-background_rows:] = found[-background_rows:]
    return out


def _reg_class_agnostic(source: SurgerySource, key: str, declared: Optional[bool],
                        box_dim: int) -> bool:
    """Tell whether the regressor ``key`` of ``source`` is class-agnostic.

    ``declared`` None infers it: ``box_dim`` rows for several classes means agnostic.
    """
    weight = source.state_dict.get(key)
    if weight is None:
        raise SurgeryError(source.name, key, 'missing from the checkpoint')
    agnostic = declared if declared is not None else (
        tuple(weight.shape[:1]) == (box_dim, ) and len(source.classes) > 1)
    _checked_rows(source, key, box_dim if agnostic else box_dim * len(source.classes), True)
    return agnostic


def _place_classes(source: SurgerySource, dst_classes: Sequence[str],
                   novel_classes: Optional[Collection[str]]) -> list[Optional[int]]:
    """Each target class's index in the checkpoint (None: drawn at random)."""
    placements: list[Optional[int]] = []
    for name in dst_classes:
        if name in source.classes:
            placements.append(source.classes.index(name))
        elif novel_classes is not None and name not in novel_classes:
            raise SurgeryError(source.name, "meta['dataset_meta']['classes']",
                               f'class {name!r} is not in the checkpoint (its classes: '
                               f'{sorted(source.classes)})')
        else:
            placements.append(None)
    return placements


def surgery(source: SurgerySource,
            dst_classes: Sequence[str],
            method: str = 'randinit',
            *,
            novel_classes: Optional[Collection[str]] = None,
            seed: int = 0,
            std: float = 0.01,
            head_prefix: str = HEAD_PREFIX,
            reg_class_agnostic: Optional[bool] = None,
            box_dim: int = 4) -> dict[str, Tensor]:
    """Map the last layers of a box head onto ``dst_classes`` by class name.

    Args:
        source (SurgerySource): The trained model.
        dst_classes (Sequence[str]): The target class names, in the order of the
            fine-tuning dataset. Unused by ``remove``.
        method (str): ``'randinit'`` or ``'remove'`` (see the module docstring).
            Defaults to ``'randinit'``.
        novel_classes (Collection[str], optional): The only classes allowed to be missing
            from the checkpoint; None allows every target class to be missing.
        seed (int): Seed of the random rows. Defaults to 0.
        std (float): Standard deviation of the random weights. Defaults to 0.01.
        head_prefix (str): State-dict prefix of the bbox head.
            Defaults to ``'roi_head.bbox_head'``.
        reg_class_agnostic (bool, optional): Whether the regressor is class-agnostic
            (then kept whole). None infers it from its shape.
        box_dim (int): Regression outputs per class. Defaults to 4.

    Returns:
        dict[str, Tensor]: A new state dict: the checkpoint's weights with
        ``fc_cls``/``fc_reg`` mapped (or removed, for ``remove``).

    Raises:
        SurgeryError: For a class missing from the checkpoint or a head whose shape does
            not fit its classes.
        ValueError: For an unknown method or a target class list that is empty or repeats
            a class.
    """
    if method not in SURGERY_METHODS:
        raise ValueError(f'surgery: method: expected one of {SURGERY_METHODS}, '
                         f'got {method!r}')
    cls_key, reg_key = f'{head_prefix}.fc_cls', f'{head_prefix}.fc_reg'
    if method == 'remove':
        if f'{cls_key}.weight' not in source.state_dict:
            raise SurgeryError(source.name, f'{cls_key}.weight', 'missing from the checkpoint')
        return {
            key: value
            for key, value in source.state_dict.items()
            if not key.startswith((f'{cls_key}.', f'{reg_key}.'))
        }
    if not dst_classes or len(set(dst_classes)) != len(dst_classes):
        raise ValueError('surgery: dst_classes: must be non-empty and without repeats, got '
                         f'{list(dst_classes)}')
    placements = _place_classes(source, dst_classes, novel_classes)
    generator = torch.Generator().manual_seed(seed)
    state = dict(source.state_dict)
    for layer, rows_per_class, background_rows in ((cls_key, 1, 1), (reg_key, box_dim, 0)):
        if layer == reg_key and _reg_class_agnostic(source, f'{reg_key}.weight',
                                                    reg_class_agnostic, box_dim):
            continue  # one box for every class: kept as it is
        for param, required in (('weight', True), ('bias', False)):
            key = f'{layer}.{param}'
            mapped = _map_rows(source, key, placements, rows_per_class, background_rows,
                               required, generator, std)
            if mapped is not None:
                state[key] = mapped
    drawn = [name for name, place in zip(dst_classes, placements) if place is None]
    print_log(
        f'Weight surgery ({method}): {len(dst_classes) - len(drawn)} classes copied by name '
        f'from {source.name}; {len(drawn)} drawn from N(0, {std}) with seed {seed}: {drawn}',
        logger='current')
    return state
