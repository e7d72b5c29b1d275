# The few-shot fine-tuning recipe (TFA w/ cos): Faster R-CNN with its base rows of the classifier
# and box regressor copied by class name from the base checkpoint (FewShotSurgeryHook; novel rows
# from N(0, 0.01)); backbone, neck, RPN and the box head's shared fcs frozen; a cosine-similarity
# classifier (scale 20). Every fine-tuning config builds on this file (configs/_base_/
# fsdet_finetune.py for MVTec-FS, configs/neu_det/_base_/neu_det_finetune.py for NEU-DET), so the
# recipe is stated once. The base checkpoint comes from `fewshot.base_checkpoint`.
_base_ = ['./models/faster_rcnn_r50_fpn_fs.py', './fewshot_runtime.py']

fewshot = dict(setting='gfsod', shots=5, seed=0)

model = dict(
    type='TFA',
    frozen_parameters=['backbone', 'neck', 'rpn_head', 'roi_head.bbox_head.shared_fcs'],
    backbone=dict(init_cfg=None),  # every weight comes from the base checkpoint
    roi_head=dict(bbox_head=dict(type='CosineSimBBoxHead', scale=20.0)))

custom_hooks = [
    dict(type='KShotSelectionHook'),
    dict(type='RNGStateHook'),
    dict(type='FewShotSurgeryHook', checkpoint='', method='randinit'),
]
