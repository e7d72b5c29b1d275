# The light model trained from scratch on the shots of
# ./finetune_r18-light-fpn_neu-det-novel_5shot.py (the same images, boxes, schedule and seeds):
# what few shots give without a detector trained elsewhere (docs/results.md).
_base_ = ['./finetune_r18-light-fpn_neu-det-novel_5shot.py']

fewshot = dict(_delete_=True, setting='fsod', shots=5, seed=0, unselected='keep',
               class_split=dict(novel=_base_.novel_classes))
custom_hooks = [hook for hook in _base_.custom_hooks if hook['type'] != 'FewShotSurgeryHook']
model = dict(backbone=dict(norm_eval=False))  # a batch-norm backbone's statistics from the shots
