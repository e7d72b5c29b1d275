"""The k-shot rule and selection files: per class, the instances in canonical order
(:func:`instance_sort_key`) shuffled by :func:`~.stable_random.stable_shuffle` seeded from
``(seed, class)``, and the first ``k`` kept (all if fewer)."""
import json
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ..fileio import dump_json_atomic
from .stable_random import stable_shuffle

SELECTION_FORMAT = 'mmfs_plugin.kshot/2'
#: The first format (instance keys only) is still read.
SELECTION_FORMAT_V1 = 'mmfs_plugin.kshot/1'
#: ``base_shots`` value meaning "every instance of the base classes".
ALL_SHOTS = 'all'

Shots = Union[int, str, None]


def instance_key(source: str, index: int) -> str:
    """Name one instance ``'<source>#<index>'``, e.g. ``'annotations/train.json#42'`` (each
    format's source and index: docs/architecture.md, "Instance keys")."""
    return f'{source}#{index}'


def instance_sort_key(key: str) -> Tuple[str, int]:
    """The canonical order of instance keys: ``(source, index)``; a bare COCO annotation id
    ``'42'`` (``mmfs_plugin.kshot/1`` files) as ``('', 42)``.

    Raises:
        ValueError: The key is neither form.
    """
    source, _, index = key.rpartition('#')
    if not index.isdigit() or (not source and '#' in key):
        raise ValueError(f'{key!r} is not an instance key ("<source>#<index>" or a COCO '
                         f'annotation id)')
    return source, int(index)


def canonical_order(keys: Sequence[str]) -> List[str]:
    """Sort instance keys into the canonical order (:func:`instance_sort_key`)."""
    return sorted(keys, key=instance_sort_key)


def check_seed(seed: object, where: str = 'seed') -> int:
    """Check a seed of the k-shot rule: an int, nothing else. The rule hashes the seed's text,
    so ``1.0``, ``True`` or ``'1'`` would draw another selection than ``1`` (or one that a
    selection file cannot hold).

    Args:
        seed (object): The seed as given.
        where (str): What to name in errors. Defaults to ``'seed'``.

    Returns:
        int: The seed.

    Raises:
        ValueError: The seed is not an int (a bool, float or str included).
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f'{where}: must be an int, got {seed!r} ({type(seed).__name__})')
    return seed


def select_kshot(candidates: Mapping[str, Sequence[str]], shots: Mapping[str, Optional[int]],
                 seed: int) -> Dict[str, List[str]]:
    """Apply the k-shot rule to every class.

    Args:
        candidates (Mapping[str, Sequence[str]]): Class name -> instance keys of that class.
        shots (Mapping[str, int | None]): Class name -> k (None keeps every instance).
        seed (int): The seed.

    Returns:
        dict[str, list[str]]: Class name -> selected instance keys, in canonical order.

    Raises:
        ValueError: The seed is not an int (:func:`check_seed`), or a k is negative.
    """
    check_seed(seed)
    selection = {}
    for class_name, keys in candidates.items():
        ordered = canonical_order(keys)
        k = shots.get(class_name)
        if k is None:
            selection[class_name] = ordered
            continue
        if k < 0:
            raise ValueError(f'shots for {class_name!r} must be >= 0, got {k}')
        chosen = set(stable_shuffle(ordered, seed, class_name)[:k])
        selection[class_name] = [key for key in ordered if key in chosen]
    return selection


def shots_per_class(base_classes: Sequence[str], novel_classes: Sequence[str], shots: Shots,
                    base_shots: Shots = None) -> Dict[str, Optional[int]]:
    """Return k for every class of a fine-tuning set.

    Args:
        base_classes (Sequence[str]): The base classes of the label space.
        novel_classes (Sequence[str]): The novel classes of the label space.
        shots (int | None): k for the novel classes (None: every instance).
        base_shots (int | 'all' | None): k for the base classes. None: the same as ``shots``
            (G-FSOD, TFA); ``'all'``: every instance.

    Returns:
        dict[str, int | None]: Class name -> k (None: every instance).
    """
    for name, value in (('shots', shots), ('base_shots', base_shots)):
        if value is not None and value != ALL_SHOTS and (not isinstance(value, int)
                                                         or value < 0):
            raise ValueError(f'{name} must be a non-negative int, None or {ALL_SHOTS!r}, '
                             f'got {value!r}')
    novel_k = None if shots == ALL_SHOTS else shots
    base_k = novel_k if base_shots is None else (None if base_shots == ALL_SHOTS else base_shots)
    result: Dict[str, Optional[int]] = {name: base_k for name in base_classes}
    result.update({name: novel_k for name in novel_classes})
    return result


@dataclass(frozen=True)
class ObjectRef:
    """What an instance key names: the object's image and box, stable across re-exports.

    Args:
        image (str): The image file relative to the dataset's ``data_root`` (a labelme file
            with an embedded image: its JSON file).
        bbox (tuple[float, float, float, float]): ``(x1, y1, x2, y2)`` in pixels, as read.
    """
    image: str
    bbox: Tuple[float, float, float, float]

    def place(self) -> Tuple[str, Tuple[float, ...]]:
        """The image and the box rounded to 0.01 px: equal for the same physical object."""
        return self.image, tuple(round(float(v), 2) for v in self.bbox)


@dataclass
class KShotSelection:
    """A k-shot selection and how it was made.

    Args:
        seed (int): The seed of the rule.
        shots (int | None): k of the novel classes.
        base_shots (int | str | None): k of the base classes (as given).
        classes (list[str]): The label space the selection was made for.
        selection (dict[str, list[str]]): Class name -> selected instance keys.
        objects (dict[str, ObjectRef]): Instance key -> its image and box, for the keys that
            have them (a selection drawn by the plugin has them for every key; one read from
            a ``mmfs_plugin.kshot/1`` file has none).
    """
    seed: int
    shots: Shots
    base_shots: Shots
    classes: List[str]
    selection: Dict[str, List[str]] = field(default_factory=dict)
    objects: Dict[str, ObjectRef] = field(default_factory=dict)

    @property
    def selected_keys(self) -> Dict[str, str]:
        """Instance key -> its class, over every class."""
        return {key: name for name, keys in self.selection.items() for key in keys}

    def save(self, path: str) -> None:
        """Write the selection to ``path`` as JSON, atomically; each shot is ``{"key": ...,
        "image": ..., "bbox": [x1, y1, x2, y2]}`` (``image`` and ``bbox`` when known)."""
        def shot(key: str) -> Dict[str, object]:
            ref = self.objects.get(key)
            return {'key': key} if ref is None else {'key': key, 'image': ref.image,
                                                     'bbox': [float(v) for v in ref.bbox]}

        dump_json_atomic(
            dict(format=SELECTION_FORMAT, seed=self.seed, shots=self.shots,
                 base_shots=self.base_shots, classes=list(self.classes),
                 selection={name: [shot(key) for key in keys]
                            for name, keys in self.selection.items()}), path)

    @classmethod
    def load(cls, path: str) -> 'KShotSelection':
        """Read a selection written by :meth:`save` (or by the first format, keys only).

        Raises:
            ValueError: The file is not a selection file; the message names the file and
                the field.
        """
        try:
            with open(path, encoding='utf-8') as f:
                data = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise ValueError(f'{path}: cannot read the k-shot selection file: {e}') from e
        if not isinstance(data, dict) or data.get('format') not in (SELECTION_FORMAT,
                                                                    SELECTION_FORMAT_V1):
            raise ValueError(f'{path}: format: not a k-shot selection file '
                             f'(expected "format": "{SELECTION_FORMAT}")')
        check_seed(data.get('seed'), f'{path}: seed')
        for key, kind in (('classes', list), ('selection', dict)):
            if not isinstance(data.get(key), kind):
                raise ValueError(f'{path}: {key}: expected {kind.__name__}, '
                                 f'got {type(data.get(key)).__name__}')
        selection: Dict[str, List[str]] = {}
        objects: Dict[str, ObjectRef] = {}
        for name, shots in data['selection'].items():
            if not isinstance(shots, list):
                raise ValueError(f'{path}: selection.{name}: expected a list of shots')
            selection[name] = []
            for i, shot in enumerate(shots):
                key, ref = _read_shot(shot, f'{path}: selection.{name}[{i}]')
                selection[name].append(key)
                if ref is not None:
                    objects[key] = ref
        return cls(seed=data['seed'], shots=data.get('shots'), base_shots=data.get('base_shots'),
                   classes=data['classes'], selection=selection, objects=objects)


def _read_shot(shot: object, where: str) -> Tuple[str, Optional[ObjectRef]]:
    """One shot of a selection file: a key (format 1) or ``{"key", "image", "bbox"}``."""
    if isinstance(shot, str):
        instance_sort_key(shot)
        return shot, None
    if not isinstance(shot, dict) or not isinstance(shot.get('key'), str):
        raise ValueError(f'{where}: expected {{"key": ..., "image": ..., "bbox": ...}}')
    instance_sort_key(shot['key'])
    if 'image' not in shot and 'bbox' not in shot:
        return shot['key'], None
    bbox = shot.get('bbox')
    if (not isinstance(shot.get('image'), str) or not isinstance(bbox, list) or len(bbox) != 4
            or not all(isinstance(v, (int, float)) for v in bbox)):
        raise ValueError(f'{where}: image and bbox ([x1, y1, x2, y2]) expected together')
    return shot['key'], ObjectRef(shot['image'], tuple(float(v) for v in bbox))
