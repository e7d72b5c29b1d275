# Ablation of the recipe on NEU-DET at 5 shots (docs/results.md): without the augmentation of
# the few shots (the training pipeline of base training: one scale, horizontal flips).
_base_ = ['../retentive-tfa_r18-light-fpn_neu-det_5shot.py']

train_dataloader = dict(dataset=dict(pipeline=_base_.train_pipeline))
