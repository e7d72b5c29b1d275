"""MVTec-FS's Table 1 (a row per category and defect: instance and image counts per split, image
side): the packaged ``mvtec_fs_classes.csv``, and the same table computed for any tree."""
import csv
import io
import os
from collections import Counter
from dataclasses import astuple, dataclass, fields
from typing import Dict, List, Optional, Sequence, Tuple

from tqdm import tqdm

from ..fileio import atomic_write
from .labelme import check_duplicate_images, read_labelme
from .labelme_records import FieldWarning
from .mvtec_fs_layout import SPLIT_FOLDERS, category_folder, list_annotation_files

#: The packaged Table 1 of MVTec-FS.
MVTEC_FS_TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'mvtec_fs_classes.csv')


@dataclass(frozen=True)
class ClassRow:
    """One row of Table 1.

    Args:
        category (str): The product category, e.g. ``'bottle'``.
        defect (str): The defect class (the JSON label), e.g. ``'broken_large'``.
        train_instances (int): Instances of the class in ``training/``.
        test_instances (int): Instances of the class in ``testing/``.
        train_images_in_category (int): Images with defects in the category's ``training/``.
        test_images_in_category (int): Images with defects in the category's ``testing/``
            (defect-free ones, e.g. ``testing/good/``, are not counted).
        image_size (int): The side of the category's (square) images, in pixels.
    """

    category: str
    defect: str
    train_instances: int
    test_instances: int
    train_images_in_category: int
    test_images_in_category: int
    image_size: int


#: The CSV header of Table 1, in column order.
TABLE_COLUMNS: Tuple[str, ...] = tuple(field.name for field in fields(ClassRow))
_INT_COLUMNS = TABLE_COLUMNS[2:]


def load_table(path: str = MVTEC_FS_TABLE) -> List[ClassRow]:
    """Read a Table-1 CSV into typed rows.

    Args:
        path (str): The CSV file. Defaults to the packaged MVTec-FS Table 1.

    Returns:
        list[ClassRow]: The rows in file order.

    Raises:
        ValueError: The header differs from :data:`TABLE_COLUMNS`, a count is not a
            non-negative integer, or a (category, defect) pair repeats. The message names the
            file, the line and the column.
    """
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != TABLE_COLUMNS:
            raise ValueError(f'{path}: header: expected {",".join(TABLE_COLUMNS)}, '
                             f'got {",".join(reader.fieldnames or ())}')
        rows, seen = [], set()
        for row in reader:
            line = reader.line_num
            values = {}
            for column in _INT_COLUMNS:
                text = row[column]
                if text is None or not text.strip().isdigit():
                    raise ValueError(f'{path}: line {line}: {column}: not a non-negative '
                                     f'integer: {text!r}')
                values[column] = int(text)
            key = (row['category'], row['defect'])
            if not all(key):
                raise ValueError(f'{path}: line {line}: category/defect: empty name')
            if key in seen:
                raise ValueError(f'{path}: line {line}: defect: {key[0]}/{key[1]} repeats')
            seen.add(key)
            rows.append(ClassRow(category=key[0], defect=key[1], **values))
    return rows


def compute_table(root: str,
                  categories: Optional[Sequence[str]] = None,
                  progress: bool = False,
                  warnings: Optional[List[FieldWarning]] = None) -> List[ClassRow]:
    """Compute Table 1 for a tree of the MVTec-FS layout with the strict labelme reader: a
    class is a (category, JSON label) pair, ``__ignore__`` regions are not counted, and the
    image size is a category's most common side.

    Args:
        root (str): The tree root (the folder holding ``image/``).
        categories (Sequence[str], optional): Categories to count. Defaults to all found.
        progress (bool): Show a progress bar. Defaults to False.
        warnings (list[FieldWarning], optional): Receives the reader's warnings (e.g. a
            declared image size that is not the image's; the image's is counted).

    Returns:
        list[ClassRow]: Classes of Table 1 in its order, then unknown classes sorted by
        (category, defect). Classes without any instance are left out.

    Raises:
        LabelmeError: A broken file, or a second file of one image (naming the file and field).
    """
    instances: Dict[str, Counter] = {split: Counter() for split in SPLIT_FOLDERS}
    images: Dict[str, Counter] = {split: Counter() for split in SPLIT_FOLDERS}
    sides: Dict[str, Counter] = {}
    files = [(split, relpath) for split in SPLIT_FOLDERS
             for relpath in list_annotation_files(root, split, categories)]
    records = []
    for split, relpath in tqdm(files, desc='reading annotations', unit='file',
                               disable=not progress):
        record = read_labelme(os.path.join(root, relpath), on_error='raise')
        records.append(record)
        category = category_folder(relpath)
        images[split][category] += bool(record.instances)  # Table 1 counts defect images
        sides.setdefault(category, Counter()).update((record.height, record.width))
        instances[split].update((category, instance.label)
                                for instance in record.instances if not instance.ignore)
    check_duplicate_images(records)
    if warnings is not None:
        warnings.extend(warning for record in records for warning in record.warnings)
    found = set(instances['train']) | set(instances['test'])
    known = [(row.category, row.defect) for row in load_table()]
    order = [key for key in known if key in found] + sorted(found - set(known))
    return [
        ClassRow(category=category,
                 defect=defect,
                 train_instances=instances['train'][category, defect],
                 test_instances=instances['test'][category, defect],
                 train_images_in_category=images['train'][category],
                 test_images_in_category=images['test'][category],
                 image_size=sides[category].most_common(1)[0][0]) for category, defect in order
    ]


def table_to_csv(rows: Sequence[ClassRow]) -> str:
    """Render rows as Table-1 CSV text (header :data:`TABLE_COLUMNS`, ``\\n`` line ends).

    Args:
        rows (Sequence[ClassRow]): The rows.

    Returns:
        str: The CSV text.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(TABLE_COLUMNS)
    writer.writerows(astuple(row) for row in rows)
    return buffer.getvalue()


def write_table_csv(rows: Sequence[ClassRow], path: str) -> None:
    """Write rows as a Table-1 CSV file, atomically.

    Args:
        rows (Sequence[ClassRow]): The rows.
        path (str): The CSV file to write.
    """
    with atomic_write(path) as f:
        f.write(table_to_csv(rows))


def format_table(rows: Sequence[ClassRow]) -> str:
    """Format rows as an aligned text table with a totals line; a defect shows as its repr
    (stray spaces show), marked ``*`` when the pair is not in MVTec-FS's Table 1.

    Args:
        rows (Sequence[ClassRow]): The rows.

    Returns:
        str: The table (header, one line per row, totals, the key to ``*`` when used),
        without a final newline.
    """
    known = {(row.category, row.defect) for row in load_table()}
    unknown = [(row.category, row.defect) not in known for row in rows]
    cells = [list(TABLE_COLUMNS)] + [
        [row.category, repr(row.defect) + (' *' if marked else '')]
        + [str(value) for value in astuple(row)[2:]] for row, marked in zip(rows, unknown)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(TABLE_COLUMNS))]
    lines = ['  '.join(cell.ljust(width) if i < 2 else cell.rjust(width)
                       for i, (cell, width) in enumerate(zip(line, widths)))
             for line in cells]
    per_category = {row.category: row for row in rows}
    lines.append(
        f'{len(rows)} classes in {len(per_category)} categories; training: '
        f'{sum(row.train_images_in_category for row in per_category.values())} images, '
        f'{sum(row.train_instances for row in rows)} instances; testing: '
        f'{sum(row.test_images_in_category for row in per_category.values())} images, '
        f'{sum(row.test_instances for row in rows)} instances')
    if any(unknown):
        lines.append(f'* not in MVTec-FS Table 1: {sum(unknown)} classes')
    return '\n'.join(lines)


def mvtec_fs_classes(categories: Optional[Sequence[str]] = None) -> List[str]:
    """Return MVTec-FS's class names, ``'<category>/<defect>'``, in Table 1 order.

    Args:
        categories (Sequence[str], optional): Keep only these categories. Defaults to all 14.

    Returns:
        list[str]: The class names.
    """
    with open(MVTEC_FS_TABLE, newline='', encoding='utf-8') as f:
        rows = [(row['category'], row['defect']) for row in csv.DictReader(f)]
    if categories is not None:
        unknown = sorted(set(categories) - {category for category, _ in rows})
        if unknown:
            raise ValueError(f'{MVTEC_FS_TABLE}: category: unknown MVTec-FS categories {unknown}')
        rows = [row for row in rows if row[0] in set(categories)]
    return [f'{category}/{defect}' for category, defect in rows]
