# 5-shot G-FSOD fine-tuning on CPU for the demo: ../fsdet_5shot.py (the plugin's recipe) with the
# light model of ./demo_base.py on the synthetic demo set, from the demo base training's
# checkpoint.
_base_ = [
    '../_base_/models/retentive-tfa_r18-light-fpn.py',
    '../_base_/datasets/demo_mvtec_fs.py',
    '../_base_/schedules/schedule_12k.py',
]

fewshot = dict(shots=5, class_split='split1',
               base_checkpoint='work_dirs/demo/base/iter_300.pth')
model = dict(  # the model of ./demo_base.py, all 9 classes, beside it as the base branch
    base_detector='{{ fileDirname }}/demo_base.py',
    roi_head=dict(bbox_head=dict(num_classes=9)),
    backbone=dict(frozen_stages=1),
    rpn_head=dict(anchor_generator=dict(ratios=[0.5, 1.0, 2.0])),
    train_cfg=dict(rpn_proposal=dict(nms_pre=400, max_per_img=200),
                   rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=200, max_per_img=100)))
train_dataloader = dict(dataset=dict(pipeline=_base_.finetune_pipeline))

train_cfg = dict(max_iters=200, val_interval=200)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10),
    dict(type='MultiStepLR', by_epoch=False, milestones=[160], gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=200))
