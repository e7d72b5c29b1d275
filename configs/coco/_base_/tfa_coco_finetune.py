# TFA w/ cos k-shot fine-tuning on COCO (G-FSOD, all 80 classes), from the base training's
# checkpoint, as TFA's faster_rcnn_R_101_FPN_ft_all_<k>shot.yaml (cosine scale 20, lr 0.001 at
# batch 16). TFA's seed files load with fewshot.load_selection=<cocosplit/seedS>.
_base_ = [
    '../../_base_/recipes/tfa_cos.py',
    '../../_base_/datasets/coco_fewshot.py',
    '../../_base_/schedules/base_training.py',
]

fewshot = dict(
    class_split='coco_fsod',
    base_checkpoint='work_dirs/tfa_r101_fpn_coco_base/iter_110000.pth')
model = dict(
    backbone=dict(depth=101),
    roi_head=dict(bbox_head=dict(num_classes=80)))
optim_wrapper = dict(optimizer=dict(lr=0.001))
default_hooks = dict(checkpoint=dict(save_best='fs/bbox_nAP', rule='greater'))
