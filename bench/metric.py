"""Time FewShotCocoMetric against mmdet's CocoMetric, and its faster-coco-eval backend against
its pycocotools one, on the same generated predictions.

Every metric takes the ground truth from the data samples (no annotation file) and runs the
whole ``process`` + ``evaluate``; FewShotCocoMetric also reads the base and novel subsets. Each
repeat builds fresh metrics, alternating between them; the medians and the ratios are printed
(the faster-coco-eval rows only when it is installed)::

    OMP_NUM_THREADS=1 python bench/metric.py --images 500 --classes 20 --dets 100
"""
import argparse
import contextlib
import io
import statistics
import functools
import importlib.util
import time
from typing import Callable, Dict, List, Tuple

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmdet.evaluation import CocoMetric
from mmfs_plugin.evaluation import FewShotCocoMetric


def make_samples(num_images: int, num_classes: int, dets_per_image: int,
                 seed: int) -> List[dict]:
    """Generate data samples (as the evaluator passes them) with GT and detections.

    Args:
        num_images (int): Number of images (640x480).
        num_classes (int): Number of classes.
        dets_per_image (int): Detections per image: jittered GT boxes, then random boxes.
        seed (int): Random seed.

    Returns:
        list[dict]: Data samples with ``instances`` and ``pred_instances``.
    """
    rng = np.random.default_rng(seed)
    samples = []
    for img_id in range(num_images):
        num_gt = int(rng.integers(1, 6))
        xy = rng.uniform(0, 500, (num_gt, 2))
        gt_boxes = np.concatenate([xy, xy + rng.uniform(10, 140, (num_gt, 2))], axis=1)
        gt_labels = rng.integers(num_classes, size=num_gt)
        instances = [dict(bbox=box.tolist(), bbox_label=int(label),
                          ignore_flag=int(rng.random() < 0.05))
                     for box, label in zip(gt_boxes, gt_labels)]
        num_near = min(dets_per_image, 4 * num_gt)
        near = rng.integers(num_gt, size=num_near)
        xy = rng.uniform(0, 500, (dets_per_image - num_near, 2))
        boxes = np.concatenate([
            gt_boxes[near] + rng.normal(0, 6, (num_near, 4)),
            np.concatenate([xy, xy + rng.uniform(10, 140, xy.shape)], axis=1)])
        labels = np.concatenate([
            np.where(rng.random(num_near) < 0.8, gt_labels[near],
                     rng.integers(num_classes, size=num_near)),
            rng.integers(num_classes, size=dets_per_image - num_near)])
        samples.append(dict(
            img_id=img_id, img_path=f'{img_id}.png', ori_shape=(480, 640),
            instances=instances,
            pred_instances=dict(bboxes=torch.from_numpy(boxes.astype(np.float32)),
                                labels=torch.from_numpy(labels),
                                scores=torch.from_numpy(rng.random(dets_per_image)
                                                        .astype(np.float32)))))
    return samples


def time_metric(build: Callable[[], BaseMetric], samples: List[dict], meta: dict,
                batch_size: int = 8) -> Tuple[float, Dict[str, float]]:
    """Run ``process`` over the samples and ``evaluate`` once, on a fresh metric.

    Args:
        build (Callable[[], BaseMetric]): Builds the metric.
        samples (list[dict]): The data samples.
        meta (dict): The dataset metainfo.
        batch_size (int): Samples per ``process`` call. Defaults to 8.

    Returns:
        tuple[float, dict]: CPU seconds of this process (robust to other processes' load on
        a shared machine; the work is single-threaded) and the metrics.
    """
    metric = build()
    metric.dataset_meta = meta
    start = time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        for index in range(0, len(samples), batch_size):
            metric.process({}, samples[index:index + batch_size])
        results = metric.evaluate(len(samples))
    return time.process_time() - start, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--images', type=int, default=500, help='number of images')
    parser.add_argument('--classes', type=int, default=20, help='number of classes')
    parser.add_argument('--novel', type=int, default=5, help='how many classes are novel')
    parser.add_argument('--dets', type=int, default=100, help='detections per image')
    parser.add_argument('--repeats', type=int, default=3, help='timed repeats (median taken)')
    parser.add_argument('--seed', type=int, default=0, help='generator seed')
    args = parser.parse_args()
    MMLogger.get_instance('bench_metric', log_level='WARNING')  # the metrics' tables off

    classes = [f'cat{i // 4}/defect{i % 4}' for i in range(args.classes)]
    meta = dict(classes=classes, base_classes=classes[:args.classes - args.novel],
                novel_classes=classes[args.classes - args.novel:])
    samples = make_samples(args.images, args.classes, args.dets, args.seed)
    builders: Dict[str, Callable[[], BaseMetric]] = {
        'CocoMetric': CocoMetric,
        'FewShotCocoMetric': functools.partial(FewShotCocoMetric, backend='pycocotools')}
    with_faster = importlib.util.find_spec('faster_coco_eval') is not None
    if with_faster:  # the default backend
        builders['FewShotCocoMetric[faster]'] = FewShotCocoMetric
    timings: Dict[str, List[float]] = {name: [] for name in builders}
    results: Dict[str, Dict[str, float]] = {}
    for _ in range(args.repeats):  # alternate, so that all see the same machine load
        for name, build in builders.items():
            seconds, results[name] = time_metric(build, samples, meta)
            timings[name].append(seconds)
    medians = {name: statistics.median(values) for name, values in timings.items()}

    print(f'{args.images} images, {args.classes} classes ({args.novel} novel), '
          f'{args.dets} detections each, {args.repeats} repeats')
    for name, values in timings.items():
        print(f'{name:>26}: median {medians[name]:.2f} CPU s  '
              f"({', '.join(f'{v:.2f}' for v in values)})")
    print(f"{'ratio':>26}: {medians['FewShotCocoMetric'] / medians['CocoMetric']:.3f} "
          '(FewShotCocoMetric / CocoMetric)')
    fewshot = results['FewShotCocoMetric']
    print(f"{'bbox mAP':>26}: CocoMetric {results['CocoMetric']['coco/bbox_mAP']:.3f}, "
          f"FewShotCocoMetric {fewshot['fs/bbox_mAP']:.3f} "
          f"(bAP {fewshot['fs/bbox_bAP']:.3f}, nAP {fewshot['fs/bbox_nAP']:.3f})")
    if not with_faster:
        print(f"{'faster-coco-eval':>26}: not installed (pip install faster-coco-eval)")
        return
    faster = results['FewShotCocoMetric[faster]']
    print(f"{'speed-up':>26}: "
          f"{medians['FewShotCocoMetric'] / medians['FewShotCocoMetric[faster]']:.2f}x "
          '(FewShotCocoMetric pycocotools / faster_coco_eval backend)')
    largest = max(abs(faster[key] - fewshot[key]) for key in fewshot)
    print(f"{'backends differ by':>26}: at most {largest:.1e} over {len(fewshot)} metrics")


if __name__ == '__main__':
    main()
