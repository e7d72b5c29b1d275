"""Class names: checking a class list, the category of a class (:func:`class_category`, the one
place that answers it), labels that look alike."""
import difflib
import unicodedata
from collections import defaultdict
from typing import Any, Collection, Dict, Iterable, List, Optional, Tuple


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
    """Group labels that differ only in letter case or surrounding white space (``'Scratch'``,
    ``'scratch '``: three classes to a dataset, likely one defect to its author).

    Args:
        labels (Iterable[str]): Labels (repeats allowed).

    Returns:
        list[list[str]]: Each group of two or more distinct labels, sorted; groups sorted.
    """
    groups: Dict[str, set] = defaultdict(set)
    for label in labels:
        groups[label.strip().casefold()].add(label)
    return sorted(sorted(group) for group in groups.values() if len(group) > 1)


#: The Unicode normalization forms named when two names differ only in normalization.
_FORMS = ('NFC', 'NFD')


def _nfc(name: str) -> str:
    return unicodedata.normalize('NFC', name)


def near_match(name: str, classes: Collection[str]) -> Optional[str]:
    """Return the class that ``name`` most likely meant: one equal but for Unicode
    normalization (``'é'`` as one code point or as ``'e'`` and a combining accent), else one
    equal but for surrounding space, else one equal but for case and surrounding space, else
    the closest spelling (:func:`difflib.get_close_matches`, ratio >= 0.7), or None.

    Args:
        name (str): A label found in the data, or a class name given in a config.
        classes (Collection[str]): The names it is compared with.

    Returns:
        str | None: The near match, if any (``'crack '`` among ``'Crack'`` and ``'crack'``:
        ``'crack'``).
    """
    for same_as in (_nfc, str.strip, lambda c: c.strip().casefold()):
        same = sorted(c for c in classes if c != name and same_as(c) == same_as(name))
        if same:
            return same[0]
    close = difflib.get_close_matches(name, sorted(classes), n=1, cutoff=0.7)
    return close[0] if close else None


def did_you_mean(name: str, classes: Collection[str]) -> Optional[str]:
    """Say which class ``name`` most likely meant (:func:`near_match`), and that the two differ
    only in Unicode normalization where they do: they print alike, and labels are compared as
    written, never normalized.

    Args:
        name (str): A label found in the data, or a class name given in a config.
        classes (Collection[str]): The names it is compared with.

    Returns:
        str | None: E.g. ``"did you mean 'inclusion'?"``, or ``"did you mean 'tache é'? It
        differs only in Unicode normalization, NFD vs NFC: write it as 'tache é' is written,
        in NFC"``; None without a near match.
    """
    near = near_match(name, classes)
    if near is None:
        return None
    if _nfc(near) != _nfc(name):
        return f'did you mean {near!r}?'
    return (f'did you mean {near!r}? It differs only in Unicode normalization, '
            f'{_form(name)} vs {_form(near)}: write it as {near!r} is written, in '
            f'{_form(near)}')


def _form(name: str) -> str:
    """The Unicode normalization form a name is in (``'NFC'``, ``'NFD'``), or ``'mixed'``."""
    return next((form for form in _FORMS if unicodedata.is_normalized(form, name)), 'mixed')


def not_a_class(label: str, classes: Collection[str], name: Optional[str] = None) -> str:
    """Say that a label is none of the classes, listing them and a near match.

    Args:
        label (str): The label as found in the data.
        classes (Collection[str]): The configured classes.
        name (str, optional): The class name the label maps to, when it differs from it
            (e.g. MVTec-FS's ``'<category>/<defect>'``). Defaults to None: the label itself.

    Returns:
        str: E.g. ``"'inclusoin' is not one of the 3 classes ['a', 'b', 'inclusion']; did you
        mean 'inclusion'?"``.
    """
    name = label if name is None else name
    shown = sorted(classes)
    listing = f'{shown}' if len(shown) <= 12 else f'{shown[:12]} and {len(shown) - 12} more'
    said = f'{label!r}' if name == label else f'{label!r}, class {name!r},'
    near = did_you_mean(name, shown)
    hint = f'; {near}' if near else ''
    return f'{said} is not one of the {len(shown)} classes {listing}{hint}'
