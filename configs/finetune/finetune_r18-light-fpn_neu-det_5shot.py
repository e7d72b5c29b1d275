# Plain fine-tuning at 5 shots on NEU-DET, the anchor every figure is set beside (see README.md):
#   python tools/train.py configs/finetune/finetune_r18-light-fpn_neu-det_5shot.py \
#       --cfg-options fewshot.seed=1
_base_ = [
    '../_base_/models/faster-rcnn_r18-light-fpn.py',
    '../_base_/datasets/neu_det.py',
    '../_base_/schedules/schedule_400.py',
    '../_base_/fewshot_runtime.py',
]

fewshot = dict(
    setting='gfsod',
    shots=5,
    unselected='keep',  # the images of the selected instances with all their boxes
    class_split=dict(novel=_base_.novel_classes),
    base_checkpoint='work_dirs/neu_det/base/iter_3000.pth')
# every class (G-FSOD); norm_eval keeps a batch-norm backbone's statistics (GroupNorm has none)
model = dict(backbone=dict(norm_eval=True), roi_head=dict(bbox_head=dict(num_classes=6)))
# the base checkpoint as `load_from` loads it: the classifier and box regressor, whose shapes
# differ, are dropped and start from mmdet's own init
custom_hooks = [
    *_base_.custom_hooks,
    dict(type='FewShotSurgeryHook', checkpoint='', method='remove'),
]
default_hooks = dict(checkpoint=dict(interval=100000), logger=dict(interval=50))
