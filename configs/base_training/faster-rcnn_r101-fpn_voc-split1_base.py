# TFA stage 1 on PASCAL VOC split1: Faster R-CNN R101-FPN (ImageNet backbone) on the 15 base
# classes of VOC07+12 trainval, 18k iterations at batch 16 (8 GPUs x 2; --auto-scale-lr
# otherwise), as TFA's faster_rcnn_R_101_FPN_base1.yaml:
#   tools/dist_train.sh configs/base_training/faster-rcnn_r101-fpn_voc-split1_base.py 8
# Another split: --cfg-options fewshot.class_split=voc_split2 (and the k-shot configs alike).
_base_ = [
    '../_base_/models/faster-rcnn_r50-fpn.py',
    '../_base_/datasets/voc_fewshot.py',
    '../_base_/schedules/schedule_12k.py',
    '../_base_/fewshot_runtime.py',
]

fewshot = dict(setting='base', class_split='voc_split1')
model = dict(
    backbone=dict(depth=101, init_cfg=dict(type='Pretrained',
                                           checkpoint='torchvision://resnet101')),
    roi_head=dict(bbox_head=dict(num_classes=15)))  # the base classes

max_iters = 18000
train_cfg = dict(max_iters=max_iters, val_interval=6000)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters,
         milestones=[12000, 16000], gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=6000))
