"""Print MVTec-FS's Table 1 for any tree of its layout, optionally as a CSV file.

Classes are counted by the label inside each JSON (not the defect folder); ``__ignore__``
regions are not instances. The printed table shows each defect label quoted (a trailing space
or a capital shows) and marks with ``*`` those not in MVTec-FS's Table 1; the reader's warnings
(e.g. a JSON whose declared image size is not the image's) go to stderr. The CSV has the
columns and header of the packaged ``mmfs_data/formats/mvtec_fs_classes.csv``.

Examples::

    python tools/analysis_tools/dataset_stats.py data/mvtec_fs
    python tools/analysis_tools/dataset_stats.py data/demo_mvtec_fs --csv work_dirs/demo_table1.csv
"""
import argparse
import sys
from typing import List, Optional, Sequence

from mmfs_data.formats.labelme_records import FieldWarning
from mmfs_data.formats.mvtec_fs_table import compute_table, format_table, write_table_csv


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description="Table 1 of MVTec-FS (per category and defect class: instances, the "
        "category's images, image size) for a tree ROOT/image/<category>/{training,testing}/"
        '<defect>/*.json.')
    parser.add_argument('root', metavar='ROOT', help='the tree root (holding image/)')
    parser.add_argument('--csv', metavar='OUT', help='also write the table to this CSV file')
    parser.add_argument('--categories', nargs='+', help='only these categories (default: all)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Compute, print and optionally write the table.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        int: The exit status (0 on success, 1 on failure).
    """
    args = parse_args(argv)
    warnings: List[FieldWarning] = []
    try:
        rows = compute_table(args.root, categories=args.categories, progress=True,
                             warnings=warnings)
        for warning in warnings:
            print(f'dataset_stats: warning: {warning}', file=sys.stderr)
        if not rows:
            raise ValueError(f'{args.root}: no annotated instance found')
        if args.csv:
            write_table_csv(rows, args.csv)
    except (OSError, ValueError) as error:  # LabelmeError is a ValueError
        print(f'dataset_stats: error: {error}', file=sys.stderr)
        return 1
    print(format_table(rows))
    if args.csv:
        print(f'written: {args.csv}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
