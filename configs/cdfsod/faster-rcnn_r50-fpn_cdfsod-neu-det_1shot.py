# ./faster-rcnn_r50-fpn_cdfsod-neu-det_5shot.py on the 1-shot file: 200 iterations, x0.1 at 160.
_base_ = ['./faster-rcnn_r50-fpn_cdfsod-neu-det_5shot.py']

train_dataloader = dict(dataset=dict(dataset=dict(ann_file='annotations/1_shot.json')))
train_cfg = dict(max_iters=200, val_interval=200)
param_scheduler = [_base_.param_scheduler[0],  # the same warm-up
                   dict(_base_.param_scheduler[1], end=200, milestones=[160])]
