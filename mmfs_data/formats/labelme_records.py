"""What the labelme reader returns (:class:`LabelmeRecord`, docs/architecture.md's contract) and
raises (:class:`LabelmeError`), and the count of what it skipped (:class:`SkipSummary`)."""
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from ..errors import FieldError

#: The label of the regions that are neither objects nor background (``ignore_flag=1``).
IGNORE_LABEL = '__ignore__'
#: Flat polygons ``[[x1, y1, x2, y2, ...], ...]``, or a COCO RLE ``{'size', 'counts'}``.
Segmentation = Union[List[List[float]], Dict[str, Any]]


class LabelmeError(FieldError):
    """Bad labelme input; ``str(e) == f'{file}: {field}: {reason}'``.

    Args:
        file (str): The JSON file.
        field (str): The offending field, e.g. ``'shapes[3].points'`` or ``'imageHeight'``.
        reason (str): What is wrong with it.
    """


class InvalidInput(Exception):
    """A problem found while reading one file, before its file name is attached.

    The reader turns it into a :class:`LabelmeError` or a :class:`SkippedShape`.

    Args:
        field (str): The offending field.
        reason (str): The canonical (countable) reason.
        detail (str): What exactly was found, appended to the reason in error messages.
            Defaults to ''.
    """

    def __init__(self, field: str, reason: str, detail: str = '') -> None:
        super().__init__(field, reason, detail)
        self.field = field
        self.reason = reason
        self.message = f'{reason} ({detail})' if detail else reason


@dataclass
class LabelmeInstance:
    """One object (or ignore region) of a labelme file; see docs/architecture.md."""
    label: str
    bbox: Tuple[float, float, float, float]
    segmentation: Segmentation
    shape_indices: Tuple[int, ...]
    shape_type: str
    group_id: Optional[int]
    ignore: bool

    @cached_property
    def area(self) -> float:
        """COCO's ``area`` of the segmentation: an RLE's pixel count, or the area of the
        polygons' union, each filled by the even-odd rule as a rasteriser fills it."""
        if isinstance(self.segmentation, dict):
            from pycocotools import mask as mask_utils
            return float(mask_utils.area(self.segmentation))
        import numpy as np
        import shapely

        polygons = [shapely.polygons(np.reshape(np.asarray(flat, dtype=float), (-1, 2)))
                    for flat in self.segmentation]
        return float(shapely.union_all(shapely.make_valid(polygons)).area)


@dataclass(frozen=True)
class SkippedShape:
    """A shape (``shape_index`` set) or a whole file (``shape_index`` None) left out."""
    file: str
    shape_index: Optional[int]
    field: str
    reason: str


@dataclass(frozen=True)
class FieldWarning:
    """A fault of a file that was read all the same, as labelme reads it.

    ``str(w) == f'{file}: {field}: {reason} ({detail})'``.

    Args:
        file (str): The JSON file.
        field (str): The faulty field, e.g. ``'imageHeight'``.
        reason (str): The canonical (countable) reason, e.g. ``'disagrees with the image'``.
        detail (str): What exactly was found and what was used instead.
    """
    file: str
    field: str
    reason: str
    detail: str

    def __str__(self) -> str:
        return f'{self.file}: {self.field}: {self.reason} ({self.detail})'


@dataclass
class LabelmeRecord:
    """One labelme file: its image (``img_path``, None for embedded ``image_data`` or a file
    skipped whole; the image's own size) and instances; ``warnings``: read despite a fault."""
    json_path: str
    img_path: Optional[str]
    image_data: Optional[str]
    height: int
    width: int
    instances: List[LabelmeInstance]
    skipped: List[SkippedShape]
    num_shapes: int
    warnings: List[FieldWarning] = field(default_factory=list)


@dataclass
class SkipSummary:
    """Counts of the shapes read, parsed into instances and skipped, over many files:
    ``num_parsed + num_skipped == num_read``; a whole-file skip counts its shapes (0 when
    unparsable) and is listed in ``files_skipped`` (see :attr:`anything_skipped`).

    Attributes:
        num_files (int): The records added.
        num_read (int): The shapes of the records added.
        num_parsed (int): The shapes parsed into instances (and not skipped afterwards).
        num_skipped (int): The shapes skipped, those of the files skipped whole included.
        num_files_skipped (int): The files skipped whole.
        by_reason (Counter): Shapes skipped per reason.
        by_file (Counter): Shapes skipped per file.
        files_by_reason (dict[str, set]): The files with a skip, per reason.
        files_skipped (list[SkippedShape]): The whole-file skips (``shape_index`` None), in
            the order added: each file left out and why.
        entries (list[SkippedShape]): Every skip, in the order added.
    """
    num_files: int = 0
    num_read: int = 0
    num_parsed: int = 0
    num_skipped: int = 0
    num_files_skipped: int = 0
    by_reason: Counter = field(default_factory=Counter)
    by_file: Counter = field(default_factory=Counter)
    files_by_reason: Dict[str, set] = field(default_factory=partial(defaultdict, set))
    files_skipped: List[SkippedShape] = field(default_factory=list)
    entries: List[SkippedShape] = field(default_factory=list)

    @property
    def anything_skipped(self) -> bool:
        """bool: Whether a shape or a whole file (even one without shapes) was skipped."""
        return bool(self.num_skipped or self.num_files_skipped)

    def add(self, record_or_skips: Union[LabelmeRecord, Iterable[SkippedShape]]) -> None:
        """Count a record, or further skips of shapes of records already added.

        Args:
            record_or_skips (LabelmeRecord | Iterable[SkippedShape]): A record (its shapes are
                read, and parsed or skipped), or shape-level skips of shapes that an added
                record counted as parsed (e.g. from
                :func:`~mmfs_data.formats.labelme.check_labels`).
        """
        if isinstance(record_or_skips, LabelmeRecord):
            record = record_or_skips
            self.num_files += 1
            self.num_read += record.num_shapes
            self.num_parsed += sum([len(inst.shape_indices) for inst in record.instances])
            whole = [skip for skip in record.skipped if skip.shape_index is None]
            if whole:
                self.num_files_skipped += 1
                self.files_skipped += whole
            for skip in record.skipped:
                self._count(skip, record.num_shapes if skip.shape_index is None else 1)
            return
        for skip in record_or_skips:
            if skip.shape_index is None:
                raise ValueError(f'{skip.file}: a whole-file skip must come with its record')
            self.num_parsed -= 1
            self._count(skip, 1)

    def _count(self, skip: SkippedShape, num_shapes: int) -> None:
        self.num_skipped += num_shapes
        self.by_reason[skip.reason] += num_shapes
        self.by_file[skip.file] += num_shapes
        self.files_by_reason[skip.reason].add(skip.file)
        self.entries.append(skip)

    def format(self, max_files: int = 20) -> str:
        """Return a printable table: per reason, the totals, the files with the most skipped
        shapes, then the files skipped whole with their reasons.

        Args:
            max_files (int): How many files to list in each of the two lists. Defaults to 20.

        Returns:
            str: The table.
        """
        width = max([len('reason')] + [len(reason) for reason in self.files_by_reason])
        lines = [f'{"reason":<{width}}  shapes  files']
        for reason in sorted(self.files_by_reason, key=lambda r: (-self.by_reason[r], r)):
            lines.append(f'{reason:<{width}}  {self.by_reason[reason]:>6}  '
                         f'{len(self.files_by_reason[reason]):>5}')
        skipped_files = {skip.file for skip in self.entries}
        whole = self.num_files_skipped
        lines.append(f'{self.num_skipped} of {self.num_read} shapes skipped '
                     f'({self.num_parsed} parsed) in {len(skipped_files)} of {self.num_files} '
                     f'files; {whole} file{"" if whole == 1 else "s"} skipped whole')
        ranked = sorted(skipped_files, key=lambda f: (-self.by_file[f], f))
        lines += [f'  {self.by_file[file]:>6}  {file}' for file in ranked[:max_files]]
        if len(ranked) > max_files:
            lines.append(f'  ... and {len(ranked) - max_files} more files')
        if self.files_skipped:
            lines.append('files skipped whole:')
            lines += [f'  {skip.file}: {skip.field}: {skip.reason}'
                      for skip in self.files_skipped[:max_files]]
            if len(self.files_skipped) > max_files:
                lines.append(f'  ... and {len(self.files_skipped) - max_files} more files')
        return '\n'.join(lines)
