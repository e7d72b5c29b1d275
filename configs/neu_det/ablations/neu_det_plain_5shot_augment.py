# Ablation on NEU-DET at 5 shots (docs/results.md): the plain anchor with the recipe's
# augmentation of the few shots, to tell the augmentation's share of the recipe's gain.
_base_ = ['../neu_det_plain_5shot.py']

train_dataloader = dict(dataset=dict(pipeline={{_base_.finetune_pipeline}}))
