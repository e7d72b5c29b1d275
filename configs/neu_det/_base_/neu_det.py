# NEU-DET (real steel-surface defects, 200x200 grayscale, 6 classes) at the native 200 px, for the
# light CPU model. Data: ../shared/data/neu_det linked as data/neu_det (docs/results.md).
# The train/test split is configs/neu_det/splits/{train,test}.txt (tools/neu_det_split.py: per
# file-name class, 20% for testing by the plugin's seeded shuffle; 1440 / 360 images); the novel
# classes are the two rarest (pitted_surface 432 boxes, scratches 548), the other four are base.
neu_classes = ('crazing', 'inclusion', 'patches', 'pitted_surface', 'rolled-in_scale',
               'scratches')
neu_novel = ['pitted_surface', 'scratches']
data_root = 'data/neu_det/labelme/'
splits = '{{ fileDirname }}/../splits/'
scale = (200, 200)

# The light model: ResNet-18 trained from scratch (no weights can be downloaded), 64-channel
# FPN, 256-d box-head fcs, 128 sampled RoIs; anchors with elongated ratios for scratches and
# crazing. Merged into the R50-FPN model with `model = {{_base_.neu_base_model}}`.
neu_model = dict(
    backbone=dict(depth=18, init_cfg=None, frozen_stages=-1, norm_eval=False),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64),
    rpn_head=dict(
        in_channels=64,
        feat_channels=64,
        anchor_generator=dict(scales=[4], ratios=[0.25, 0.5, 1.0, 2.0, 4.0])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=600, max_per_img=300),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=150)))
# The GPU variant: mmdet's R50-FPN (256-channel FPN, 1024-d fcs) at the same 200 px with the same
# anchors, merged over the light model: for fine-tuning (every weight from the base checkpoint),
# and for base training from an ImageNet backbone (configs neu_det_r50_*.py).
neu_r50_model = dict(
    backbone=dict(depth=50, frozen_stages=1, norm_eval=True),
    neck=dict(in_channels=[256, 512, 1024, 2048], out_channels=256),
    rpn_head=dict(in_channels=256, feat_channels=256),
    roi_head=dict(bbox_roi_extractor=dict(out_channels=256),
                  bbox_head=dict(in_channels=256, fc_out_channels=1024)))
neu_r50_base_model = dict(neu_r50_model, backbone=dict(
    neu_r50_model['backbone'],
    init_cfg=dict(_delete_=True, type='Pretrained', checkpoint='torchvision://resnet50')))
# with the label space stated: the 4 base classes, or all 6 (G-FSOD fine-tuning)
neu_base_model = dict(neu_model, roi_head=dict(
    neu_model['roi_head'], bbox_head=dict(neu_model['roi_head']['bbox_head'], num_classes=4)))
# (fine-tuning keeps the base model's batch-norm statistics: norm_eval=True)
neu_finetune_model = dict(
    neu_model,
    backbone=dict(neu_model['backbone'], norm_eval=True),
    roi_head=dict(neu_model['roi_head'],
                  bbox_head=dict(neu_model['roi_head']['bbox_head'], num_classes=6)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
# The recipe's augmentation of the few shots (configs/_base_/fewshot_recipe.py): sizes from 0.84x
# to 1.16x of the training scale and horizontal, vertical or diagonal flips (surface defects have
# no up or down). Measured on NEU-DET at 5 shots (docs/results.md).
finetune_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=scale, ratio_range=(0.84, 1.16), keep_ratio=True),
    dict(type='RandomFlip', prob=[0.25, 0.25, 0.25],
         direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                    'instances')),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type='FewShotDataset',
        dataset=dict(type='LabelmeDataset', data_root=data_root,
                     ann_file=splits + 'train.txt', metainfo=dict(classes=neu_classes)),
        filter_cfg=dict(filter_empty_gt=True, min_size=0),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='FewShotDataset',
        dataset=dict(type='LabelmeDataset', data_root=data_root, ann_file=splits + 'test.txt',
                     metainfo=dict(classes=neu_classes), test_mode=True),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = [
    dict(type='FewShotCocoMetric', metric='bbox', classwise=True),
    dict(type='GTBoxAccuracy'),
]
test_evaluator = val_evaluator
