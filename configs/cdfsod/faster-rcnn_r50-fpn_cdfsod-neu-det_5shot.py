# Few shots on a pretrained detector, every class novel: mmdet's COCO Faster R-CNN R50-FPN
# fine-tuned on the CD-FSOD benchmark's NEU-DET 5-shot file (../_base_/datasets/cdfsod.py), the
# GPU path (see README.md; not run here):
#   tools/dist_train.sh configs/cdfsod/faster-rcnn_r50-fpn_cdfsod-neu-det_5shot.py 1
# Every weight of the COCO detector is kept but the classifier and box regressor rows of the
# six new classes, drawn from N(0, 0.01) (surgery 'randinit'; no COCO class is in the label
# space, so none is copied).
_base_ = [
    '../_base_/models/faster-rcnn_r50-fpn.py',
    '../_base_/datasets/cdfsod.py',
    '../_base_/schedules/schedule_400.py',
    '../_base_/fewshot_runtime.py',
]

fewshot = dict(
    setting='fsod',
    shots=None,  # the shot file is the selection
    class_split=dict(novel=list(_base_.classes)),  # every class novel
    base_checkpoint='https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/'
    'faster_rcnn_r50_fpn_1x_coco/faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth')
model = dict(roi_head=dict(bbox_head=dict(num_classes=6)))
custom_hooks = [
    *_base_.custom_hooks,
    dict(type='FewShotSurgeryHook', checkpoint='', method='randinit'),
]
train_dataloader = dict(batch_size=8)
optim_wrapper = dict(optimizer=dict(lr=0.01))
train_cfg = dict(max_iters=500, val_interval=500)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=500, milestones=[400], gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=100000))
