# ./faster-rcnn_r18-light-fpn_neu-det_base-train.py with the light model as it was until
# 2026-12-07: batch norm in the backbone (mmdet's zero-initialised last norm of each residual
# block), no norm in the FPN, weight decay on the norm layers. Its val bAP50 against the
# GroupNorm model's: docs/results.md, "The base model".
#   python tools/train.py \
#       configs/base_training/base_model_study/faster-rcnn_r18-bn-light-fpn_neu-det_base-train.py \
#       --work-dir work_dirs/neu_det/base_study/bn
_base_ = ['./faster-rcnn_r18-light-fpn_neu-det_base-train.py']

model = dict(
    backbone=dict(norm_cfg=dict(_delete_=True, type='BN', requires_grad=True),
                  zero_init_residual=True),
    neck=dict(norm_cfg=None))
optim_wrapper = dict(paramwise_cfg=dict(norm_decay_mult=1.))
