# 5-shot G-FSOD fine-tuning on NEU-DET with the plugin's recipe (RetentiveTFA w/ cos, see
# README.md) on the light model, from the NEU-DET base training's checkpoint, on CPU:
#   python tools/train.py configs/retentive_tfa/retentive-tfa_r18-light-fpn_neu-det_5shot.py \
#       --cfg-options fewshot.seed=1
# Chosen on val (docs/results.md, "Choices per shot count"): lr 0.02 over 0.01 (val nAP50
# 48.1 against 44.9, 5 seeds); every layer trains, over the backbone, neck and RPN frozen
# (share='proposals': val 13.5). The schedule was set before val existed.
_base_ = [
    '../_base_/models/retentive-tfa_r18-light-fpn.py',
    '../_base_/datasets/neu_det.py',
    '../_base_/schedules/schedule_400.py',
]

fewshot = dict(
    shots=5,
    class_split=dict(novel=_base_.novel_classes),
    base_checkpoint='work_dirs/neu_det/base/iter_3000.pth')
model = dict(
    roi_head=dict(bbox_head=dict(num_classes=6)),  # every class (G-FSOD)
    # the frozen base branch: the base training's detector
    base_detector='{{ fileDirname }}/../base_training/faster-rcnn_r18-light-fpn_neu-det_base.py')
train_dataloader = dict(dataset=dict(pipeline=_base_.finetune_pipeline))
default_hooks = dict(checkpoint=dict(interval=100000), logger=dict(interval=50))
