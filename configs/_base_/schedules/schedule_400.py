# Fine-tuning on a few shots: 400 iterations (NEU-DET's 5 shots at batch 4), SGD at lr 0.02 after a
# 20-iteration warm-up, x0.1 at 80% of the iterations; a config for another number of shots sets
# its iterations and milestone alike.
_base_ = ['./schedule_12k.py']

train_cfg = dict(max_iters=400, val_interval=400)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=400, milestones=[320], gamma=0.1)
]
