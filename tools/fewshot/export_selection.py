"""Write a k-shot selection file in TFA's published forms, to set results beside the literature's.

    # Pascal VOC: box_<k>shot_<class>_train.txt, one image per line
    python tools/fewshot/export_selection.py work_dirs/voc_5shot/kshot_selection.json \\
        work_dirs/vocsplit/seed0 --format tfa_voc
    # COCO: full_box_<k>shot_<class>_trainval.json, the selected annotations of the source file
    python tools/fewshot/export_selection.py work_dirs/coco_10shot/kshot_selection.json \\
        work_dirs/cocosplit/seed0 --format tfa_coco \\
        --coco-json data/coco/annotations/instances_train2017.json

The files load back with ``fewshot.load_selection=<folder>`` (see
:mod:`mmfs_data.fewshot.tfa_files` for what each form holds). A COCO export refuses a shot whose
key names another file than ``--coco-json`` (TFA's files hold the shots of one COCO file) or
whose annotation there is not the shot's image and box.
"""
import argparse
import json
import sys
from typing import Optional, Sequence

from mmfs_data.fewshot.kshot import KShotSelection
from mmfs_data.fewshot.tfa_files import FORMATS, write_tfa_coco, write_tfa_voc


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        argparse.Namespace: The arguments.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('selection', help='a kshot_selection.json written by a training run')
    parser.add_argument('out_dir', help='the folder of one seed, e.g. vocsplit/seed0')
    parser.add_argument('--format', choices=FORMATS, required=True)
    parser.add_argument('--coco-json', help='the COCO file the selection was drawn from '
                        '(tfa_coco: the annotations are copied from it; every shot must be '
                        'one of its annotations, at the image and box of the selection)')
    parser.add_argument('--image-prefix', default='datasets',
                        help="what precedes VOC<year>/JPEGImages/ on TFA's VOC lines "
                        "(default: 'datasets', as in TFA's files)")
    args = parser.parse_args(argv)
    if args.format == 'tfa_coco' and not args.coco_json:
        parser.error('--format tfa_coco needs --coco-json')
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Convert a selection file.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        int: The exit status.
    """
    args = parse_args(argv)
    try:
        selection = KShotSelection.load(args.selection)
        if args.format == 'tfa_voc':
            written = write_tfa_voc(selection, args.out_dir, args.image_prefix)
        else:
            with open(args.coco_json, encoding='utf-8') as f:
                coco = json.load(f)
            written = write_tfa_coco(selection, coco, args.out_dir, args.coco_json)
    except (OSError, ValueError) as error:
        print(f'export_selection: error: {error}', file=sys.stderr)
        return 1
    print(f'export_selection: {len(written)} files written to {args.out_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
