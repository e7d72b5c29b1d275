# DeFRCN (see README.md) at 5 shots on NEU-DET, the light model, from the NEU-DET base training's
# checkpoint, with the images and boxes, schedule and seeds of the recipe and the plain anchor
# (docs/results.md):
#   python tools/train.py configs/defrcn/defrcn_r18-light-fpn_neu-det_5shot.py \
#       --cfg-options fewshot.seed=1
_base_ = [
    '../_base_/models/defrcn_r18-light-fpn.py',
    '../_base_/datasets/neu_det.py',
    '../_base_/schedules/schedule_400.py',
]

fewshot = dict(
    shots=5,
    class_split=dict(novel=_base_.novel_classes),
    base_checkpoint='work_dirs/neu_det/base/iter_3000.pth')
model = dict(roi_head=dict(bbox_head=dict(num_classes=6)))  # every class (G-FSOD)
default_hooks = dict(checkpoint=dict(interval=100000), logger=dict(interval=50))
