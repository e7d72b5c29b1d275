# MVTec-FS 1-shot fine-tuning: ./fsdet_5shot.py with 1 shot, 1000 iterations, x0.1 at 800.
#   python tools/train.py configs/fsdet_1shot.py \
#       --cfg-options fewshot.base_checkpoint=work_dirs/fsdet_base/iter_12000.pth fewshot.seed=1
_base_ = ['./fsdet_5shot.py']

fewshot = dict(shots=1)
train_cfg = dict(max_iters=1000, val_interval=250)
param_scheduler = [_base_.param_scheduler[0],  # the same warm-up
                   dict(_base_.param_scheduler[1], milestones=[800])]
