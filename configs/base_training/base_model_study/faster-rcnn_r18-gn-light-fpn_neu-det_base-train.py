# ./faster-rcnn_r18-light-fpn_neu-det_base-train.py with GroupNorm (32 groups) in place of
# batch norm in the backbone and the FPN, and no weight decay on the norm layers, as mmdet's
# from-scratch detectors are trained (configs/scratch/faster-rcnn_r50-scratch_fpn_gn-all_6x_coco.py):
# batch norm's statistics over 4 images of a from-scratch model are noisy. The box head is
# left as it is, so the few-shot configs (TFA's cosine head, the frozen shared fcs) still apply.
#   python tools/train.py \
#       configs/base_training/base_model_study/faster-rcnn_r18-gn-light-fpn_neu-det_base-train.py \
#       --work-dir work_dirs/neu_det/base_study/gn
_base_ = ['./faster-rcnn_r18-light-fpn_neu-det_base-train.py']

norm_cfg = dict(type='GN', num_groups=32, requires_grad=True)
model = dict(
    backbone=dict(norm_cfg=norm_cfg, zero_init_residual=False),
    neck=dict(norm_cfg=norm_cfg))
optim_wrapper = dict(paramwise_cfg=dict(norm_decay_mult=0.))
