"""What a few-shot dataset holds, said before training: per class, the images and instances
offered and used (:func:`class_table`), and the classes short of shots (:func:`shortfalls`)."""
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
                shots: Optional[Mapping[str, int]] = None, max_rows: int = 40) -> str:
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
        max_rows (int): At most this many class rows: novel classes first, then base classes
            with the fewest instances used; the others are summed in one line. Defaults to 40.

    Returns:
        str: One line per class: its split, images and instances available, shots, images and
        instances used (non-ignored); a line per split (``base``, ``novel``: instances summed,
        images of any of its classes) and the totals (every image read and kept).
    """
    names = list(label_space.classes)
    have = _count(available, label_space.all_classes, names)
    use = _count(used, label_space.classes, names)
    novel = set(label_space.novel_classes)
    shown = sorted(names, key=lambda n: (n not in novel, use[n][1], names.index(n)))[:max_rows]
    shown = [name for name in names if name in set(shown)]
    width = max([len('class'), len('(novel)')] + [len(name) for name in shown])

    def row(name: str, split: str, got: tuple, taken: tuple, shot: str) -> str:
        return (f'{name:<{width}}  {split:<5}  {got[0]:>9}  {got[1]:>10}  {shot:>5}  '
                f'{taken[0]:>8}  {taken[1]:>9}')

    def shot_of(group: Sequence[str]) -> str:
        return '-' if shots is None else str(sum(shots.get(n, 0) for n in group))

    lines = [title, f'{"class":<{width}}  split  avail img  avail inst  shots  used img  '
                    'used inst']
    lines += [row(name, 'novel' if name in novel else 'base', have[name], use[name],
                  shot_of([name])) for name in shown]
    hidden = [name for name in names if name not in set(shown)]
    if hidden:
        lines.append(f'... {len(hidden)} more base classes, '
                     f'{sum(use[n][1] for n in hidden)} instances used')
    for split, group in (('base', label_space.base_classes),
                         ('novel', label_space.novel_classes)):
        if group:
            members = set(group)
            lines.append(row(f'({split})', split, _images_of(available, label_space.all_classes,
                                                             members, have),
                             _images_of(used, label_space.classes, members, use),
                             shot_of(group)))
    lines.append(row('total', '', (len(available), sum(n for _, n in have.values())),
                     (len(used), sum(n for _, n in use.values())),
                     shot_of(names)))
    return '\n'.join(lines)


def _images_of(entries: Sequence[Mapping], classes: Sequence[str], members: set,
               counts: Mapping[str, Tuple[int, int]]) -> Tuple[int, int]:
    """(images holding a non-ignored instance of ``members``, their instances summed)."""
    images = sum(any(inst['bbox_label'] >= 0 and not inst.get('ignore_flag', 0)
                     and classes[inst['bbox_label']] in members for inst in entry['instances'])
                 for entry in entries)
    return images, sum(counts[name][1] for name in members)


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
