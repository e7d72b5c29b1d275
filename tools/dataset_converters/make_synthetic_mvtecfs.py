"""Generate a synthetic MVTec-FS tree (labelme polygons on drawn defects).

Examples::

    # the small demo set: bottle, screw, wood, three classes each, 128 px images
    python tools/dataset_converters/make_synthetic_mvtecfs.py data/demo_mvtec_fs
    # the full shape of MVTec-FS (Table 1's counts, 68 classes) with quarter-size images
    python tools/dataset_converters/make_synthetic_mvtecfs.py data/synthetic_mvtec_fs \\
        --like-mvtec-fs --scale 0.25
"""
import argparse
import json
import shutil
import sys
from typing import Optional, Sequence

from mmfs_data.formats.mvtec_fs_layout import IMAGE_FOLDER
from mmfs_data.synthetic.generator import generate_synthetic_mvtecfs


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description='Write a synthetic MVTec-FS tree (OUT/image/<category>/{training,testing}/'
        '<defect>/NNN.png + NNN.json). Deterministic per seed.')
    parser.add_argument('out', metavar='OUT', help='the tree root to create')
    parser.add_argument('--like-mvtec-fs', action='store_true',
                        help="all 14 categories and 68 classes with Table 1's exact counts and "
                        'image sizes (default: the small 3-category demo set)')
    parser.add_argument('--scale', type=float, default=1.0,
                        help='image side factor (default: 1.0; images must reach 32 px)')
    parser.add_argument('--seed', type=int, default=0, help='the seed (default: 0)')
    parser.add_argument('--overwrite', action='store_true',
                        help=f'delete an existing OUT/{IMAGE_FOLDER} first')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Generate the tree and print its counts.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        int: The exit status (0 on success, 1 on failure).
    """
    args = parse_args(argv)
    try:
        if args.overwrite:
            shutil.rmtree(f'{args.out}/{IMAGE_FOLDER}', ignore_errors=True)
        summary = generate_synthetic_mvtecfs(args.out, like_mvtec_fs=args.like_mvtec_fs,
                                             scale=args.scale, seed=args.seed, progress=True)
    except (OSError, ValueError) as error:
        hint = ' (or pass --overwrite)' if isinstance(error, FileExistsError) else ''
        print(f'make_synthetic_mvtecfs: error: {error}{hint}', file=sys.stderr)
        return 1
    print(f'{args.out}: {json.dumps(summary)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
