# PASCAL VOC for few-shot detection as TFA uses it: training (and k-shot sampling) on VOC2007 +
# VOC2012 trainval, evaluation on VOC2007 test; data under data/VOCdevkit/ (mmdet's layout).
# The base/novel split is fewshot.class_split ('voc_split1', 'voc_split2', 'voc_split3').
# AP is reported by FewShotCocoMetric (COCO's 101-point interpolation; nAP50 at IoU 0.5), which
# differs slightly from VOC2007's 11-point AP of TFA's tables.
data_root = 'data/VOCdevkit/'
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomChoiceResize',
         scales=[(1333, 480), (1333, 512), (1333, 544), (1333, 576), (1333, 608), (1333, 640),
                 (1333, 672), (1333, 704), (1333, 736), (1333, 768), (1333, 800)],
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
        dataset=[
            dict(type='VOCDataset', data_root=data_root,
                 ann_file=f'VOC{year}/ImageSets/Main/trainval.txt',
                 data_prefix=dict(sub_data_root=f'VOC{year}/'), backend_args=backend_args)
            for year in ('2007', '2012')
        ],
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
        dataset=dict(type='VOCDataset', data_root=data_root,
                     ann_file='VOC2007/ImageSets/Main/test.txt',
                     data_prefix=dict(sub_data_root='VOC2007/'), test_mode=True,
                     backend_args=backend_args),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='FewShotCocoMetric', metric='bbox', classwise=True)
test_evaluator = val_evaluator
