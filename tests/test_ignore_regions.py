"""The 'ignore' policy end to end: ignored instances reach the assigners as ignore regions in
training, and the metric as COCO crowd regions (of every class for ``__ignore__``)."""
import pytest
import torch
from mmdet.registry import DATASETS, TASK_UTILS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import mmfs_plugin  # noqa: F401
from mmfs_plugin.engine import apply_fewshot_settings
from mmfs_plugin.evaluation import FewShotCocoMetric

from .labelme_tree import small_tree_spec, write_tree


def test_anchor_on_ignored_instance_is_neither_positive_nor_negative(tmp_path):
    init_default_scope('mmdet')
    root = tmp_path / 'tree'
    write_tree(str(root), small_tree_spec())
    cfg = Config.fromfile('configs/demo/demo_5shot.py')
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.dataset.update(data_root=str(root), metainfo=dict(classes=(
            'bottle/broken_large', 'bottle/broken_small', 'screw/scratch_head',
            'screw/thread_side')))
    cfg.fewshot.shots = 1  # most bottle instances are not selected: ignore regions
    cfg.fewshot.unselected = 'ignore'  # (the recipe's default keeps them as ground truth)
    cfg = apply_fewshot_settings(cfg)
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.pipeline = [dict(type='LoadImageFromFile'),
                            dict(type='LoadAnnotations', with_bbox=True),
                            dict(type='PackDetInputs')]
    dataset = DATASETS.build(dataset_cfg)
    sample = next(dataset[i]['data_samples'] for i in range(len(dataset))
                  if len(dataset[i]['data_samples'].ignored_instances) > 0)
    # as the detector's data preprocessor does (boxtype2tensor)
    gt = InstanceData(bboxes=sample.gt_instances.bboxes.tensor, labels=sample.gt_instances.labels)
    ignored = InstanceData(bboxes=sample.ignored_instances.bboxes.tensor,
                           labels=sample.ignored_instances.labels)
    assert len(gt) >= 1 and len(ignored) >= 1

    for stage in ('rpn', 'rcnn'):
        assigner_cfg = cfg.model.train_cfg[stage].assigner
        assert assigner_cfg.ignore_iof_thr > 0, f'{stage} assigner does not honour ignores'
        assigner = TASK_UTILS.build(assigner_cfg)
        # one prior exactly on each ignored box, one on each positive box, one on background
        background = torch.tensor([[60.0, 0.0, 63.0, 3.0]])
        priors = torch.cat([ignored.bboxes, gt.bboxes, background])
        result = assigner.assign(InstanceData(priors=priors), gt, ignored)
        n_ign, n_gt = len(ignored), len(gt)
        assert (result.gt_inds[:n_ign] == -1).all(), 'ignored: neither positive nor negative'
        assert (result.gt_inds[n_ign:n_ign + n_gt] > 0).all()
        assert result.gt_inds[-1] == 0


def _evaluate(images, **kwargs):
    """FewShotCocoMetric on ``(instances, [(box, label, score), ...])`` per 100x100 image, with
    dent (base), crack and hole (novel)."""
    metric = FewShotCocoMetric(metric='bbox', classwise=True, **kwargs)
    metric.dataset_meta = dict(classes=('dent', 'crack', 'hole'), base_classes=['dent'],
                               novel_classes=['crack', 'hole'])
    for img_id, (instances, dets) in enumerate(images):
        metric.process({}, [dict(
            img_id=img_id, img_path=f'{img_id}.png', ori_shape=(100, 100), instances=instances,
            pred_instances=dict(bboxes=torch.tensor([box for box, _, _ in dets]).reshape(-1, 4),
                                labels=torch.tensor([label for _, label, _ in dets]),
                                scores=torch.tensor([score for _, _, score in dets])))])
    return metric.evaluate(len(images))


DENT = dict(bbox=[10, 10, 40, 40], bbox_label=0, ignore_flag=0)
IGNORE_REGION = dict(bbox=[50, 50, 95, 95], bbox_label=-1, ignore_flag=1)  # __ignore__


def test_detection_inside_an_ignore_region_is_not_a_false_positive():
    """A dent detection (0.99) inside the ``__ignore__`` region ranks above the true one
    (0.95); as a false positive it would halve the dent AP."""
    results = _evaluate([([DENT, IGNORE_REGION],
                          [([10, 10, 40, 40], 0, 0.95), ([60, 60, 80, 80], 0, 0.99)])])
    assert results['fs/bbox_AP_dent'] == pytest.approx(1.0)
    assert results['fs/bbox_bAP'] == pytest.approx(1.0)
    assert results['fs/bbox_mAP'] == pytest.approx(1.0)


def test_ignore_region_ignores_detections_of_every_class():
    """An ``__ignore__`` region has no class: a crack, a hole and a dent detection inside it
    are all ignored, while a crack detection outside it stays a false positive."""
    crack = dict(bbox=[10, 10, 40, 40], bbox_label=1, ignore_flag=0)
    hole = dict(bbox=[10, 60, 40, 90], bbox_label=2, ignore_flag=0)
    inside = [([55, 55, 70, 70], label, 0.99) for label in (0, 1, 2)]
    true_positives = [([10, 10, 40, 40], 1, 0.9), ([10, 60, 40, 90], 2, 0.9)]
    results = _evaluate([([crack, hole, DENT, IGNORE_REGION],
                          inside + true_positives + [([10, 10, 40, 40], 0, 0.9)])])
    assert [results[f'fs/bbox_AP_{name}'] for name in ('dent', 'crack', 'hole')] == \
        pytest.approx([1.0, 1.0, 1.0])
    assert results['fs/bbox_nAP'] == pytest.approx(1.0)
    outside = _evaluate([([crack, hole, IGNORE_REGION],
                          true_positives + [([60, 10, 90, 40], 1, 0.99)])])
    assert outside['fs/bbox_AP_crack'] == pytest.approx(0.5)
    assert outside['fs/bbox_AP_hole'] == pytest.approx(1.0)
