# ./tfa_r101-fpn_voc-split1_5shot.py at 3 shots, as TFA's ft_all1_3shot.yaml.
_base_ = ['./tfa_r101-fpn_voc-split1_5shot.py']

fewshot = dict(shots=3)
train_cfg = dict(max_iters=12000, val_interval=3000)
param_scheduler = [dict(_base_.param_scheduler[0], end=12000, milestones=[11000])]
