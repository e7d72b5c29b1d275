# ./tfa_r101-fpn_voc-split1_5shot.py at 2 shots, as TFA's ft_all1_2shot.yaml.
_base_ = ['./tfa_r101-fpn_voc-split1_5shot.py']

fewshot = dict(shots=2)
train_cfg = dict(max_iters=8000, val_interval=2000)
param_scheduler = [dict(_base_.param_scheduler[0], end=8000, milestones=[7000])]
