"""What a reader left out (skipped), changed (fixed: a box clipped, an area computed) or read
as it is although it may be wrong (kept: an image whose EXIF orientation turns it at the
annotated size) while reading annotation files, counted by reason and file with the first ids,
logged once per dataset."""
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

#: What happened to an object: left out, read with a change, or read as it is with a warning.
ACTIONS = ('skipped', 'fixed', 'kept')
#: What a finding is about.
UNITS = ('object', 'image', 'category')


@dataclass(frozen=True)
class Finding:
    """One object (or a whole image) left out, changed, or kept with a warning.

    Args:
        file (str): The annotation file (the image file when the fault is in the image's
            own fields, e.g. its EXIF orientation).
        item (str | None): What names the object or image in that file: a COCO annotation or
            image id, a VOC ``<object>`` index, an image file; None: the field names it.
        field (str): The field at fault, e.g. ``'annotations[4].bbox'``,
            ``'object[2]/bndbox'`` or ``'EXIF Orientation'``.
        reason (str): The countable reason, e.g. ``'box outside the image'``.
        action (str): ``'skipped'``, ``'fixed'`` or ``'kept'`` (read as it is: it may be
            right, the reader cannot tell). Defaults to ``'skipped'``.
        unit (str): ``'object'``, ``'image'`` or ``'category'`` (a COCO category read with a
            change). Defaults to ``'object'``.
        detail (str): The value at fault, short (e.g. the label no class names), shown
            beside the item. Defaults to ''.
    """
    file: str
    item: Optional[str]
    field: str
    reason: str
    action: str = 'skipped'
    unit: str = 'object'
    detail: str = ''

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f'action must be one of {ACTIONS}, got {self.action!r}')
        if self.unit not in UNITS:
            raise ValueError(f'unit must be one of {UNITS}, got {self.unit!r}')


@dataclass
class ReadReport:
    """Findings over many files, counted by action and reason.

    Args:
        max_items (int): How many item ids to keep per action, reason and file for the
            summary. Defaults to 5.
    """
    max_items: int = 5
    counts: Counter = field(default_factory=Counter)
    items: Dict[Tuple[str, str, str, str], List[str]] = field(
        default_factory=lambda: defaultdict(list))
    files: Dict[Tuple[str, str, str], Counter] = field(
        default_factory=lambda: defaultdict(Counter))

    def add(self, finding: Finding) -> None:
        """Count one finding."""
        key = (finding.action, finding.reason, finding.unit)
        self.counts[key] += 1
        self.files[key][finding.file] += 1
        kept = self.items[key + (finding.file,)]
        if len(kept) < self.max_items:
            item = finding.item if finding.item is not None else finding.field
            kept.append(f'{item} {finding.detail}' if finding.detail else item)

    def count(self, action: str = 'skipped', reason: Optional[str] = None,
              unit: Optional[str] = None) -> int:
        """How many findings of an action (and reason and unit, when given) were added."""
        return sum(n for (a, r, u), n in self.counts.items() if a == action
                   and (reason is None or r == reason) and (unit is None or u == unit))

    def __bool__(self) -> bool:
        return bool(self.counts)

    def by_reason(self, action: str = 'skipped', unit: Optional[str] = None) -> Dict[str, int]:
        """Reason -> count, for one action (and unit, when given)."""
        result: Dict[str, int] = Counter()
        for (a, r, u), n in self.counts.items():
            if a == action and (unit is None or u == unit):
                result[r] += n
        return dict(result)

    def format(self, max_files: int = 3) -> str:
        """A summary: per action and reason, the count, then the files with the first ids.

        Args:
            max_files (int): How many files to name per reason. Defaults to 3.

        Returns:
            str: One line per reason and one per named file with the first items, e.g.::

                skipped 2 objects: box outside the image
                  train.json: 2 (7, 9)
                skipped 1 object: label not in classes
                  a.xml: 1 (2 'crack ')
        """
        lines = []
        for key, count in sorted(self.counts.items(),
                                 key=lambda kv: (kv[0][0] != 'skipped', kv[0][2], -kv[1])):
            action, reason, unit = key
            units = unit if count == 1 else 'categories' if unit == 'category' else unit + 's'
            lines.append(f'{action} {count} {units}: {reason}')
            ranked = self.files[key].most_common()
            for file, n in ranked[:max_files]:
                ids = self.items[key + (file,)]
                more = ', ...' if n > len(ids) else ''
                lines.append(f'  {file}: {n} ({", ".join(ids)}{more})')
            if len(ranked) > max_files:
                lines.append(f'  ... and {len(ranked) - max_files} more files')
        return '\n'.join(lines)
