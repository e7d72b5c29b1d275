# The anchor every figure is set beside: what a plain mmdet user does. The same base checkpoint,
# loaded as `load_from` would load it (every weight whose shape fits: FewShotSurgeryHook's
# 'remove' drops the old classifier and box regressor, which then start from mmdet's own init),
# mmdet's own Faster R-CNN with its own box head (Shared2FCBBoxHead, softmax classifier), every
# layer fine-tuned, on the same k-shot images with the same boxes as the recipe (both keep every
# box of the selected images; `--cfg-options fewshot.unselected=ignore` trains both on the
# selected instances only).
_base_ = [
    '../../_base_/models/faster_rcnn_r50_fpn_fs.py',
    '../../_base_/fewshot_runtime.py',
    './neu_det.py',
    '../../_base_/schedules/base_training.py',
    './finetune_schedules.py',
]

fewshot = dict(
    setting='gfsod',
    unselected='keep',  # the images of the selected instances with all their boxes
    class_split=dict(novel={{_base_.neu_novel}}),
    base_checkpoint='work_dirs/neu_det/base/iter_3000.pth')
model = {{_base_.neu_finetune_model}}
custom_hooks = [
    dict(type='KShotSelectionHook'),
    dict(type='RNGStateHook'),
    dict(type='CheckpointClassesHook'),
    dict(type='FewShotSurgeryHook', checkpoint='', method='remove'),
]
optim_wrapper = dict(optimizer=dict(lr=0.02))
env_cfg = dict(dist_cfg=dict(backend='gloo'))  # CPU
default_hooks = dict(checkpoint=dict(interval=100000, save_best=None), logger=dict(interval=50))
