# Base training on CPU for the demo: ../fsdet_base.py with the light model on the synthetic demo
# set. split1 makes the bottle classes novel; screw and wood (6 classes) are the base classes.
_base_ = [
    '../_base_/models/faster-rcnn_r18-light-fpn.py',
    '../_base_/datasets/demo_mvtec_fs.py',
    '../_base_/schedules/schedule_12k.py',
    '../_base_/fewshot_runtime.py',
]

# the light model at 128 px: mmdet's anchor ratios, fewer proposals and RoIs, mmdet's frozen
# stem and first stage
model = dict(
    roi_head=dict(bbox_head=dict(num_classes=6)),
    backbone=dict(frozen_stages=1, norm_eval=True),
    rpn_head=dict(anchor_generator=dict(ratios=[0.5, 1.0, 2.0])),
    train_cfg=dict(rpn_proposal=dict(nms_pre=400, max_per_img=200),
                   rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=200, max_per_img=100)))
fewshot = dict(setting='base', class_split='split1')

train_cfg = dict(max_iters=300, val_interval=300)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', by_epoch=False, milestones=[240], gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=300))
