# The light CPU model: Faster R-CNN with a ResNet-18 trained from scratch (no weights can be
# downloaded; every stage and its batch-norm statistics train), a 64-channel FPN, 256-d box-head
# fcs and 128 sampled RoIs, sized for images of about 200 px (NEU-DET): small anchors (scale 4)
# with elongated ratios for scratch- and crack-like defects, few proposals. A config for other
# images sets its own anchors and proposal counts (configs/demo/: 128 px).
_base_ = ['./faster-rcnn_r50-fpn.py']

model = dict(
    backbone=dict(depth=18, init_cfg=None, frozen_stages=-1, norm_eval=False),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64),
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
