"""Any mmdet detector works with the plugin's datasets and metrics: a one-stage RetinaNet
fine-tunes on a k-shot FewShotDataset and is evaluated by FewShotCocoMetric (overall, base,
novel AP); GTBoxScoringHook stays idle without a GTBoxAccuracy."""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import RUNNERS

from .tiny_coco import ANN_FILE, CLASSES, IMAGE_FOLDER, make_tiny_coco

CONFIG = """\
_base_ = ['mmdet::retinanet/retinanet_r50_fpn_1x_coco.py']
custom_imports = dict(imports=['mmfs_plugin'], allow_failed_imports=False)
runner_type = 'mmdet.FewShotRunner'
fewshot = dict(setting='gfsod', class_split=dict(novel=['disc']), shots=1, seed=0,
               unselected='ignore')
custom_hooks = [dict(type='GTBoxScoringHook')]
data_root = {root!r}
metainfo = dict(classes={classes!r})
model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=32),
    bbox_head=dict(num_classes=2, in_channels=32, feat_channels=32, stacked_convs=1),
    test_cfg=dict(nms_pre=100, max_per_img=20))
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(64, 64), keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                                          'scale_factor', 'instances')),
]
coco = dict(type='CocoDataset', data_root=data_root, ann_file={ann!r},
            data_prefix=dict(img={images!r}), metainfo=metainfo)
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True), batch_sampler=None,
    dataset=dict(_delete_=True, type='FewShotDataset', dataset=coco, pipeline=pipeline))
val_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(_delete_=True, type='FewShotDataset', dataset=dict(coco, test_mode=True),
                 test_mode=True, pipeline=pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='FewShotCocoMetric')
test_evaluator = val_evaluator
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=2, val_interval=2)
param_scheduler = []
optim_wrapper = dict(optimizer=dict(lr=0.001))
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=2), logger=dict(interval=1))
log_level = 'WARNING'
"""


@pytest.fixture(scope='module')
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp('retinanet')
    make_tiny_coco(root / 'data', num_images=4)
    path = root / 'retinanet_fewshot.py'
    path.write_text(CONFIG.format(root=str(root / 'data'), classes=CLASSES, ann=ANN_FILE,
                                  images=f'{IMAGE_FOLDER}/'))
    return path


def test_retinanet_trains_on_kshot_data_and_reports_base_and_novel_ap(config_file, tmp_path):
    cfg = Config.fromfile(config_file)
    cfg.work_dir = str(tmp_path)
    runner = RUNNERS.build(cfg)  # as mmdet's tools/train.py builds it (runner_type)
    assert type(runner).__name__ == 'FewShotRunner'
    assert type(runner.model).__name__ == 'RetinaNet'
    train_set = runner.train_dataloader.dataset
    assert tuple(train_set.metainfo['novel_classes']) == ('disc',)
    # 1 shot of each class (unselected='ignore': other instances are ignored, not trained)
    trained = [instance for index in range(len(train_set))
               for instance in train_set.get_data_info(index)['instances']
               if not instance['ignore_flag']]
    assert sorted(instance['bbox_label'] for instance in trained) == [0, 1]
    runner.train()
    metrics = runner.test()
    for key in ('fs/bbox_mAP', 'fs/bbox_mAP_50', 'fs/bbox_bAP', 'fs/bbox_bAP50',
                'fs/bbox_nAP', 'fs/bbox_nAP50'):
        assert 0.0 <= metrics[key] <= 1.0, key
    assert not any(key.startswith('fs/acc') for key in metrics)
