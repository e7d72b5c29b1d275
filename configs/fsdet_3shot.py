# 3-shot fine-tuning, G-FSOD on split1, seed 0 (see configs/_base_/fsdet_finetune.py):
#   python tools/train.py configs/fsdet_3shot.py \
#       --cfg-options fewshot.base_checkpoint=work_dirs/fsdet_base/iter_12000.pth fewshot.seed=1
_base_ = ['./_base_/fsdet_finetune.py']

fewshot = dict(shots=3)
train_cfg = dict(max_iters=3000, val_interval=750)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=10),
    dict(type='MultiStepLR', by_epoch=False, milestones=[2400], gamma=0.1)
]
