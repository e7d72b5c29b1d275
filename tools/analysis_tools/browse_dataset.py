"""Draw a few images of a config's dataset with their instances, as the model sees them.

Instance outlines and boxes are coloured by class (the dataset palette: base and novel classes
in distinct hue families); on a k-shot training set the selected instances have a thick outline
and a star and the others a thin dashed one; ``__ignore__`` regions are hatched. The images are
spread evenly over the dataset (its files are ordered by category and defect)::

    python tools/analysis_tools/browse_dataset.py configs/demo/demo_5shot.py --split train --num 6
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional, Sequence

import mmcv
import numpy as np
from mmengine.config import DictAction
from mmengine.dataset import BaseDataset

import mmfs_plugin  # noqa: F401  (registers the plugin)
from mmfs_plugin.engine import build_fewshot_dataset
from mmfs_plugin.visualization import draw_instances


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        argparse.Namespace: The arguments.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='the config file')
    parser.add_argument('--split', choices=['train', 'test'], default='train',
                        help="the config's train_dataloader or test_dataloader dataset "
                        '(default: train)')
    parser.add_argument('--out-dir', default='work_dirs/browse_dataset',
                        help='where the PNGs go (default: work_dirs/browse_dataset)')
    parser.add_argument('--num', type=int, default=8,
                        help='number of images, at most the dataset size (default: 8)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value (as tools/train.py)')
    args = parser.parse_args(argv)
    if args.num < 1:
        parser.error(f'--num {args.num}: must be at least 1')
    return args


def browse(dataset: BaseDataset, out_dir: str, num: int, prefix: str) -> List[str]:
    """Draw ``num`` images spread evenly over ``dataset`` into ``out_dir``.

    Args:
        dataset (BaseDataset): A few-shot dataset (``LabelmeDataset`` metainfo and entries).
        out_dir (str): The output folder.
        num (int): Number of images (at most the dataset size).
        prefix (str): File name prefix (the split).

    Returns:
        list[str]: The PNGs written.
    """
    meta = dataset.metainfo
    selection = getattr(dataset, 'kshot_selection', None)
    selected_keys = None if selection is None else set(selection.selected_keys)
    indices = np.unique(np.linspace(0, len(dataset) - 1, min(num, len(dataset))).round())
    written = []
    for index in indices.astype(int).tolist():
        info = dataset.get_data_info(index)
        name = osp.splitext(info.get('json_path', osp.basename(info['img_path'])))[0]
        out_file = osp.join(out_dir, f"{prefix}_{index:04d}_{name.replace('/', '_')}.png")
        draw_instances(
            mmcv.imread(info['img_path'], channel_order='rgb'),
            info['instances'],
            classes=meta['classes'],
            palette=meta['palette'],
            novel_classes=meta.get('novel_classes', ()),
            out_file=out_file,
            selected_keys=selected_keys,
            title=info.get('json_path', info['img_path']))
        written.append(out_file)
    return written


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Draw the images and print their paths.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        int: The exit status.
    """
    args = parse_args(argv)
    dataset = build_fewshot_dataset(args.config, args.split, args.cfg_options)
    if not len(dataset):
        print(f'browse_dataset: error: {args.config}: {args.split}_dataloader.dataset: '
              'the dataset is empty', file=sys.stderr)
        return 1
    for path in browse(dataset, args.out_dir, args.num, args.split):
        print(path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
