# ./faster-rcnn_r50-fpn_cdfsod-neu-det_5shot.py on the 10-shot file: 1000 iterations, x0.1 at 800.
_base_ = ['./faster-rcnn_r50-fpn_cdfsod-neu-det_5shot.py']

train_dataloader = dict(dataset=dict(dataset=dict(ann_file='annotations/10_shot.json')))
train_cfg = dict(max_iters=1000, val_interval=1000)
param_scheduler = [_base_.param_scheduler[0],  # the same warm-up
                   dict(_base_.param_scheduler[1], end=1000, milestones=[800])]
