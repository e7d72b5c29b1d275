"""Weight surgery on mmengine checkpoints for few-shot fine-tuning (TFA's ckpt_surgery.py).

Examples::

    # base rows copied by name, novel rows drawn from N(0, 0.01)
    python tools/fewshot/ckpt_surgery.py randinit base.pth --classes-file all_classes.txt \
        --novel-classes-file novel_classes.txt --out base_surgery.pth
    # drop the last layers (the fine-tuned model initialises its own)
    python tools/fewshot/ckpt_surgery.py remove base.pth --classes-file novel_classes.txt \
        --out base_remove.pth

A class file holds one class name per line (blank lines ignored). The output holds the new
``state_dict`` and ``meta['dataset_meta']['classes']`` set to the target classes; optimizer
and scheduler states are left out (they belong to the old head). It is written atomically.
"""
import argparse
import os
import pickle
import sys
from typing import Optional, Sequence

import torch

from mmfs_plugin.engine import SURGERY_METHODS, load_surgery_source, surgery
from mmfs_data.fileio import atomic_write


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description='Map the box head of mmengine checkpoints onto a new class list by '
        'class name (meta.dataset_meta.classes).')
    parser.add_argument('method', choices=SURGERY_METHODS,
                        help='randinit: novel rows from N(0, std); remove: drop the last '
                        'layers')
    parser.add_argument('checkpoint', help='the base checkpoint')
    classes = parser.add_mutually_exclusive_group(required=True)
    classes.add_argument('--classes', nargs='+', help='the target class names, in order')
    classes.add_argument('--classes-file', help='a file with one target class per line')
    novel = parser.add_mutually_exclusive_group()
    novel.add_argument('--novel-classes', nargs='+',
                       help='randinit: the only classes allowed to be missing from the '
                       'checkpoint (others raise an error)')
    novel.add_argument('--novel-classes-file', help='the same, one class per line')
    parser.add_argument('--out', required=True, help='the output checkpoint')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random rows')
    parser.add_argument('--std', type=float, default=0.01,
                        help='standard deviation of the random rows')
    parser.add_argument('--head-prefix', default='roi_head.bbox_head',
                        help='state-dict prefix of the bbox head')
    return parser.parse_args(argv)


def read_class_file(path: str) -> list[str]:
    """Read one class name per line, skipping blank lines.

    Args:
        path (str): The file.

    Returns:
        list[str]: The class names.
    """
    with open(path, encoding='utf-8') as file:
        return [line.strip() for line in file if line.strip()]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the surgery and write the new checkpoint.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        int: 0 on success, 1 on an error (printed to stderr).
    """
    args = parse_args(argv)
    try:
        dst = args.classes or read_class_file(args.classes_file)
        novel = args.novel_classes or (read_class_file(args.novel_classes_file)
                                       if args.novel_classes_file else None)
        state = surgery(load_surgery_source(args.checkpoint), dst, args.method,
                        novel_classes=novel, seed=args.seed,
                        std=args.std, head_prefix=args.head_prefix)
        meta = dict(
            dataset_meta=dict(classes=list(dst)),
            surgery=dict(method=args.method, checkpoint=args.checkpoint,
                         seed=args.seed, std=args.std))
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with atomic_write(args.out, 'wb') as file:
            torch.save(dict(meta=meta, state_dict=state), file)
    except (OSError, ValueError, RuntimeError, pickle.UnpicklingError) as error:
        print(f'ckpt_surgery: error: {error}', file=sys.stderr)
        return 1
    print(f'ckpt_surgery: wrote {args.out} ({len(dst)} classes)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
