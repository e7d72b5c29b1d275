# TFA w/ cos at 3 shots on NEU-DET (see _base_/neu_det_tfa.py), the schedule of
# neu_det_3shot.py:
#   python tools/train.py configs/neu_det/neu_det_tfa_3shot.py --cfg-options fewshot.seed=1
_base_ = ['./_base_/neu_det_tfa.py']

fewshot = dict(shots=3)
train_cfg = {{_base_.train_cfg_3shot}}
param_scheduler = {{_base_.param_scheduler_3shot}}
