# 5-shot G-FSOD fine-tuning on CPU for the demo: configs/fsdet_5shot.py shrunk to the synthetic
# demo set, starting from the demo base training's checkpoint.
_base_ = ['../fsdet_5shot.py', './_base_/cpu_demo.py']

fewshot = dict(base_checkpoint='work_dirs/demo/base/iter_300.pth')
model = {{_base_.demo_finetune_model}}
train_dataloader = {{_base_.demo_finetune_dataloader}}
val_dataloader = {{_base_.demo_test_dataloader}}
test_dataloader = {{_base_.demo_test_dataloader}}
env_cfg = {{_base_.demo_env_cfg}}

train_cfg = dict(max_iters=200, val_interval=200)
optim_wrapper = dict(optimizer=dict(lr=0.02))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10),
    dict(type='MultiStepLR', by_epoch=False, milestones=[160], gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=200, save_best=None))
