# TFA w/ cos (./tfa_r50-fpn.py) on the light CPU model. norm_eval keeps the statistics of a
# batch-norm backbone a config swaps in; the light model's GroupNorm has none to keep.
_base_ = ['./faster-rcnn_r18-light-fpn.py', '../fewshot_runtime.py']

fewshot = dict(setting='gfsod', shots=5, seed=0)
model = dict(
    type='TFA',
    frozen_parameters=['backbone', 'neck', 'rpn_head', 'roi_head.bbox_head.shared_fcs'],
    backbone=dict(norm_eval=True),
    roi_head=dict(bbox_head=dict(type='CosineSimBBoxHead', scale=20.0)))
custom_hooks = [
    *_base_.custom_hooks,
    dict(type='FewShotSurgeryHook', checkpoint='', method='randinit'),
]
