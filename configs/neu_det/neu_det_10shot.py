# 10-shot G-FSOD fine-tuning on NEU-DET with the plugin's recipe (see
# _base_/neu_det_finetune.py), on CPU:
#   python tools/train.py configs/neu_det/neu_det_10shot.py --cfg-options fewshot.seed=1
_base_ = ['./_base_/neu_det_finetune.py']

fewshot = dict(shots=10)
train_cfg = {{_base_.train_cfg_10shot}}
param_scheduler = {{_base_.param_scheduler_10shot}}
