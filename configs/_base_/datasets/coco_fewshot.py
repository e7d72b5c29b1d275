# COCO for few-shot detection (TFA's protocol on COCO 2017 files): training and k-shot sampling on
# train2017, evaluation on val2017 (the 5k images TFA holds out of trainval2014); data under
# data/coco/ (mmdet's layout). The split is fewshot.class_split='coco_fsod' (60 base, the 20 VOC
# classes novel).
data_root = 'data/coco/'
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomChoiceResize',
         scales=[(1333, 640), (1333, 672), (1333, 704), (1333, 736), (1333, 768), (1333, 800)],
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                    'instances', 'left_out_instances')),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type='FewShotDataset',
        dataset=dict(type='CocoDataset', data_root=data_root,
                     ann_file='annotations/instances_train2017.json',
                     data_prefix=dict(img='train2017/'), backend_args=backend_args),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='FewShotDataset',
        dataset=dict(type='CocoDataset', data_root=data_root,
                     ann_file='annotations/instances_val2017.json',
                     data_prefix=dict(img='val2017/'), test_mode=True, backend_args=backend_args),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='FewShotCocoMetric', metric='bbox')
test_evaluator = val_evaluator
