"""Draw what the model found: a few test images with the ground truth on the left and the
predictions on the right.

Reads the predictions that ``tools/test.py CONFIG CKPT --out PRED_PKL`` dumped and the ground
truth of the config's test dataset (``fewshot`` applied), and writes one PNG per image,
``DIR/NAME.png`` (``NAME``: the image's path under the folder common to the test images, ``/``
as ``_``). Left half: the ground truth; right half: the predictions with a score of at least
``--score-thr``, each labelled with its class name and score (``crack 0.87``); boxes in the
dataset palette (base and novel classes in distinct hue families). Small images are upscaled so
that labels fit outside the boxes. The images alternate between ones whose ground truth holds a
novel class and ones with base classes only, spread over the dataset in its order. The pickle
holds no class names: its labels are read in the config's class order, so give the config the
predictions were made with (a label beyond its classes, or an image whose ``img_path`` is not
the test dataset's image of that ``img_id``, is refused)::

    python tools/analysis_tools/draw_predictions.py configs/demo/demo_5shot.py \\
        work_dirs/demo/test/predictions.pkl --out-dir work_dirs/demo/pictures/predictions

Prints the path of each picture written, nothing else.
"""
import argparse
import logging
import os.path as osp
import sys
from typing import Any, Dict, List, Optional, Sequence, Set

import mmcv
import numpy as np
from mmengine.config import DictAction
from mmengine.dataset import BaseDataset
from mmengine.logging import MMLogger

import mmfs_plugin  # noqa: F401  (registers the plugin)
from mmfs_plugin.engine import build_fewshot_dataset
from mmfs_plugin.visualization import draw_predictions_beside_gt, read_dumped_predictions


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        argparse.Namespace: The arguments.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='the config the predictions were made with')
    parser.add_argument('pred_pkl', metavar='PRED_PKL',
                        help='the predictions pickle of tools/test.py --out')
    parser.add_argument('--out-dir', default='work_dirs/draw_predictions',
                        help='where the PNGs go (default: work_dirs/draw_predictions)')
    parser.add_argument('--num', type=int, default=4,
                        help='number of images, at most the number predicted (default: 4)')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='least score of a drawn prediction (default: 0.3)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value (as tools/test.py)')
    args = parser.parse_args(argv)
    if args.num < 1:
        parser.error(f'--num {args.num}: must be at least 1')
    return args


def load_predictions(pred_pkl: str, dataset: BaseDataset) -> Dict[int, Dict[str, Any]]:
    """The dumped predictions by dataset index.

    Args:
        pred_pkl (str): The pickle of ``tools/test.py --out``: a list of dicts with ``img_id``
            and ``pred_instances`` (``bboxes``, ``scores``, ``labels``, optional ``masks``).
        dataset (BaseDataset): The test dataset the predictions were made on.

    Returns:
        dict[int, dict]: The ``pred_instances`` of each predicted image, by its index in
        ``dataset``.

    Raises:
        ValueError: The pickle is not a list of predictions of the dataset's images (by
            ``img_id`` and ``img_path``), or a label is not one of the dataset's classes
            (:func:`~mmfs_plugin.visualization.read_dumped_predictions`); the message names
            the file and the field.
    """
    return dict(read_dumped_predictions(pred_pkl, dataset))


def choose_images(label_sets: Sequence[Set[int]], novel_labels: Set[int],
                  num: int) -> List[int]:
    """``num`` images that show novel and base classes: alternately one whose ground truth
    holds a novel class and one with base classes only, each kind spread evenly over its
    images in their order; images without ground truth only when the others run out.

    Args:
        label_sets (Sequence[set[int]]): The ground-truth class labels of each candidate
            image.
        novel_labels (set[int]): The labels of the novel classes.
        num (int): How many images to choose.

    Returns:
        list[int]: Positions in ``label_sets``, novel first, at most ``num``.
    """
    novel = [i for i, labels in enumerate(label_sets) if labels & novel_labels]
    base = [i for i, labels in enumerate(label_sets) if labels and not labels & novel_labels]
    empty = [i for i, labels in enumerate(label_sets) if not labels]
    num_novel = min(len(novel), (num + 1) // 2)
    num_base = min(len(base), num - num_novel)
    num_novel = min(len(novel), num - num_base)
    num_empty = min(len(empty), num - num_novel - num_base)

    def spread(group: List[int], count: int) -> List[int]:
        if not count:
            return []
        return [group[int(j)] for j in np.linspace(0, len(group) - 1, count).round()]

    novel, base = spread(novel, num_novel), spread(base, num_base)
    chosen = [i for pair in zip(novel, base) for i in pair]
    shorter = min(len(novel), len(base))
    return chosen + novel[shorter:] + base[shorter:] + spread(empty, num_empty)


def picture_name(img_path: str, root: str) -> str:
    """An image's picture file name: its path under ``root``, ``/`` as ``_``, ``.png``."""
    return osp.splitext(osp.relpath(img_path, root))[0].replace(osp.sep, '_') + '.png'


def draw(dataset: BaseDataset, predictions: Dict[int, Dict[str, Any]], out_dir: str, num: int,
         score_thr: float) -> List[str]:
    """Draw ``num`` predicted images of ``dataset`` (see :func:`choose_images`) into
    ``out_dir``.

    Args:
        dataset (BaseDataset): The test dataset (few-shot metainfo: ``classes``,
            ``palette``, ``novel_classes``).
        predictions (dict[int, dict]): ``pred_instances`` by dataset index.
        out_dir (str): The output folder.
        num (int): Number of images.
        score_thr (float): Least score of a drawn prediction.

    Returns:
        list[str]: The PNGs written.
    """
    meta = dataset.metainfo
    classes = list(meta['classes'])
    novel_classes = set(meta.get('novel_classes', ()))
    novel_labels = {label for label, name in enumerate(classes) if name in novel_classes}
    infos = [dataset.get_data_info(index) for index in range(len(dataset))]
    root = osp.commonpath([osp.dirname(osp.abspath(info['img_path'])) for info in infos])
    indices = sorted(predictions)
    label_sets = [{int(inst['bbox_label']) for inst in infos[index]['instances']
                   if int(inst['bbox_label']) >= 0} for index in indices]
    written = []
    for position in choose_images(label_sets, novel_labels, num):
        info = infos[indices[position]]
        path = osp.abspath(info['img_path'])
        out_file = osp.join(out_dir, picture_name(path, root))
        draw_predictions_beside_gt(
            mmcv.imread(info['img_path'], channel_order='rgb'), info['instances'],
            predictions[indices[position]], classes=classes, palette=meta.get('palette'),
            novel_classes=novel_classes, out_file=out_file, score_thr=score_thr,
            title=osp.relpath(path, root))
        written.append(out_file)
    return written


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Draw the pictures and print their paths.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        int: The exit status: 0, or 1 for predictions that are not of the test dataset.
    """
    args = parse_args(argv)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # no dataset table: print the pictures only
    try:
        dataset = build_fewshot_dataset(args.config, 'test', args.cfg_options)
    finally:
        logger.setLevel(level)
    try:
        predictions = load_predictions(args.pred_pkl, dataset)
    except (OSError, ValueError) as error:
        print(f'draw_predictions: error: {error}', file=sys.stderr)
        return 1
    if not predictions:
        print(f'draw_predictions: error: {args.pred_pkl}: no predictions', file=sys.stderr)
        return 1
    for path in draw(dataset, predictions, args.out_dir, args.num, args.score_thr):
        print(path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
