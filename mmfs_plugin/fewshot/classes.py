"""Class names: checking a class list, the category of a class, labels that look alike.

One place answers "which category does a class belong to": :func:`class_category` (the part of
``<category>/<defect>`` before the ``/``). Pure: imports neither torch nor mmdet.
"""
from collections import defaultdict
from typing import Any, Dict, Iterable, List, Optional, Tuple


def class_category(name: str) -> Optional[str]:
    """Return the category of a ``<category>/<defect>`` class name, or None without a ``/``.

    Args:
        name (str): A class name, e.g. ``'bottle/broken_large'``.

    Returns:
        str | None: ``'bottle'``; None for a name such as ``'crack'``.
    """
    return name.split('/', 1)[0] if '/' in name else None


def check_class_names(classes: Any, where: str = 'classes') -> Tuple[str, ...]:
    """Check a class list given by a user and return it as a tuple.

    Args:
        classes (Any): The list, e.g. ``metainfo['classes']`` of a config.
        where (str): What to name in errors, e.g. ``'metainfo.classes'``. Defaults to
            ``'classes'``.

    Returns:
        tuple[str, ...]: The class names, in their order.

    Raises:
        TypeError: ``classes`` is a string (``('balloon')`` is a string: the classic missing
            comma of a one-class tuple) or not a sequence of strings.
        ValueError: A name is empty or listed more than once.
    """
    if isinstance(classes, str):
        raise TypeError(f'{where}: must be a sequence of class names, got the str {classes!r} '
                        f'(a one-class tuple needs a comma: ({classes!r},))')
    if not isinstance(classes, (list, tuple)):
        raise TypeError(f'{where}: must be a sequence of class names, got '
                        f'{type(classes).__name__}')
    names = tuple(classes)
    bad = [name for name in names if not isinstance(name, str) or not name]
    if bad:
        raise TypeError(f'{where}: every class name must be a non-empty str, got {bad!r}')
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f'{where}: listed more than once: {repeated}')
    return names


def near_duplicate_labels(labels: Iterable[str]) -> List[List[str]]:
    """Group labels that differ only in letter case or surrounding white space.

    ``'Scratch'``, ``'scratch'`` and ``'scratch '`` are three classes to a dataset but most
    likely one defect to the person who typed them.

    Args:
        labels (Iterable[str]): Labels (repeats allowed).

    Returns:
        list[list[str]]: Each group of two or more distinct labels, sorted; groups sorted.
    """
    groups: Dict[str, set] = defaultdict(set)
    for label in labels:
        groups[label.strip().casefold()].add(label)
    return sorted(sorted(group) for group in groups.values() if len(group) > 1)
