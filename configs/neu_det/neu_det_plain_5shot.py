# The plain anchor at 5 shots (see _base_/neu_det_plain.py), the same schedule as
# neu_det_5shot.py:
#   python tools/train.py configs/neu_det/neu_det_plain_5shot.py --cfg-options fewshot.seed=1
_base_ = ['./_base_/neu_det_plain.py']

fewshot = dict(shots=5)
train_cfg = dict(max_iters=400, val_interval=400)
optim_wrapper = dict(optimizer=dict(lr=0.02))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=400, milestones=[320], gamma=0.1)
]
