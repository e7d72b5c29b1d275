# TFA w/ cos, 5-shot G-FSOD fine-tuning on PASCAL VOC split1 (all 20 classes), from the base
# training's checkpoint, as TFA's faster_rcnn_R_101_FPN_ft_all1_5shot.yaml (cosine scale 20,
# lr 0.001 at batch 16, no warm-up); TFA's seed files load with
# fewshot.load_selection=<vocsplit/seedS> (see README.md):
#   tools/dist_train.sh configs/tfa/tfa_r101-fpn_voc-split1_5shot.py 8 --cfg-options \
#       fewshot.base_checkpoint=work_dirs/faster-rcnn_r101-fpn_voc-split1_base/iter_18000.pth
_base_ = [
    '../_base_/models/tfa_r50-fpn.py',
    '../_base_/datasets/voc_fewshot.py',
    '../_base_/schedules/schedule_12k.py',
]

fewshot = dict(
    shots=5,
    class_split='voc_split1',
    base_checkpoint='work_dirs/faster-rcnn_r101-fpn_voc-split1_base/iter_18000.pth')
model = dict(backbone=dict(depth=101), roi_head=dict(bbox_head=dict(num_classes=20)))
optim_wrapper = dict(optimizer=dict(lr=0.001))
train_cfg = dict(max_iters=20000, val_interval=5000)
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=20000, milestones=[18000], gamma=0.1)
]
