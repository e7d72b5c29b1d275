# TFA w/ cos, 2-shot fine-tuning on PASCAL VOC split1 (see _base_/tfa_voc_finetune.py):
#   tools/dist_train.sh configs/voc/tfa_r101_fpn_voc_split1_2shot.py 8 \
#       --cfg-options fewshot.base_checkpoint=work_dirs/tfa_r101_fpn_voc_split1_base/iter_18000.pth
_base_ = ['./_base_/tfa_voc_finetune.py']

fewshot = dict(shots=2)
train_cfg = dict(max_iters=8000, val_interval=2000)
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=8000, milestones=[7000],
         gamma=0.1)
]
