# Ablation on NEU-DET at 5 shots (docs/results.md): plain fine-tuning with the recipe's
# augmentation of the few shots, to tell the augmentation's share of the recipe's gain.
_base_ = ['../../finetune/finetune_r18-light-fpn_neu-det_5shot.py']

train_dataloader = dict(dataset=dict(pipeline=_base_.finetune_pipeline))
