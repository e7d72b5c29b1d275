# TFA w/ cos, 30-shot fine-tuning on COCO (see _base_/tfa_coco_finetune.py):
#   tools/dist_train.sh configs/coco/tfa_r101_fpn_coco_30shot.py 8 \
#       --cfg-options fewshot.base_checkpoint=work_dirs/tfa_r101_fpn_coco_base/iter_110000.pth
_base_ = ['./_base_/tfa_coco_finetune.py']

fewshot = dict(shots=30)
train_cfg = dict(max_iters=240000, val_interval=60000)
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=240000, milestones=[216000],
         gamma=0.1)
]
