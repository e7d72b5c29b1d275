"""The demo's pictures in one process: the k-shot training images, predictions beside the
ground truth on test images of novel and base classes, and the per-class AP and confusion
pictures. Runs ``browse_dataset.py``, ``draw_predictions.py`` and ``analyze_results.py`` of
``tools/analysis_tools/`` with their own arguments (one import of torch and mmdet for all three)::

    python tools/misc/demo_pictures.py CONFIG PRED_PKL OUT_DIR [--cfg-options ...]
"""
import argparse
import os.path as osp
import runpy
import sys
from typing import List, Optional, Sequence

#: Where the three tools are.
ANALYSIS_TOOLS = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'analysis_tools')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        argparse.Namespace: The arguments (``cfg_options`` as the raw ``KEY=VALUE`` items).
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='the fine-tuning config')
    parser.add_argument('pred_pkl', metavar='PRED_PKL', help='tools/test.py --out of it')
    parser.add_argument('out_dir', help='where the pictures go (train/, predictions/, ...)')
    parser.add_argument('--num-train', type=int, default=6, help='training images (default 6)')
    parser.add_argument('--num-test', type=int, default=6,
                        help='test images with predictions (default 6)')
    parser.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='passed to each tool, e.g. the data roots')
    return parser.parse_args(argv)


def run_tool(name: str, argv: List[str]) -> None:
    """Run ``tools/analysis_tools/<name>.py``'s ``main(argv)`` in this process.

    Raises:
        SystemExit: The tool returned a non-zero status.
    """
    status = runpy.run_path(osp.join(ANALYSIS_TOOLS, f'{name}.py'))['main'](argv)
    if status:
        raise SystemExit(f'demo_pictures: {name} failed with exit status {status}')


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Write the three kinds of pictures.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        int: The exit status.
    """
    args = parse_args(argv)
    options = ['--cfg-options', *args.cfg_options] if args.cfg_options else []
    run_tool('browse_dataset', [args.config, '--split', 'train', '--num', str(args.num_train),
                                '--out-dir', osp.join(args.out_dir, 'train'), *options])
    run_tool('draw_predictions', [args.config, args.pred_pkl, '--num', str(args.num_test),
                                  '--out-dir', osp.join(args.out_dir, 'predictions'), *options])
    run_tool('analyze_results', [args.config, args.pred_pkl, '--out-dir', args.out_dir,
                                 *options])
    return 0


if __name__ == '__main__':
    sys.exit(main())
