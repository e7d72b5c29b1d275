# The GPU variant of ./faster-rcnn_r18-light-fpn_neu-det_base.py: mmdet's R50-FPN (256-channel
# FPN, 1024-d fcs) with an ImageNet backbone and its batch norm (frozen statistics, no norm in
# the FPN, weight decay as mmdet's R50 configs), at the same 200 px with the same anchors, batch 8:
#   tools/dist_train.sh configs/base_training/faster-rcnn_r50-fpn_neu-det_base.py 1 \
#       --work-dir work_dirs/neu_det/r50_base
_base_ = ['./faster-rcnn_r18-light-fpn_neu-det_base.py']

model = dict(
    backbone=dict(depth=50, frozen_stages=1, norm_eval=True,
                  norm_cfg=dict(_delete_=True, type='BN', requires_grad=True),
                  init_cfg=dict(_delete_=True, type='Pretrained',
                                checkpoint='torchvision://resnet50')),
    neck=dict(in_channels=[256, 512, 1024, 2048], out_channels=256, norm_cfg=None),
    rpn_head=dict(in_channels=256, feat_channels=256),
    roi_head=dict(bbox_roi_extractor=dict(out_channels=256),
                  bbox_head=dict(in_channels=256, fc_out_channels=1024)))
optim_wrapper = dict(paramwise_cfg=dict(norm_decay_mult=1.))
train_dataloader = dict(batch_size=8, num_workers=4, persistent_workers=True)
val_dataloader = dict(num_workers=2, persistent_workers=True)
test_dataloader = val_dataloader
