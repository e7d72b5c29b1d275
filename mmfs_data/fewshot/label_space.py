"""The label space of a few-shot setting, from the config alone: ``'base'`` (base classes),
``'gfsod'`` (every class, TFA's generalized FSOD) or ``'fsod'`` (novel classes), in the
dataset's class order."""
from dataclasses import dataclass
from typing import Dict, Sequence, Tuple

from .classes import check_class_names
from .splits import SplitSpec, get_split

#: setting -> which classes of the split form the label space.
SETTINGS: Dict[str, str] = {'base': 'base', 'gfsod': 'all', 'fsod': 'novel'}


@dataclass(frozen=True)
class LabelSpace:
    """The classes of a few-shot setting and the split they come from.

    Args:
        classes (tuple[str, ...]): The label space; label ``i`` is ``classes[i]``.
        base_classes (tuple[str, ...]): The base classes inside the label space.
        novel_classes (tuple[str, ...]): The novel classes inside the label space.
        all_classes (tuple[str, ...]): Every class of the dataset (the superset).
        setting (str): ``'base'``, ``'gfsod'`` or ``'fsod'``.
    """
    classes: Tuple[str, ...]
    base_classes: Tuple[str, ...]
    novel_classes: Tuple[str, ...]
    all_classes: Tuple[str, ...]
    setting: str

    @property
    def label_of(self) -> Dict[str, int]:
        """Class name -> label, for the classes of the label space."""
        return {name: label for label, name in enumerate(self.classes)}

    @property
    def num_classes(self) -> int:
        """The size of the label space (a box head's ``num_classes``)."""
        return len(self.classes)


def resolve_label_space(all_classes: Sequence[str], class_split: SplitSpec = None,
                        setting: str = 'gfsod') -> LabelSpace:
    """Resolve the label space of a setting over a dataset's classes.

    Args:
        all_classes (Sequence[str]): Every class of the dataset, in its order.
        class_split (None | str | Mapping): The base/novel split (see :mod:`.splits`).
            Defaults to None: every class is base.
        setting (str): ``'base'``, ``'gfsod'`` or ``'fsod'``. Defaults to ``'gfsod'``.

    Returns:
        LabelSpace: The label space.

    Raises:
        ValueError: Unknown setting, a split naming unknown classes, or an empty label space.
        TypeError: ``all_classes`` is not a sequence of names, or a list of the split is not
            a list or tuple (``dict(novel='crack')``).
    """
    if setting not in SETTINGS:
        raise ValueError(f'setting must be one of {sorted(SETTINGS)}, got {setting!r}')
    all_classes = check_class_names(all_classes)
    base, novel = get_split(class_split, all_classes)
    chosen = {'base': base, 'all': list(all_classes), 'novel': novel}[SETTINGS[setting]]
    if not chosen:
        raise ValueError(f'setting {setting!r}: the label space is empty (split '
                         f'{class_split!r}: {len(base)} base, {len(novel)} novel classes)')
    chosen_set = set(chosen)
    return LabelSpace(classes=tuple(chosen),
                      base_classes=tuple(name for name in base if name in chosen_set),
                      novel_classes=tuple(name for name in novel if name in chosen_set),
                      all_classes=all_classes, setting=setting)
