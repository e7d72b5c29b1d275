# TFA w/ cos k-shot fine-tuning on PASCAL VOC split1 (G-FSOD, all 20 classes), from the base
# training's checkpoint, as TFA's faster_rcnn_R_101_FPN_ft_all1_<k>shot.yaml (cosine scale 20,
# lr 0.001 at batch 16, no warm-up). The configs tfa_r101_fpn_voc_split1_<k>shot.py set k and the
# schedule; seed files of TFA load with fewshot.load_selection=<vocsplit/seedS> (see README).
_base_ = [
    '../../_base_/recipes/tfa_cos.py',
    '../../_base_/datasets/voc_fewshot.py',
    '../../_base_/schedules/base_training.py',
]

fewshot = dict(
    class_split='voc_split1',
    base_checkpoint='work_dirs/tfa_r101_fpn_voc_split1_base/iter_18000.pth')
model = dict(
    backbone=dict(depth=101),
    roi_head=dict(bbox_head=dict(num_classes=20)))
optim_wrapper = dict(optimizer=dict(lr=0.001))
default_hooks = dict(checkpoint=dict(save_best='fs/bbox_nAP50', rule='greater'))
