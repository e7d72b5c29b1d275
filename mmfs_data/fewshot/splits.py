"""Base/novel class splits, chosen in the config (never by editing code) and resolved over a
dataset's classes; the named ones, with their sources, are data in ``class_splits.json``."""
import json
import os
from typing import Any, Dict, List, Mapping, Sequence, Tuple, Union

from .classes import class_category, did_you_mean, near_match

_HERE = os.path.dirname(os.path.abspath(__file__))
NAMED_SPLITS_FILE = os.path.join(_HERE, 'class_splits.json')

SplitSpec = Union[None, str, Mapping[str, Any]]

#: The keys of a split spec that hold a list of names (of categories for ``novel_categories``).
_LIST_KEYS = ('novel', 'novel_classes', 'base', 'base_classes', 'novel_categories')
#: The other keys a split spec may hold, beside notes named ``_...`` (``_comment``, and
#: mmengine's ``_delete_`` where nothing was merged).
_NOTE_KEYS = ('description', 'source')


def named_splits() -> Dict[str, Dict[str, List[str]]]:
    """Return the named splits of ``class_splits.json`` (name -> spec)."""
    with open(NAMED_SPLITS_FILE, encoding='utf-8') as f:
        table = json.load(f)
    return {name: spec for name, spec in table.items() if not name.startswith('_')}


def _load_spec(spec: SplitSpec) -> Tuple[Mapping[str, Any], bool]:
    """Turn a split name or a JSON file path into its dict form.

    Returns:
        tuple[Mapping, bool]: The spec, and whether it is a named split. A named split describes
        all of MVTec-FS, so it is restricted to the dataset's classes; any other spec must name
        only classes (and categories) of the dataset.
    """
    if spec is None:
        return {'novel': []}, False
    if isinstance(spec, Mapping):
        return spec, False
    if isinstance(spec, str):
        splits = named_splits()
        if spec in splits:
            return splits[spec], True
        if spec.endswith('.json') and os.path.isfile(spec):
            with open(spec, encoding='utf-8') as f:
                loaded = json.load(f)
            if not isinstance(loaded, Mapping):
                raise ValueError(f'{spec}: a split file holds a JSON object with "novel" '
                                 f'(and optionally "base") class lists')
            return loaded, False
        raise ValueError(f'class split {spec!r}: neither a named split ({sorted(splits)}) '
                         f'nor an existing .json file')
    raise TypeError(f'class split must be None, a name, a path or a dict, got {type(spec)}')


def _check_keys(spec: Mapping[str, Any], where: str) -> None:
    """Refuse a key a split does not take (a typo would leave its classes base without a word)
    and a list given twice (``novel`` with ``novel_classes``: one would be ignored)."""
    for key in spec:
        if key not in _LIST_KEYS + _NOTE_KEYS and not str(key).startswith('_'):
            near = near_match(str(key), _LIST_KEYS)
            raise ValueError(f'{where}: unknown key {key!r}'
                             f'{f" (did you mean {near!r}?)" if near else ""}; a split takes '
                             f'{list(_LIST_KEYS)}')
    given = [key for key in _LIST_KEYS if spec.get(key) is not None]
    novel = [key for key in given if key.startswith('novel')]
    base = [key for key in given if key.startswith('base')]
    if len(novel) > 1 or len(base) > 1 or ('novel_categories' in given and base):
        raise ValueError(f'{where}: {given} given together: give the novel classes (or '
                         'novel_categories) once, and the base classes at most once, beside '
                         "novel classes only (merged into a base config's split? "
                         'class_split=dict(_delete_=True, ...) replaces it)')


def get_split(spec: SplitSpec, classes: Sequence[str]) -> Tuple[List[str], List[str]]:
    """Resolve a base/novel split over a dataset's classes.

    Args:
        spec (None | str | Mapping): None (every class is base); a name in
            ``class_splits.json`` (MVTec-FS's ``'split1'``-``'split3'`` and
            ``'defect_split1'``, ``'voc_split1'``-``'voc_split3'``, ``'coco_fsod'``); a JSON
            file; or a dict of ``novel`` and/or ``base`` class lists, or ``novel_categories``.
        classes (Sequence[str]): The dataset's classes, in their order.

    Returns:
        tuple[list[str], list[str]]: Base and novel classes, each in the order of ``classes``.

    Raises:
        ValueError: A named class or category is not among ``classes`` (a named split: none of
            its novel ones is), a class is both base and novel, or the spec has an unknown form
            or key, or gives a list twice (``novel`` and ``novel_classes``).
        TypeError: A list of the spec (``novel``, ``base``, ...) is not a list or tuple, e.g.
            ``dict(novel='crack')``.
    """
    where = spec if isinstance(spec, str) else 'class split'
    spec, named = _load_spec(spec)
    for key in _LIST_KEYS:
        value = spec.get(key)
        if value is not None and not isinstance(value, (list, tuple)):
            names = 'categories' if key == 'novel_categories' else 'class names'
            example = f': {key}=[{value!r}]' if isinstance(value, str) else ''
            raise TypeError(f'{where}: {key} must be a list or tuple of {names}, got '
                            f'{type(value).__name__} {value!r}{example}')
    _check_keys(spec, where)
    keys = {key for key in spec if key in _LIST_KEYS}
    class_set = set(classes)
    if 'novel_categories' in keys:
        wanted = set(spec['novel_categories'])
        found = {class_category(name) for name in classes}
        if None in found:
            plain = [name for name in classes if class_category(name) is None][:3]
            raise ValueError(f'{where}: a split by categories (novel_categories, e.g. '
                             'MVTec-FS\'s split1-3) needs "<category>/<defect>" class names; '
                             f'these classes have none, e.g. {plain}: give the novel classes '
                             'by name, dict(novel=[...])')
        missing = sorted(wanted - found)
        if missing and not named:
            raise ValueError(f'{where}: novel_categories {missing}: none of them is among the '
                             f'dataset categories {sorted(found)}')
        novel_set = {name for name in classes if class_category(name) in wanted}
    elif keys & {'novel', 'novel_classes', 'base', 'base_classes'}:
        novel = list(spec.get('novel', spec.get('novel_classes', [])))
        base = spec.get('base', spec.get('base_classes'))
        unknown = [name for name in novel + list(base or []) if name not in class_set]
        if unknown and not named:
            hints = ''.join(f'; {name!r}: {did_you_mean(name, classes)}'
                            for name in unknown if did_you_mean(name, classes))
            raise ValueError(f'{where}: classes {unknown} are not among the dataset classes '
                             f'{list(classes)}{hints} (a dataset without '
                             "metainfo=dict(classes=...) has its type's default classes)")
        novel = [name for name in novel if name in class_set]
        if base is not None:
            both = sorted(set(base) & set(novel))
            if both:
                raise ValueError(f'{where}: classes {both} are both base and novel')
            if not novel:
                novel = [name for name in classes if name not in set(base)]
            else:
                rest = [name for name in classes if name not in set(base) | set(novel)]
                if rest:
                    raise ValueError(f'{where}: classes {rest} are neither base nor novel')
        novel_set = set(novel)
    else:
        raise ValueError(f'{where}: a split needs "novel", "base" or "novel_categories", '
                         f'got keys {sorted(spec)}')
    base_list = [name for name in classes if name not in novel_set]
    novel_list = [name for name in classes if name in novel_set]
    if named and not novel_list:
        named_novel = list(spec.get('novel_categories') or spec.get('novel') or [])
        raise ValueError(f'{where}: none of its novel classes (categories) {named_novel[:6]}'
                         f'{" ..." if len(named_novel) > 6 else ""} is among the dataset '
                         f'classes {list(classes)}: the named split is for another dataset; '
                         'give your novel classes, class_split=dict(novel=[...]), or no '
                         'class_split when every class is base')
    return base_list, novel_list
