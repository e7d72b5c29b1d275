# The plain anchor at 1 shots (see _base_/neu_det_plain.py), the schedule of
# neu_det_1shot.py:
#   python tools/train.py configs/neu_det/neu_det_plain_1shot.py --cfg-options fewshot.seed=1
_base_ = ['./_base_/neu_det_plain.py']

fewshot = dict(shots=1)
train_cfg = {{_base_.train_cfg_1shot}}
param_scheduler = {{_base_.param_scheduler_1shot}}
