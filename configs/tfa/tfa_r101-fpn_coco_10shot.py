# TFA w/ cos, 10-shot G-FSOD fine-tuning on COCO (all 80 classes), from the base training's
# checkpoint, as TFA's faster_rcnn_R_101_FPN_ft_all_10shot.yaml (cosine scale 20, lr 0.001 at
# batch 16); TFA's seed files load with fewshot.load_selection=<cocosplit/seedS>:
#   tools/dist_train.sh configs/tfa/tfa_r101-fpn_coco_10shot.py 8 --cfg-options \
#       fewshot.base_checkpoint=work_dirs/faster-rcnn_r101-fpn_coco_base/iter_110000.pth
_base_ = [
    '../_base_/models/tfa_r50-fpn.py',
    '../_base_/datasets/coco_fewshot.py',
    '../_base_/schedules/schedule_12k.py',
]

fewshot = dict(
    shots=10,
    class_split='coco_fsod',
    base_checkpoint='work_dirs/faster-rcnn_r101-fpn_coco_base/iter_110000.pth')
model = dict(backbone=dict(depth=101), roi_head=dict(bbox_head=dict(num_classes=80)))
optim_wrapper = dict(optimizer=dict(lr=0.001))
train_cfg = dict(max_iters=160000, val_interval=40000)
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=160000, milestones=[144000],
         gamma=0.1)
]
