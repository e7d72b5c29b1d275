"""FewShotCocoMetric: overall, base and novel COCO AP from one evaluation."""
import contextlib
import io
import json
import os
import sys

import numpy as np
import pycocotools.mask as mask_util
import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from mmengine.evaluator import Evaluator
from mmengine.structures import InstanceData
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from mmdet.structures import DetDataSample
from mmfs_plugin.evaluation import FewShotCocoMetric

from .tool_runs import free_port

CLASSES = ('a/crack', 'a/hole', 'b/crack', 'b/scratch', 'c/color', 'c/cut')
BASE = ['a/crack', 'a/hole', 'b/crack', 'b/scratch']
NOVEL = ['c/color', 'c/cut']
META = dict(classes=CLASSES, base_classes=BASE, novel_classes=NOVEL)


def _polygon(box, rng=None):
    """An octagon inside a box (irregular with ``rng``), as a flat list."""
    x1, y1, x2, y2 = box
    cx, cy, rx, ry = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2, (y2 - y1) / 2
    angles = np.arange(8) * np.pi / 4 + (0 if rng is None else rng.uniform(-0.3, 0.3, 8))
    return np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], 1).ravel().tolist()


def _random_box(rng, width, height):
    x1, y1 = rng.uniform(0, width - 12), rng.uniform(0, height - 12)
    return [x1, y1, min(width, x1 + rng.uniform(8, 50)), min(height, y1 + rng.uniform(8, 50))]


def make_dataset(seed=0, num_images=30, with_masks=True):
    """Random images: GT instances (some ignored, some ``__ignore__`` regions, polygon or RLE
    masks) and detections (jittered GT and random boxes, some with masks)."""
    rng = np.random.default_rng(seed)
    images = []
    for img_id in range(num_images):
        height, width = int(rng.integers(60, 120)), int(rng.integers(60, 120))
        instances = []
        for _ in range(rng.integers(0, 5)):
            box = _random_box(rng, width, height)
            label = int(rng.integers(len(CLASSES))) if rng.random() > 0.1 else -1
            ignore = int(label == -1 or rng.random() < 0.15)
            if rng.random() < 0.5:
                mask = [_polygon(box, rng)]
            else:
                rle = mask_util.frPyObjects([_polygon(box, rng)], height, width)[0]
                mask = dict(size=rle['size'], counts=rle['counts'].decode())
            instances.append(dict(bbox=box, bbox_label=label, ignore_flag=ignore, mask=mask))
        dets = []
        for instance in instances:
            for _ in range(rng.integers(0, 3)):
                box = np.array(instance['bbox']) + rng.normal(0, 3, 4)
                label = instance['bbox_label'] if rng.random() < 0.8 else int(
                    rng.integers(len(CLASSES)))
                dets.append((box.clip(0, [width, height, width, height]), max(label, 0)))
        for _ in range(rng.integers(0, 6)):
            dets.append((np.array(_random_box(rng, width, height)),
                         int(rng.integers(len(CLASSES)))))
        bboxes = np.array([d[0] for d in dets], dtype=np.float32).reshape(-1, 4)
        pred = dict(bboxes=bboxes, labels=np.array([d[1] for d in dets], dtype=np.int64),
                    scores=rng.uniform(0.05, 1, len(dets)).astype(np.float32))
        if with_masks:
            masks = [mask_util.decode(mask_util.frPyObjects([_polygon(box)], height, width))
                     for box in bboxes.tolist()]
            pred['masks'] = np.concatenate(masks, 2).transpose(2, 0, 1).astype(bool) \
                if masks else np.zeros((0, height, width), dtype=bool)
        images.append(dict(img_id=img_id, height=height, width=width, instances=instances,
                           pred=pred))
    return images


def run_metric(images, meta=META, size=None, **kwargs):
    """Run the metric through mmengine's Evaluator, as the loops do."""
    evaluator = Evaluator([FewShotCocoMetric(**kwargs)])
    evaluator.dataset_meta = meta
    for start in range(0, len(images), 4):
        samples = []
        for image in images[start:start + 4]:
            sample = DetDataSample(metainfo=dict(
                img_id=image['img_id'], img_path=f"img/{image['img_id']}.png",
                ori_shape=(image['height'], image['width']), instances=image['instances']))
            sample.pred_instances = InstanceData(
                **{key: torch.from_numpy(value) for key, value in image['pred'].items()})
            samples.append(sample)
        evaluator.process(samples)
    return evaluator.evaluate(size or len(images))


def reference_stats(images, iou_type, cat_ids, tmp_path):
    """pycocotools on JSON files, with ``params.catIds`` restricted: one run per subset (or
    class); ``__ignore__`` regions written as crowd annotations of every class."""
    gt = dict(images=[], annotations=[], categories=[dict(id=i, name=n)
                                                     for i, n in enumerate(CLASSES)])
    dets = []
    for image in images:
        gt['images'].append(dict(id=image['img_id'], height=image['height'],
                                 width=image['width']))
        for instance in image['instances']:
            x1, y1, x2, y2 = instance['bbox']
            # an __ignore__ region (label -1) is a crowd region of every class
            for label in ([instance['bbox_label']] if instance['bbox_label'] >= 0
                          else range(len(CLASSES))):
                gt['annotations'].append(dict(
                    id=len(gt['annotations']) + 1, image_id=image['img_id'],
                    category_id=label, bbox=[x1, y1, x2 - x1, y2 - y1],
                    area=(x2 - x1) * (y2 - y1), iscrowd=instance['ignore_flag'],
                    segmentation=instance['mask']))
        pred = image['pred']
        for i, (x1, y1, x2, y2) in enumerate(pred['bboxes'].tolist()):
            det = dict(image_id=image['img_id'], category_id=int(pred['labels'][i]),
                       score=float(pred['scores'][i]))
            if iou_type == 'bbox':
                det['bbox'] = [x1, y1, x2 - x1, y2 - y1]
            else:
                rle = mask_util.encode(np.asfortranarray(pred['masks'][i].astype(np.uint8)))
                det['segmentation'] = dict(size=rle['size'], counts=rle['counts'].decode())
            dets.append(det)
    gt_file = tmp_path / 'gt.json'
    gt_file.write_text(json.dumps(gt))
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO(str(gt_file))
        coco_eval = COCOeval(coco_gt, coco_gt.loadRes(dets), iou_type)
        coco_eval.params.catIds = cat_ids
        coco_eval.evaluate()
        coco_eval.accumulate()
        coco_eval.summarize()
    return coco_eval.stats


def test_overall_base_novel_equal_separate_cocoeval_runs(tmp_path):
    """The subsets' AP, AP50, AP75 (slices of one evaluation's precision) equal separate
    COCOeval runs with ``params.catIds`` restricted, and so does every class's AP."""
    images = make_dataset()
    results = run_metric(images, classwise=True, metric=['bbox', 'segm'])
    for iou_type in ('bbox', 'segm'):
        for keys, cat_ids in [(('mAP', 'mAP_50', 'mAP_75'), [0, 1, 2, 3, 4, 5]),
                              (('bAP', 'bAP50', 'bAP75'), [0, 1, 2, 3]),
                              (('nAP', 'nAP50', 'nAP75'), [4, 5])]:
            expected = reference_stats(images, iou_type, cat_ids, tmp_path)[:3]
            got = [results[f'fs/{iou_type}_{key}'] for key in keys]
            assert got == pytest.approx(expected, abs=1e-9), (iou_type, keys)
            assert all(0 < value < 1 for value in got)
        for label, name in enumerate(CLASSES):
            expected = reference_stats(images, iou_type, [label], tmp_path)[0]
            assert results[f'fs/{iou_type}_AP_{name}'] == pytest.approx(expected, abs=1e-9)
    assert results['fs/bbox_bAP'] != pytest.approx(results['fs/bbox_nAP'])


def test_bbox_only_without_masks_and_no_classwise_keys():
    results = run_metric(make_dataset(seed=1, num_images=8, with_masks=False))
    assert set(results) == {f'fs/bbox_{key}' for key in (
        'mAP', 'mAP_50', 'mAP_75', 'bAP', 'bAP50', 'bAP75', 'nAP', 'nAP50', 'nAP75')}


def test_empty_subset_has_no_keys():
    meta = dict(classes=CLASSES, base_classes=list(CLASSES), novel_classes=[])
    results = run_metric(make_dataset(seed=2, num_images=8), meta=meta, metric='bbox')
    assert 'fs/bbox_nAP' not in results and 'fs/bbox_nAP50' not in results
    assert results['fs/bbox_bAP'] == pytest.approx(results['fs/bbox_mAP'], abs=1e-12)


def _one_image(instances, boxes, labels, scores):
    return [dict(img_id=7, height=100, width=100, instances=instances,
                 pred=dict(bboxes=np.array(boxes, np.float32),
                           labels=np.array(labels, np.int64),
                           scores=np.array(scores, np.float32)))]


@pytest.mark.parametrize('ignored_label', [0, -1])
def test_ignored_instances_and_ignore_regions_are_crowd(ignored_label):
    """A detection on an ignored class-0 instance, or on an ``__ignore__`` region (label -1),
    is neither a true nor a false positive."""
    instances = [dict(bbox=[10, 10, 40, 40], bbox_label=0, ignore_flag=0),
                 dict(bbox=[60, 60, 90, 90], bbox_label=ignored_label, ignore_flag=1)]
    images = _one_image(instances, [[10, 10, 40, 40], [60, 60, 90, 90]], [0, 0], [0.5, 0.9])
    results = run_metric(images, metric='bbox')
    assert results['fs/bbox_mAP_50'] == pytest.approx(1.0)
    assert results['fs/bbox_bAP50'] == results['fs/bbox_mAP_50']
    assert results['fs/bbox_nAP50'] == -1  # no novel ground truth: COCOeval's convention


def test_faster_coco_eval_backend_gives_the_same_metrics():
    pytest.importorskip('faster_coco_eval', reason="faster-coco-eval is not installed (pip "
                        "install 'mmfs_plugin[faster_coco_eval]')")
    images = make_dataset(seed=5, num_images=20)
    expected = run_metric(images, classwise=True, metric=['bbox', 'segm'],
                          backend='pycocotools')
    results = run_metric(images, classwise=True, metric=['bbox', 'segm'])
    assert len(results) == 2 * (9 + 2 * len(CLASSES))  # bbox and segm; AP, AP50 per class
    assert results == pytest.approx(expected, abs=1e-12, nan_ok=True)


def test_unknown_backend_is_an_error_and_a_missing_one_falls_back(monkeypatch):
    with pytest.raises(ValueError, match=r"FewShotCocoMetric: backend: .*'cocoapi'"):
        FewShotCocoMetric(backend='cocoapi')
    assert FewShotCocoMetric().backend == 'faster_coco_eval'  # the default, installed
    monkeypatch.setitem(sys.modules, 'faster_coco_eval', None)  # as if not installed
    assert FewShotCocoMetric().backend == 'pycocotools'


def test_bad_instance_names_file_and_field():
    instances = [dict(bbox=[10, 10, 40, 40], bbox_label=6, ignore_flag=0)]
    with pytest.raises(ValueError, match=r'img/7\.png: instances\[0\]\.bbox_label'):
        run_metric(_one_image(instances, [[10, 10, 40, 40]], [0], [0.5]))


def test_missing_instances_and_unknown_classes_are_clear_errors():
    metric = FewShotCocoMetric()
    sample = dict(img_id=3, img_path='img/3.png', ori_shape=(10, 10), pred_instances={})
    with pytest.raises(KeyError, match=r'img/3\.png: instances: .*meta_keys'):
        metric.process({}, [sample])
    meta = dict(classes=CLASSES, base_classes=['a/crack', 'z/none'], novel_classes=NOVEL)
    with pytest.raises(ValueError, match=r"base_classes.*z/none"):
        run_metric(make_dataset(seed=3, num_images=2, with_masks=False), meta=meta)
    with pytest.raises(ValueError, match='metric'):
        FewShotCocoMetric(metric='proposal')


def _sample(img_id, img_path, instances, boxes, labels):
    sample = DetDataSample(metainfo=dict(img_id=img_id, img_path=img_path, ori_shape=(64, 64),
                                         instances=instances))
    sample.pred_instances = InstanceData(bboxes=torch.tensor(boxes, dtype=torch.float32),
                                         labels=torch.tensor(labels, dtype=torch.long),
                                         scores=torch.full((len(labels),), 0.9))
    return sample.to_dict()


def test_one_img_id_naming_two_images_is_refused_across_ranks():
    """Two COCO files numbering their images from 1, concatenated by a ConcatDataset of
    FewShotDatasets: both images are img_id 1. Evaluated as one image, a's false 'b/crack'
    detection matches b's object (mAP 1 where pycocotools on the two files gives 0.5): refused,
    also when each image was evaluated on its own rank (the check sees the collected results)."""
    a_crack = [dict(bbox=[5, 5, 25, 25], bbox_label=0, ignore_flag=0)]
    b_crack = [dict(bbox=[30, 30, 50, 50], bbox_label=2, ignore_flag=0)]
    ranks = [FewShotCocoMetric(backend='pycocotools') for _ in range(2)]
    for metric in ranks:
        metric.dataset_meta = META
    ranks[0].process({}, [_sample(1, 'lineA/images/a.png', a_crack,
                                  [[5, 5, 25, 25], [30, 30, 50, 50]], [0, 2])])
    ranks[1].process({}, [_sample(1, 'lineB/images/a.png', b_crack, [], [])])
    with pytest.raises(ValueError, match=r"FewShotCocoMetric: img_id 1 names two images, "
                       r"lineA/images/a\.png and lineB/images/a\.png: .* concatenate inside "
                       r"one FewShotDataset instead, dict\(type='FewShotDataset', "
                       r"dataset=\[cfg_a, cfg_b\]\), which numbers their images apart"):
        ranks[0].compute_metrics(ranks[0].results + ranks[1].results)  # as collected
    # numbered apart, the false detection counts: AP 1 for a/crack, 0 for b/crack
    ranks[1].results.clear()
    ranks[1].process({}, [_sample(2, 'lineB/images/a.png', b_crack, [], [])])
    results = ranks[0].compute_metrics(ranks[0].results + ranks[1].results)
    assert results['bbox_mAP'] == pytest.approx(0.5)


def _distributed_worker(rank, port, workdir, images):
    """One of two gloo ranks: each processes every other image, as DefaultSampler splits."""
    os.chdir(workdir)  # mmengine collects the parts in ./.dist_test
    torch_dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                                  world_size=2)
    results = run_metric(images[rank::2], size=len(images))
    (workdir / f'rank{rank}.json').write_text(json.dumps(results))
    torch_dist.destroy_process_group()


def test_distributed_evaluation_on_cpu_equals_single_process(tmp_path):
    images = make_dataset(seed=4, num_images=10)
    mp.start_processes(_distributed_worker, args=(free_port(), tmp_path, images), nprocs=2,
                       start_method='fork')  # the children inherit the imports: fast
    expected = run_metric(images)
    for rank in range(2):  # rank 0 computes; mmengine broadcasts the metrics
        assert json.loads((tmp_path / f'rank{rank}.json').read_text()) == pytest.approx(
            expected, abs=1e-12)
