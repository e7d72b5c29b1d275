# TFA w/ cos as published (configs/_base_/recipes/tfa_cos.py) on NEU-DET, beside the plugin's
# recipe (neu_det_<k>shot.py) and the plain anchor (neu_det_plain_<k>shot.py) in docs/results.md.
_base_ = [
    '../../_base_/recipes/tfa_cos.py',
    './neu_det.py',
    '../../_base_/schedules/base_training.py',
    './finetune_schedules.py',
]

fewshot = dict(
    class_split=dict(novel={{_base_.neu_novel}}),
    base_checkpoint='work_dirs/neu_det/base/iter_3000.pth')
model = {{_base_.neu_finetune_model}}
optim_wrapper = dict(optimizer=dict(lr=0.02))
env_cfg = dict(dist_cfg=dict(backend='gloo'))  # CPU
default_hooks = dict(checkpoint=dict(interval=100000, save_best=None), logger=dict(interval=50))
