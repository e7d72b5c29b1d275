# ./tfa_r101-fpn_voc-split1_5shot.py at 1 shot, as TFA's ft_all1_1shot.yaml.
_base_ = ['./tfa_r101-fpn_voc-split1_5shot.py']

fewshot = dict(shots=1)
train_cfg = dict(max_iters=4000, val_interval=1000)
param_scheduler = [dict(_base_.param_scheduler[0], end=4000, milestones=[3000])]
