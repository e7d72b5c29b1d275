# TFA stage 1 on COCO: Faster R-CNN R101-FPN (ImageNet backbone) on the 60 base classes, 110k
# iterations at batch 16 (8 GPUs x 2), as TFA's faster_rcnn_R_101_FPN_base.yaml:
#   tools/dist_train.sh configs/base_training/faster-rcnn_r101-fpn_coco_base.py 8
_base_ = [
    '../_base_/models/faster-rcnn_r50-fpn.py',
    '../_base_/datasets/coco_fewshot.py',
    '../_base_/schedules/schedule_12k.py',
    '../_base_/fewshot_runtime.py',
]

fewshot = dict(setting='base', class_split='coco_fsod')
model = dict(
    backbone=dict(depth=101, init_cfg=dict(type='Pretrained',
                                           checkpoint='torchvision://resnet101')),
    roi_head=dict(bbox_head=dict(num_classes=60)))  # the base classes

max_iters = 110000
train_cfg = dict(max_iters=max_iters, val_interval=10000)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters,
         milestones=[85000, 100000], gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=10000))
