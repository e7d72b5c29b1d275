"""Convert a tree of labelme files into one COCO instances file.

Every ``*.json`` under INPUT_DIR (recursively, OUT itself excepted) is read with the package's
labelme reader, so the boxes, polygons and skips are exactly those the datasets see:

- ``images``: ``file_name`` relative to OUT's folder (absolute when no relative path exists);
  an embedded image (``imageData``, which labelme uses before ``imagePath``) is written to
  ``--image-dir`` first. ``height``/``width`` are the image's own; a JSON that declares
  another size is reported as a warning (labelme reads such files too).
- ``annotations``: what lies in the image, as COCO defines it: ``segmentation`` (polygons
  clipped to the image, or an RLE when a part is a mask), ``bbox`` ``[x, y, w, h]`` (the exact
  extent of that segmentation; a circle's is the disc's), ``area`` (the area of the
  segmentation: the union of the clipped polygons, or the RLE's pixels), ``iscrowd: 0``.
  Shapes sharing a label and a ``group_id`` are one annotation. ``__ignore__`` regions have no
  class and are left out.
- ``categories``: ids 1..N in class order; with ``--split`` or ``--novel-classes`` each has
  ``"split": "base"`` or ``"novel"``.

Two JSON files of one image (e.g. ``a.json`` and ``a - Copy.json``) are an error naming both,
or with ``--on-error skip`` the later one is skipped and counted. Inferred classes are checked
for labels differing only in letter case or surrounding spaces (a warning). OUT's folder is
created if needed.

Examples::

    python tools/dataset_converters/labelme2coco.py data/labelme data/coco/train.json
    python tools/dataset_converters/labelme2coco.py data/labelme out.json \\
        --classes-file labels.txt --novel-classes scratch dent --on-error skip
"""
import argparse
import os
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

from tqdm import tqdm

from mmfs_data.formats.labelme import (check_duplicate_images, check_labels, read_labelme,
                                         write_embedded_image)
from mmfs_data.formats.labelme_records import IGNORE_LABEL, LabelmeRecord, SkipSummary
from mmfs_data.fewshot.classes import check_class_names, near_duplicate_labels
from mmfs_data.fewshot.splits import get_split
from mmfs_data.fileio import dump_json_atomic

#: Lines of a labelme ``labels.txt`` that are not classes.
NON_CLASS_LINES = (IGNORE_LABEL, '_background_')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description='Convert every labelme JSON under INPUT_DIR into one COCO instances file. '
        '__ignore__ regions have no class and are left out of the annotations.')
    parser.add_argument('input_dir', metavar='INPUT_DIR', help='the labelme tree')
    parser.add_argument('out', metavar='OUT.json', help='the COCO file to write')
    classes = parser.add_mutually_exclusive_group()
    classes.add_argument('--classes', nargs='+', metavar='CLASS',
                         help='the classes, in category id order (default: the labels found, '
                         'sorted)')
    classes.add_argument('--classes-file', metavar='FILE',
                         help='a file of classes, one a line (a labelme labels.txt works: its '
                         f'{" and ".join(NON_CLASS_LINES)} lines are not classes)')
    split = parser.add_mutually_exclusive_group()
    split.add_argument('--split', metavar='NAME_OR_JSON',
                       help='mark categories base/novel by a named split (e.g. split1) or a '
                       'split JSON file (see mmfs_data.fewshot.splits)')
    split.add_argument('--novel-classes', nargs='+', metavar='CLASS',
                       help='mark these categories novel, the others base')
    parser.add_argument('--on-error', choices=('raise', 'skip'), default='raise',
                        help='stop at the first bad file, shape, unknown label or second file '
                        'of an image, or skip it and report the skips (default: raise)')
    parser.add_argument('--image-dir', metavar='DIR',
                        help='where embedded images (imageData) are written (default: '
                        '<OUT stem>_images beside OUT)')
    return parser.parse_args(argv)


def find_labelme_files(input_dir: str, exclude: str) -> List[str]:
    """List the JSON files under ``input_dir``, sorted by relative path.

    Args:
        input_dir (str): The tree to search.
        exclude (str): A file to leave out (the output, when it lies inside the tree).

    Returns:
        list[str]: The paths.
    """
    if not os.path.isdir(input_dir):
        raise FileNotFoundError(f'{input_dir}: INPUT_DIR: no such folder')
    found = []
    for dirpath, dirnames, filenames in os.walk(input_dir):
        dirnames.sort()
        found.extend(os.path.join(dirpath, name) for name in sorted(filenames)
                     if name.endswith('.json'))
    return [path for path in found if os.path.abspath(path) != os.path.abspath(exclude)]


def read_classes_file(path: str) -> List[str]:
    """Read one class a line, skipping blank lines and labelme's non-class lines.

    Args:
        path (str): The file.

    Returns:
        list[str]: The classes, in file order.
    """
    with open(path, encoding='utf-8') as f:
        lines = [line.strip() for line in f]
    return [line for line in lines if line and line not in NON_CLASS_LINES]


def categories(classes: Sequence[str], novel: Optional[Sequence[str]]) -> List[Dict[str, Any]]:
    """Return the COCO categories, ids 1..N, with ``split`` when ``novel`` is given.

    Args:
        classes (Sequence[str]): The classes in id order.
        novel (Sequence[str], optional): The novel classes; None: no split.

    Returns:
        list[dict]: The categories.
    """
    result = []
    for index, name in enumerate(classes, start=1):
        category = {'id': index, 'name': name}
        if novel is not None:
            category['split'] = 'novel' if name in novel else 'base'
        result.append(category)
    return result


def convert(records: Sequence[LabelmeRecord], classes: Sequence[str], out: str, image_dir: str,
            on_error: str, summary: SkipSummary) -> Tuple[List[dict], List[dict]]:
    """Turn records into COCO images and annotations.

    Args:
        records (Sequence[LabelmeRecord]): The records, already added to ``summary``.
        classes (Sequence[str]): The classes; category ids are their positions + 1.
        out (str): The COCO file (image file names are relative to its folder).
        image_dir (str): Where embedded images are written.
        on_error (str): ``'raise'`` or ``'skip'`` on a label not in ``classes``.
        summary (SkipSummary): Counts the skipped instances.

    Returns:
        tuple[list[dict], list[dict]]: The images and the annotations.
    """
    category_id = {name: index for index, name in enumerate(classes, start=1)}
    out_dir = os.path.dirname(os.path.abspath(out))
    images: List[dict] = []
    annotations: List[dict] = []
    for record in records:
        if any(skip.shape_index is None for skip in record.skipped):
            continue  # skipped whole
        named = check_labels(record, category_id, on_error, summary)
        img_path = record.img_path or write_embedded_image(record, image_dir)
        try:
            file_name = os.path.relpath(os.path.abspath(img_path), out_dir)
        except ValueError:  # on another drive (Windows)
            file_name = os.path.abspath(img_path)
        image_id = len(images) + 1
        images.append({'id': image_id, 'file_name': file_name.replace(os.sep, '/'),
                       'height': record.height, 'width': record.width})
        for name, inst in named:
            if name is None:
                continue  # an __ignore__ region: no class
            x1, y1, x2, y2 = inst.bbox
            annotations.append({
                'id': len(annotations) + 1, 'image_id': image_id,
                'category_id': category_id[name], 'bbox': [x1, y1, x2 - x1, y2 - y1],
                'segmentation': inst.segmentation, 'area': inst.area, 'iscrowd': 0})
    return images, annotations


def class_list(args: argparse.Namespace, records: Sequence[LabelmeRecord]) -> List[str]:
    """Return the classes: given (checked), or the labels found, sorted.

    Labels found that differ only in letter case or surrounding spaces are reported as a
    warning: each is a class of its own.

    Args:
        args (argparse.Namespace): The parsed arguments (``classes``, ``classes_file``).
        records (Sequence[LabelmeRecord]): The records read.

    Returns:
        list[str]: The classes in category id order.
    """
    if args.classes_file or args.classes:
        where = args.classes_file or '--classes'
        try:  # TypeError: a str, or an empty name
            classes = check_class_names(
                read_classes_file(args.classes_file) if args.classes_file else args.classes,
                where)
        except TypeError as error:
            raise ValueError(str(error)) from None
        if not classes:
            raise ValueError(f'{where}: no class listed')
        return list(classes)
    labels = {inst.label for record in records for inst in record.instances if not inst.ignore}
    if not labels:
        raise ValueError(f'{args.input_dir}: no class: no labelled region found and no '
                         '--classes given')
    for group in near_duplicate_labels(labels):
        print('labelme2coco: warning: labels differing only in case or surrounding spaces, '
              f'each a class of its own: {", ".join(map(repr, group))}', file=sys.stderr)
    return sorted(labels)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Convert, write and report.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        int: The exit status (0 on success, 1 on failure).
    """
    args = parse_args(argv)
    image_dir = args.image_dir or f'{os.path.splitext(args.out)[0]}_images'
    summary = SkipSummary()
    try:
        records = [read_labelme(path, on_error=args.on_error)
                   for path in tqdm(find_labelme_files(args.input_dir, args.out),
                                    desc='labelme2coco', unit='file', disable=None)]
        for record in records:
            for warning in record.warnings:
                print(f'labelme2coco: warning: {warning}', file=sys.stderr)
        records = check_duplicate_images(records, args.on_error)
        for record in records:
            summary.add(record)
        classes = class_list(args, records)
        novel = None
        if args.split or args.novel_classes:
            _, novel = get_split(args.split or {'novel': args.novel_classes}, classes)
        images, annotations = convert(records, classes, args.out, image_dir, args.on_error,
                                      summary)
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        dump_json_atomic({'images': images, 'annotations': annotations,
                          'categories': categories(classes, novel)}, args.out)
    except (OSError, ValueError) as error:  # LabelmeError is a ValueError
        print(f'labelme2coco: error: {error}', file=sys.stderr)
        return 1
    print(f'{args.out}: {len(images)} images, {len(annotations)} annotations, '
          f'{len(classes)} categories' + (f' ({len(novel)} novel)' if novel is not None else ''))
    if summary.anything_skipped:  # shapes, or files without any
        print(f'skipped input:\n{summary.format()}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
