# Ablation of the recipe on NEU-DET at 5 shots (docs/results.md): mmdet's box head
# (Shared2FCBBoxHead, softmax classifier) instead of the cosine classifier, i.e. plain
# fine-tuning (every layer, the same boxes) with the recipe's base branch, surgery (base rows
# copied) and augmentation.
_base_ = ['../../finetune/finetune_r18-light-fpn_neu-det_5shot.py']

model = dict(type='RetentiveTFA', frozen_parameters=[], base_detector='{{ fileDirname }}/'
             '../../base_training/faster-rcnn_r18-light-fpn_neu-det_base.py')
custom_hooks = [
    *_base_.custom_hooks[:-1],
    dict(type='FewShotSurgeryHook', checkpoint='', method='randinit'),
]
train_dataloader = dict(dataset=dict(pipeline=_base_.finetune_pipeline))
