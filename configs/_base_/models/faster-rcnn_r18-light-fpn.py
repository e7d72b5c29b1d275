# The light CPU model: Faster R-CNN with a ResNet-18 trained from scratch (no weights can be
# downloaded; every stage trains), GroupNorm (32 groups) in the backbone and the FPN, as mmdet's
# from-scratch detectors have it (mmdet::scratch/faster-rcnn_r50-scratch_fpn_gn-all_6x_coco.py):
# batch norm's statistics over 4 images of a model learning from nothing are noisy, and on
# NEU-DET's validation split GroupNorm gave the base classes 54.8 AP50 after 2000 iterations
# where batch norm gave 34.3 (docs/results.md, "The base model"). A 64-channel FPN, 256-d
# box-head fcs and 128 sampled RoIs, sized for images of about 200 px (NEU-DET): small anchors
# (scale 4) with elongated ratios for scratch- and crack-like defects, few proposals. A config
# for other images sets its own anchors and proposal counts (configs/demo/: 128 px). A backbone
# from ImageNet weights (batch norm) sets its own norm_cfg, as ./faster-rcnn_r50-fpn.py has it.
_base_ = ['./faster-rcnn_r50-fpn.py']

norm_cfg = dict(type='GN', num_groups=32, requires_grad=True)
model = dict(
    backbone=dict(depth=18, init_cfg=None, frozen_stages=-1, norm_eval=False, norm_cfg=norm_cfg,
                  zero_init_residual=False),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64, norm_cfg=norm_cfg),
    rpn_head=dict(
        in_channels=64,
        feat_channels=64,
        anchor_generator=dict(scales=[4], ratios=[0.25, 0.5, 1.0, 2.0, 4.0])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=600, max_per_img=300),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=150)))
