# Base training on CPU for the demo: configs/fsdet_base.py shrunk to the synthetic demo set.
# split1 makes the bottle classes novel; screw and wood (6 classes) are the base classes.
_base_ = ['../fsdet_base.py', './_base_/cpu_demo.py']

model = {{_base_.demo_base_model}}
train_dataloader = {{_base_.demo_train_dataloader}}
val_dataloader = {{_base_.demo_test_dataloader}}
test_dataloader = {{_base_.demo_test_dataloader}}
env_cfg = {{_base_.demo_env_cfg}}

train_cfg = dict(max_iters=300, val_interval=300)
optim_wrapper = dict(optimizer=dict(lr=0.02))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', by_epoch=False, milestones=[240], gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=300, save_best=None))
