# TFA w/ cos at 10 shots on NEU-DET (see _base_/neu_det_tfa.py), the schedule of
# neu_det_10shot.py:
#   python tools/train.py configs/neu_det/neu_det_tfa_10shot.py --cfg-options fewshot.seed=1
_base_ = ['./_base_/neu_det_tfa.py']

fewshot = dict(shots=10)
train_cfg = {{_base_.train_cfg_10shot}}
param_scheduler = {{_base_.param_scheduler_10shot}}
