"""The 'ignore' policy end to end: ignored instances reach the assigners as ignore regions."""
import torch
from mmdet.registry import DATASETS, TASK_UTILS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import mmfs_plugin  # noqa: F401
from mmfs_plugin.engine import apply_fewshot_settings

from .labelme_tree import small_tree_spec, write_tree


def test_anchor_on_ignored_instance_is_neither_positive_nor_negative(tmp_path):
    init_default_scope('mmdet')
    root = tmp_path / 'tree'
    write_tree(str(root), small_tree_spec())
    cfg = Config.fromfile('configs/demo/demo_5shot.py')
    cfg.train_dataloader.dataset.data_root = str(root)
    cfg.train_dataloader.dataset.metainfo = dict(classes=(
        'bottle/broken_large', 'bottle/broken_small', 'screw/scratch_head', 'screw/thread_side'))
    cfg.train_dataloader.dataset.cache_dir = str(tmp_path / 'cache')
    cfg.fewshot.shots = 1  # most bottle instances are not selected: ignore regions
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
