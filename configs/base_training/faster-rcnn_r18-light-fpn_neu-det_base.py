# Base training on NEU-DET's four base classes (crazing, inclusion, patches, rolled-in_scale):
# the light model from scratch at 200 px, on CPU (78 minutes on one thread of a busy 2-core machine):
#   python tools/train.py configs/base_training/faster-rcnn_r18-light-fpn_neu-det_base.py \
#       --work-dir work_dirs/neu_det/base
_base_ = [
    '../_base_/models/faster-rcnn_r18-light-fpn.py',
    '../_base_/datasets/neu_det.py',
    '../_base_/schedules/schedule_12k.py',
    '../_base_/fewshot_runtime.py',
]

fewshot = dict(setting='base', class_split=dict(novel=_base_.novel_classes))
# every training image (trainval: train and val)
train_dataloader = dict(dataset=dict(dataset=dict(ann_file=_base_.splits + 'trainval.txt')))
model = dict(roi_head=dict(bbox_head=dict(num_classes=4)))
# no weight decay on the GroupNorm layers, as mmdet's from-scratch GN detectors train
optim_wrapper = dict(paramwise_cfg=dict(norm_decay_mult=0.))

train_cfg = dict(max_iters=3000, val_interval=1000)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=200),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=3000, milestones=[2400, 2800],
         gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=1000), logger=dict(interval=50))
