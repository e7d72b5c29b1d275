"""What a few-shot dataset holds, said before training starts.

:func:`class_table` counts, per class of the label space, the images and instances that the
data offers and that the run uses; :func:`shortfalls` names the classes asked for more shots
than they have. Pure: imports neither torch nor mmdet.
"""
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from .label_space import LabelSpace


def _count(entries: Sequence[Mapping], classes: Sequence[str],
           wanted: Sequence[str]) -> Dict[str, Tuple[int, int]]:
    """Class -> (images, non-ignored instances), labels indexing ``classes``."""
    images = {name: 0 for name in wanted}
    instances = {name: 0 for name in wanted}
    for entry in entries:
        seen = set()
        for inst in entry['instances']:
            label = inst['bbox_label']
            if label < 0 or inst.get('ignore_flag', 0) or classes[label] not in images:
                continue
            instances[classes[label]] += 1
            seen.add(classes[label])
        for name in seen:
            images[name] += 1
    return {name: (images[name], instances[name]) for name in wanted}


def class_table(available: Sequence[Mapping], used: Sequence[Mapping],
                label_space: LabelSpace, title: str,
                shots: Optional[Mapping[str, int]] = None) -> str:
    """A table of what each class offers and what the run uses.

    Args:
        available (Sequence[dict]): The entries as read (labels indexing
            ``label_space.all_classes``).
        used (Sequence[dict]): The entries after the protocol (labels indexing
            ``label_space.classes``).
        label_space (LabelSpace): The label space.
        title (str): The first line.
        shots (Mapping[str, int], optional): Class -> number of selected shots; None when no
            selection was made (every instance is used).

    Returns:
        str: One line per class: its split, images and instances available, shots, images and
        instances used (non-ignored), and a totals line.
    """
    names = list(label_space.classes)
    have = _count(available, label_space.all_classes, names)
    use = _count(used, label_space.classes, names)
    novel = set(label_space.novel_classes)
    width = max([len('class')] + [len(name) for name in names])
    lines = [title, f'{"class":<{width}}  split  avail img  avail inst  shots  used img  '
                    'used inst']
    for name in names:
        shot = '-' if shots is None else str(shots.get(name, 0))
        lines.append(f'{name:<{width}}  {"novel" if name in novel else "base":<5}  '
                     f'{have[name][0]:>9}  {have[name][1]:>10}  {shot:>5}  '
                     f'{use[name][0]:>8}  {use[name][1]:>9}')
    total_shots = '-' if shots is None else str(sum(shots.values()))
    lines.append(f'{"total":<{width}}  {"":<5}  {len(available):>9}  '
                 f'{sum(n for _, n in have.values()):>10}  {total_shots:>5}  '
                 f'{len(used):>8}  {sum(n for _, n in use.values()):>9}')
    return '\n'.join(lines)


def shortfalls(candidates: Mapping[str, Sequence[str]],
               shots: Mapping[str, Optional[int]]) -> List[Tuple[str, int, int]]:
    """The classes asked for more shots than they have instances.

    Args:
        candidates (Mapping[str, Sequence[str]]): Class -> its candidate instance keys.
        shots (Mapping[str, int | None]): Class -> k (None: every instance).

    Returns:
        list[tuple[str, int, int]]: ``(class, asked, available)`` for each such class, in
        label order.
    """
    return [(name, shots[name], len(keys)) for name, keys in candidates.items()
            if shots.get(name) is not None and shots[name] > len(keys)]
