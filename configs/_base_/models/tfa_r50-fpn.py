# TFA w/ cos (Wang et al., ICML 2020) on Faster R-CNN R50-FPN, the fine-tuning recipe of the FSOD
# literature, with the runtime it fine-tunes in: the base rows of the classifier and box
# regressor copied by class name from the base checkpoint (FewShotSurgeryHook, novel rows from
# N(0, 0.01); the checkpoint is `fewshot.base_checkpoint`); backbone, neck, RPN and the box
# head's shared fcs frozen; a cosine-similarity classifier (scale 20). G-FSOD, 5 shots by default.
_base_ = ['./faster-rcnn_r50-fpn.py', '../fewshot_runtime.py']

fewshot = dict(setting='gfsod', shots=5, seed=0)
model = dict(
    type='TFA',
    frozen_parameters=['backbone', 'neck', 'rpn_head', 'roi_head.bbox_head.shared_fcs'],
    backbone=dict(init_cfg=None),  # every weight comes from the base checkpoint
    roi_head=dict(bbox_head=dict(type='CosineSimBBoxHead', scale=20.0)))
custom_hooks = [
    *_base_.custom_hooks,
    dict(type='FewShotSurgeryHook', checkpoint='', method='randinit'),
]
