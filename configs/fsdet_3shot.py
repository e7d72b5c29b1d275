# MVTec-FS 3-shot fine-tuning: ./fsdet_5shot.py with 3 shots, 3000 iterations, x0.1 at 2400.
#   python tools/train.py configs/fsdet_3shot.py \
#       --cfg-options fewshot.base_checkpoint=work_dirs/fsdet_base/iter_12000.pth fewshot.seed=1
_base_ = ['./fsdet_5shot.py']

fewshot = dict(shots=3)
train_cfg = dict(max_iters=3000, val_interval=750)
param_scheduler = [_base_.param_scheduler[0],  # the same warm-up
                   dict(_base_.param_scheduler[1], milestones=[2400])]
