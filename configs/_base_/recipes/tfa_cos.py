# TFA w/ cos (Wang et al., ICML 2020), the fine-tuning recipe of the FSOD literature: Faster R-CNN
# with its base rows of the classifier and box regressor copied by class name from the base
# checkpoint (FewShotSurgeryHook; novel rows from N(0, 0.01)); backbone, neck, RPN and the box
# head's shared fcs frozen; a cosine-similarity classifier (scale 20). The benchmark configs
# (configs/voc/, configs/coco/) use it as published; the plugin's default recipe
# (configs/_base_/fewshot_recipe.py) builds on it. The base checkpoint comes from
# `fewshot.base_checkpoint`.
_base_ = ['../models/faster_rcnn_r50_fpn_fs.py', '../fewshot_runtime.py']

fewshot = dict(setting='gfsod', shots=5, seed=0)

model = dict(
    type='TFA',
    frozen_parameters=['backbone', 'neck', 'rpn_head', 'roi_head.bbox_head.shared_fcs'],
    backbone=dict(init_cfg=None),  # every weight comes from the base checkpoint
    roi_head=dict(bbox_head=dict(type='CosineSimBBoxHead', scale=20.0)))

custom_hooks = [
    dict(type='KShotSelectionHook'),
    dict(type='RNGStateHook'),
    dict(type='CheckpointClassesHook'),
    dict(type='FewShotSurgeryHook', checkpoint='', method='randinit'),
]
