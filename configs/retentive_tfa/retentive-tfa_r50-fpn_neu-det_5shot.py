# The GPU variant of ./retentive-tfa_r18-light-fpn_neu-det_5shot.py: mmdet's R50-FPN at the same
# 200 px with the same anchors and the ImageNet backbone's batch norm (no norm in the FPN), from
# ../base_training/faster-rcnn_r50-fpn_neu-det_base.py's checkpoint (every weight comes from it):
#   tools/dist_train.sh configs/retentive_tfa/retentive-tfa_r50-fpn_neu-det_5shot.py 1 \
#       --cfg-options fewshot.base_checkpoint=work_dirs/neu_det/r50_base/iter_3000.pth
_base_ = ['./retentive-tfa_r18-light-fpn_neu-det_5shot.py']

fewshot = dict(base_checkpoint='work_dirs/neu_det/r50_base/iter_3000.pth')
model = dict(
    base_detector='{{ fileDirname }}/../base_training/faster-rcnn_r50-fpn_neu-det_base.py',
    backbone=dict(depth=50, frozen_stages=1, norm_eval=True,
                  norm_cfg=dict(_delete_=True, type='BN', requires_grad=True)),
    neck=dict(in_channels=[256, 512, 1024, 2048], out_channels=256, norm_cfg=None),
    rpn_head=dict(in_channels=256, feat_channels=256),
    roi_head=dict(bbox_roi_extractor=dict(out_channels=256),
                  bbox_head=dict(in_channels=256, fc_out_channels=1024)))
