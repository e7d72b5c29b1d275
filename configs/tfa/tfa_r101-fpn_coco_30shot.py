# ./tfa_r101-fpn_coco_10shot.py at 30 shots, as TFA's faster_rcnn_R_101_FPN_ft_all_30shot.yaml.
_base_ = ['./tfa_r101-fpn_coco_10shot.py']

fewshot = dict(shots=30)
train_cfg = dict(max_iters=240000, val_interval=60000)
param_scheduler = [dict(_base_.param_scheduler[0], end=240000, milestones=[216000])]
