# ./retentive-defrcn_r18-light-fpn_neu-det_5shot.py at 1 shot: 160 iterations, x0.1 at 128.
_base_ = ['./retentive-defrcn_r18-light-fpn_neu-det_5shot.py']

fewshot = dict(shots=1)
train_cfg = dict(max_iters=160, val_interval=160)
param_scheduler = [_base_.param_scheduler[0],  # the same warm-up
                   dict(_base_.param_scheduler[1], end=160, milestones=[128])]
