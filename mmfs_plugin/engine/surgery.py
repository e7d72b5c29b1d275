"""Weight surgery: map the class rows of a box head's last layers from one class list to another.

mmdet's bbox heads end in ``fc_cls`` (``num_classes + 1`` rows, background LAST) and ``fc_reg``
(``4 * num_classes`` rows, class ``i`` in rows ``4i..4i+3``; 4 rows when class-agnostic). Rows
are mapped BY CLASS NAME: a checkpoint names its classes in ``meta['dataset_meta']['classes']``,
so a permuted or extended class list still lands each row on its class.

Methods (as TFA's ``ckpt_surgery.py``):

- ``randinit``: one source (the base model). Target classes it knows are copied; the others
  (novel) get weights drawn from N(0, ``std``) and zero biases. The background row is kept.
- ``combine``: several sources (the base model, then a model trained on the novel classes).
  Every target class is copied from the first source that knows it; none may be missing.
  Background row and all other weights come from the first source.
- ``remove``: the classifier and regressor are dropped, so the model keeps its own freshly
  initialised last layers (fine-tuning a novel-only detector from the base features).

Every other weight is taken from the first source unchanged. A classifier without bias (the
cosine head) is handled: biases are mapped only where the checkpoint has them.
"""
from dataclasses import dataclass
from typing import Collection, Mapping, Optional, Sequence

import torch
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader
from torch import Tensor

from mmfs_data.errors import FieldError

HEAD_PREFIX = 'roi_head.bbox_head'
SURGERY_METHODS = ('randinit', 'combine', 'remove')


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


def load_surgery_source(filename: str) -> SurgerySource:
    """Load a checkpoint saved by mmengine and the class names in its metadata.

    Args:
        filename (str): Path or URI understood by mmengine's ``CheckpointLoader``.

    Returns:
        SurgerySource: Its ``state_dict`` and ``meta['dataset_meta']['classes']``.

    Raises:
        SurgeryError: If the checkpoint does not name its classes.
    """
    checkpoint = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
    meta = checkpoint.get('meta') or {}
    classes = (meta.get('dataset_meta') or {}).get('classes')
    if not classes:
        raise SurgeryError(filename, "meta['dataset_meta']['classes']",
                           'missing or empty: the checkpoint does not name its classes')
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


def _map_rows(sources: Sequence[SurgerySource], key: str,
              placements: Sequence[Optional[tuple[int, int]]], rows_per_class: int,
              background_rows: int, required: bool, generator: torch.Generator,
              std: float) -> Optional[Tensor]:
    """Build the target tensor of ``key`` class by class.

    Args:
        sources (Sequence[SurgerySource]): The checkpoints; the first gives the
            background rows.
        key (str): The state-dict key (a weight or a bias of ``fc_cls``/``fc_reg``).
        placements (Sequence[tuple[int, int] | None]): For each target class, the
            index of the source holding it and its class index there; None for a class
            drawn at random (weights from N(0, std), biases zero).
        rows_per_class (int): 1 for the classifier, the box size for the regressor.
        background_rows (int): Trailing rows taken from the first source.
        required (bool): Whether every source must hold ``key`` (weights must,
            biases may be absent: rows from a source without bias get zeros).
        generator (torch.Generator): Source of the random rows.
        std (float): Standard deviation of the random weights.

    Returns:
        Tensor | None: The mapped tensor, or None when the first source lacks ``key``
        (the target has no such parameter).
    """
    found = [
        _checked_rows(src, key, rows_per_class * len(src.classes) + background_rows,
                      required) for src in sources
    ]
    first = found[0]
    if first is None:
        return None
    for src, tensor in zip(sources[1:], found[1:]):
        if tensor is not None and tensor.shape[1:] != first.shape[1:]:
            raise SurgeryError(src.name, key, f'shape {tuple(tensor.shape)} does not match '
                               f'{tuple(first.shape)} in {sources[0].name}')
    shape = (rows_per_class * len(placements) + background_rows, *first.shape[1:])
    if first.dim() > 1:
        out = (torch.randn(shape, generator=generator) * std).to(first.dtype)
    else:
        out = first.new_zeros(shape)
    for i, placement in enumerate(placements):
        if placement is None or found[placement[0]] is None:
            continue
        owner, j = placement
        out[i * rows_per_class:(i + 1) * rows_per_class] = \
            found[owner][j * rows_per_class:(j + 1) * rows_per_class]
    if background_rows:
        out[-background_rows:] = first[-background_rows:]
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


def _place_classes(sources: Sequence[SurgerySource], dst_classes: Sequence[str],
                   method: str, novel_classes: Optional[Collection[str]]
                   ) -> list[Optional[tuple[int, int]]]:
    """Find each target class in the first source holding it (None: drawn at random)."""
    placements: list[Optional[tuple[int, int]]] = []
    for name in dst_classes:
        owner = next((i for i, src in enumerate(sources) if name in src.classes), None)
        if owner is not None:
            placements.append((owner, sources[owner].classes.index(name)))
        elif method == 'combine' or (novel_classes is not None
                                     and name not in novel_classes):
            files = ', '.join(src.name for src in sources)
            known = sorted({c for src in sources for c in src.classes})
            raise SurgeryError(files, "meta['dataset_meta']['classes']",
                               f'class {name!r} is not in the checkpoint (its classes: '
                               f'{known})')
        else:
            placements.append(None)
    return placements


def surgery(sources: Sequence[SurgerySource],
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
        sources (Sequence[SurgerySource]): The trained models: one for ``randinit``
            and ``remove``, at least two for ``combine`` (base first).
        dst_classes (Sequence[str]): The target class names, in the order of the
            fine-tuning dataset. Unused by ``remove``.
        method (str): ``'randinit'``, ``'combine'`` or ``'remove'`` (see the module
            docstring). Defaults to ``'randinit'``.
        novel_classes (Collection[str], optional): For ``randinit``, the only classes
            allowed to be missing from the checkpoint; any other missing class is an
            error (a base class that is not where it should be). None allows every
            target class to be missing. ``combine`` allows none.
        seed (int): Seed of the random rows. Defaults to 0.
        std (float): Standard deviation of the random weights. Defaults to 0.01.
        head_prefix (str): State-dict prefix of the bbox head.
            Defaults to ``'roi_head.bbox_head'``.
        reg_class_agnostic (bool, optional): Whether the regressor is class-agnostic
            (then copied whole from the first source). None infers it from its shape.
        box_dim (int): Regression outputs per class. Defaults to 4.

    Returns:
        dict[str, Tensor]: A new state dict: the first source's weights with
        ``fc_cls``/``fc_reg`` mapped (or removed, for ``remove``).

    Raises:
        SurgeryError: For a class missing from the checkpoints, a head whose shape does
            not fit its classes or differs between sources, or a missing head.
        ValueError: For an unknown method, a wrong number of sources or a target class
            list that is empty or repeats a class.
    """
    if method not in SURGERY_METHODS:
        raise ValueError(f'surgery: method: expected one of {SURGERY_METHODS}, '
                         f'got {method!r}')
    wanted = 'at least 2' if method == 'combine' else 'exactly 1'
    if (len(sources) >= 2) != (method == 'combine') or not sources:
        raise ValueError(f'surgery: sources: method {method!r} takes {wanted} checkpoint(s), '
                         f'got {len(sources)}')
    cls_key, reg_key = f'{head_prefix}.fc_cls', f'{head_prefix}.fc_reg'
    base = sources[0]
    if method == 'remove':
        if f'{cls_key}.weight' not in base.state_dict:
            raise SurgeryError(base.name, f'{cls_key}.weight', 'missing from the checkpoint')
        return {
            key: value
            for key, value in base.state_dict.items()
            if not key.startswith((f'{cls_key}.', f'{reg_key}.'))
        }
    if not dst_classes or len(set(dst_classes)) != len(dst_classes):
        raise ValueError('surgery: dst_classes: must be non-empty and without repeats, got '
                         f'{list(dst_classes)}')
    placements = _place_classes(sources, dst_classes, method, novel_classes)
    generator = torch.Generator().manual_seed(seed)
    state = dict(base.state_dict)
    for layer, rows_per_class, background_rows in ((cls_key, 1, 1), (reg_key, box_dim, 0)):
        if layer == reg_key and _reg_class_agnostic(base, f'{reg_key}.weight',
                                                    reg_class_agnostic, box_dim):
            continue  # one box for every class: kept as it is
        for param, required in (('weight', True), ('bias', False)):
            key = f'{layer}.{param}'
            mapped = _map_rows(sources, key, placements, rows_per_class, background_rows,
                               required, generator, std)
            if mapped is not None:
                state[key] = mapped
    drawn = [name for name, place in zip(dst_classes, placements) if place is None]
    print_log(
        f'Weight surgery ({method}): {len(dst_classes) - len(drawn)} classes copied by name '
        f'from {", ".join(src.name for src in sources)}; {len(drawn)} drawn from '
        f'N(0, {std}) with seed {seed}: {drawn}',
        logger='current')
    return state
