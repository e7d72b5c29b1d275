# k-shot fine-tuning (TFA w/ cos): base rows of the classifier and box regressor copied by
# class name from the base checkpoint, novel rows from N(0, 0.01); backbone, neck, RPN and the
# box head's shared fcs frozen; cosine-similarity classifier (scale 20). G-FSOD by default
# (k shots of every base and novel class); fewshot.setting='fsod' trains on novel classes only.
_base_ = ['../fsdet_base.py']

fewshot = dict(
    setting='gfsod',
    shots=5,
    seed=0,
    # the base-training checkpoint (FewShotRunner passes it to FewShotSurgeryHook)
    base_checkpoint='work_dirs/fsdet_base/iter_12000.pth')

model = dict(
    type='TFA',
    frozen_parameters=['backbone', 'neck', 'rpn_head', 'roi_head.bbox_head.shared_fcs'],
    backbone=dict(init_cfg=None),  # every weight comes from the base checkpoint
    roi_head=dict(
        bbox_head=dict(type='CosineSimBBoxHead', scale=20.0, num_classes=68)))

custom_hooks = [
    dict(type='KShotSelectionHook'),
    dict(type='RNGStateHook'),
    dict(type='FewShotSurgeryHook', checkpoint='', method='randinit'),
]

optim_wrapper = dict(optimizer=dict(lr=0.005))
default_hooks = dict(checkpoint=dict(save_best='fs/bbox_nAP', rule='greater'))
