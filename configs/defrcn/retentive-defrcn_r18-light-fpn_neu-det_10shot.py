# ./retentive-defrcn_r18-light-fpn_neu-det_5shot.py at 10 shots: 600 iterations, x0.1 at 480.
_base_ = ['./retentive-defrcn_r18-light-fpn_neu-det_5shot.py']

fewshot = dict(shots=10)
train_cfg = dict(max_iters=600, val_interval=600)
param_scheduler = [_base_.param_scheduler[0],  # the same warm-up
                   dict(_base_.param_scheduler[1], end=600, milestones=[480])]
