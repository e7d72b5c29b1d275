"""Pictures of a test run: per-class AP bars and the confusion matrix between defect classes.

Reads the predictions that ``tools/test.py CONFIG CKPT --out PRED_PKL`` dumped and the ground
truth of the config's test dataset (``fewshot`` applied), and writes
``DIR/per_class_ap.png`` (AP and AP50 per class, base/novel coloured; FewShotCocoMetric's COCO
evaluation) and ``DIR/confusion_matrix.png`` (rows: ground-truth class; columns: the class of
the highest-scoring detection with IoU >= --iou-thr and score >= --score-thr, or missed).
The pickle holds no class names: its labels are read in the config's class order, so give the
config the predictions were made with (a label beyond its classes, or an image whose
``img_path`` is not the test dataset's image of that ``img_id``, is refused)::

    python tools/analysis_tools/analyze_results.py configs/demo/demo_5shot.py \\
        work_dirs/demo/test/predictions.pkl --out-dir work_dirs/demo/pictures
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmengine.config import DictAction
from mmengine.dataset import BaseDataset

import mmfs_plugin  # noqa: F401  (registers the plugin)
from mmfs_plugin.engine import build_fewshot_dataset
from mmfs_plugin.evaluation import FewShotCocoMetric
from mmfs_plugin.visualization import (
    confusion_matrix, plot_confusion_matrix, plot_per_class_ap, read_dumped_predictions)


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
    parser.add_argument('--out-dir', required=True, help='where the PNGs go')
    parser.add_argument('--iou-thr', type=float, default=0.5,
                        help='least IoU of a detection matching a GT box (default: 0.5)')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='least score of a detection in the confusion matrix '
                        '(default: 0.3)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value (as tools/test.py)')
    return parser.parse_args(argv)


def _numpy(value: object) -> np.ndarray:
    """A tensor or array-like as a numpy array."""
    return value.cpu().numpy() if hasattr(value, 'cpu') else np.asarray(value)


def load_predictions(pred_pkl: str, dataset: BaseDataset) -> Tuple[List[dict], List[dict]]:
    """Pair each dumped prediction with its image's ground truth.

    Args:
        pred_pkl (str): The pickle of ``tools/test.py --out``.
        dataset (BaseDataset): The test dataset the predictions were made on.

    Returns:
        tuple[list[dict], list[dict]]: Ground truths (``img_id``, ``source``, ``height``,
        ``width``, ``instances``) and predictions (``bboxes``, ``scores``, ``labels``), aligned.

    Raises:
        ValueError: The pickle is not a list of predictions of the dataset's images (by
            ``img_id`` and ``img_path``), or a label is not one of the dataset's classes
            (:func:`~mmfs_plugin.visualization.read_dumped_predictions`); the message names
            the file and the field.
    """
    gts, preds = [], []
    for index, pred in read_dumped_predictions(pred_pkl, dataset):
        info = dataset.get_data_info(index)
        gts.append(dict(img_id=info['img_id'], source=info['img_path'], height=info['height'],
                        width=info['width'], instances=info['instances']))
        preds.append({key: _numpy(pred[key]) for key in ('bboxes', 'scores', 'labels')})
    return gts, preds


def class_ap(gts: Sequence[dict], preds: Sequence[dict], classes: Sequence[str]) -> np.ndarray:
    """Per-class box AP and AP50, computed by FewShotCocoMetric.

    Args:
        gts (Sequence[dict]): Ground truths, as :func:`load_predictions` returns.
        preds (Sequence[dict]): Predictions, aligned with ``gts``.
        classes (Sequence[str]): The class names.

    Returns:
        np.ndarray: Shape (num_classes, 2); ``nan`` for a class without ground truth.
    """
    metric = FewShotCocoMetric(classwise=True)
    metric.dataset_meta = dict(classes=list(classes))
    results = [(dict(gt, anns=gt['instances']), dict(pred, img_id=gt['img_id']))
               for gt, pred in zip(gts, preds)]
    values = metric.compute_metrics(results)
    return np.array([[values[f'bbox_AP_{name}'], values[f'bbox_AP50_{name}']]
                     for name in classes], dtype=np.float64).reshape(-1, 2)


def class_confusion(gts: Sequence[dict], preds: Sequence[dict], num_classes: int,
                    iou_thr: float, score_thr: float) -> np.ndarray:
    """Confusion matrix of the non-ignored ground-truth boxes.

    Args:
        gts (Sequence[dict]): Ground truths, as :func:`load_predictions` returns.
        preds (Sequence[dict]): Predictions, aligned with ``gts``.
        num_classes (int): Number of classes.
        iou_thr (float): Least IoU of a matching detection.
        score_thr (float): Least score of a considered detection.

    Returns:
        np.ndarray: Shape (num_classes, num_classes + 1), the last column counting misses.
    """
    images = []
    for gt, pred in zip(gts, preds):
        kept = [inst for inst in gt['instances']
                if inst['bbox_label'] >= 0 and not inst.get('ignore_flag', 0)]
        images.append((np.array([inst['bbox'] for inst in kept]).reshape(-1, 4),
                       np.array([inst['bbox_label'] for inst in kept], dtype=np.int64),
                       pred['bboxes'], pred['scores'], pred['labels']))
    return confusion_matrix(images, num_classes, iou_thr=iou_thr, score_thr=score_thr)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Write both PNGs and print their paths.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        int: The exit status.
    """
    args = parse_args(argv)
    dataset = build_fewshot_dataset(args.config, 'test', args.cfg_options)
    try:
        gts, preds = load_predictions(args.pred_pkl, dataset)
    except (OSError, ValueError) as error:
        print(f'analyze_results: error: {error}', file=sys.stderr)
        return 1
    classes = list(dataset.metainfo['classes'])
    novel = dataset.metainfo.get('novel_classes', ())
    run = osp.basename(osp.dirname(osp.abspath(args.pred_pkl)))
    ap_file = osp.join(args.out_dir, 'per_class_ap.png')
    plot_per_class_ap(classes, class_ap(gts, preds, classes), novel, ap_file,
                      title=f'Per-class box AP ({run}, {len(gts)} test images)')
    matrix_file = osp.join(args.out_dir, 'confusion_matrix.png')
    plot_confusion_matrix(
        class_confusion(gts, preds, len(classes), args.iou_thr, args.score_thr), classes,
        novel, matrix_file,
        title=f'GT boxes by predicted class (IoU >= {args.iou_thr}, score >= {args.score_thr})')
    print(ap_file)
    print(matrix_file)
    return 0


if __name__ == '__main__':
    sys.exit(main())
