# Base training on NEU-DET's four base classes (crazing, inclusion, patches, rolled-in_scale):
# the light model from scratch at 200 px, on CPU (73 minutes on one thread of a 2-core machine):
#   python tools/train.py configs/neu_det/neu_det_base.py --work-dir work_dirs/neu_det/base
_base_ = [
    '../_base_/models/faster_rcnn_r50_fpn_fs.py',
    '../_base_/schedules/base_training.py',
    '../_base_/fewshot_runtime.py',
    './_base_/neu_det.py',
]

fewshot = dict(setting='base', class_split=dict(novel={{_base_.neu_novel}}))
model = {{_base_.neu_base_model}}

train_cfg = dict(max_iters=3000, val_interval=1000)
optim_wrapper = dict(optimizer=dict(lr=0.02))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=200),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=3000, milestones=[2400, 2800],
         gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=1000, save_best=None), logger=dict(interval=50))
env_cfg = dict(dist_cfg=dict(backend='gloo'))  # CPU
