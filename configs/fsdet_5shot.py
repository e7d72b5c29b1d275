# 5-shot fine-tuning, G-FSOD on split1, seed 0 (see configs/_base_/fsdet_finetune.py):
#   python tools/train.py configs/fsdet_5shot.py \
#       --cfg-options fewshot.base_checkpoint=work_dirs/fsdet_base/iter_12000.pth fewshot.seed=1
_base_ = ['./_base_/fsdet_finetune.py']

fewshot = dict(shots=5)
train_cfg = dict(max_iters=5000, val_interval=1250)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=10),
    dict(type='MultiStepLR', by_epoch=False, milestones=[4000], gamma=0.1)
]
