"""What a reader left out or changed while reading annotation files, counted by reason.

Every reader of the plugin reports the objects it did not read as the file holds them: skipped
(a box outside the image, a label that no class names under ``on_error='skip'``...) or fixed
(a box clipped to the image, an area computed because the field was missing). A
:class:`ReadReport` counts them by reason and file and keeps the ids of the first few, so that
one summary, logged when a dataset is built, says what was lost or changed. Pure: imports
neither torch nor mmdet.
"""
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

#: What happened to an object: left out, or read with a change.
ACTIONS = ('skipped', 'fixed')


@dataclass(frozen=True)
class Finding:
    """One object (or a whole image) left out or changed.

    Args:
        file (str): The annotation file.
        item (str | None): What names the object in that file: a COCO annotation id, a
            VOC ``<object>`` index; None for the whole image or file.
        field (str): The field at fault, e.g. ``'annotations[4].bbox'`` or
            ``'object[2]/bndbox'``.
        reason (str): The countable reason, e.g. ``'box outside the image'``.
        action (str): ``'skipped'`` or ``'fixed'``.
    """
    file: str
    item: Optional[str]
    field: str
    reason: str
    action: str = 'skipped'

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f'action must be one of {ACTIONS}, got {self.action!r}')


@dataclass
class ReadReport:
    """Findings over many files, counted by action and reason.

    Args:
        max_items (int): How many item ids to keep per action, reason and file for the
            summary. Defaults to 5.
    """
    max_items: int = 5
    counts: Counter = field(default_factory=Counter)
    items: Dict[Tuple[str, str, str], List[str]] = field(
        default_factory=lambda: defaultdict(list))
    files: Dict[Tuple[str, str], Counter] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, finding: Finding) -> None:
        """Count one finding."""
        key = (finding.action, finding.reason)
        self.counts[key] += 1
        self.files[key][finding.file] += 1
        kept = self.items[(finding.action, finding.reason, finding.file)]
        if len(kept) < self.max_items:
            kept.append(finding.item if finding.item is not None else finding.field)

    def count(self, action: str = 'skipped', reason: Optional[str] = None) -> int:
        """How many findings of an action (and reason, when given) were added."""
        return sum(n for (a, r), n in self.counts.items()
                   if a == action and (reason is None or r == reason))

    def __bool__(self) -> bool:
        return bool(self.counts)

    def by_reason(self, action: str = 'skipped') -> Dict[str, int]:
        """Reason -> count, for one action."""
        return {r: n for (a, r), n in self.counts.items() if a == action}

    def format(self, max_files: int = 3) -> str:
        """A summary: per action and reason, the count, then the files with the first ids.

        Args:
            max_files (int): How many files to name per reason. Defaults to 3.

        Returns:
            str: One line per reason and one per named file, e.g.::

                skipped 2 objects: box outside the image
                  train.json: 2 (ids 7, 9)
        """
        lines = []
        for (action, reason), count in sorted(self.counts.items(),
                                              key=lambda kv: (kv[0][0] != 'skipped', -kv[1])):
            noun = 'object' if count == 1 else 'objects'
            lines.append(f'{action} {count} {noun}: {reason}')
            ranked = self.files[(action, reason)].most_common()
            for file, n in ranked[:max_files]:
                ids = self.items[(action, reason, file)]
                more = ', ...' if n > len(ids) else ''
                lines.append(f'  {file}: {n} ({", ".join(ids)}{more})')
            if len(ranked) > max_files:
                lines.append(f'  ... and {len(ranked) - max_files} more files')
        return '\n'.join(lines)
