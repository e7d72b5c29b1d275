# ./tfa_r101-fpn_voc-split1_5shot.py at 10 shots, as TFA's ft_all1_10shot.yaml.
_base_ = ['./tfa_r101-fpn_voc-split1_5shot.py']

fewshot = dict(shots=10)
train_cfg = dict(max_iters=40000, val_interval=10000)
param_scheduler = [dict(_base_.param_scheduler[0], end=40000, milestones=[36000])]
