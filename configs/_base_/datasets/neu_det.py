# NEU-DET (real steel-surface defects, 200x200 grayscale, 6 classes) at the native 200 px, read
# from its labelme JSON. Data: ../shared/data/neu_det linked as data/neu_det (docs/results.md).
# The splits are ./neu_det_splits/*.txt (tools/dataset_converters/neu_det_split.py: per
# file-name class, 20% for testing by the plugin's seeded shuffle): trainval (1440 images; base
# training and the oracle), cut into train (1152; the pool the k shots are drawn from) and val
# (288; where choices are made: the val dataloader), and test (360; reported: the test
# dataloader). The novel classes (`novel_classes`, for fewshot.class_split) are the two rarest
# (pitted_surface 432 boxes, scratches 548), the other four are base.
classes = ('crazing', 'inclusion', 'patches', 'pitted_surface', 'rolled-in_scale', 'scratches')
novel_classes = ['pitted_surface', 'scratches']
data_root = 'data/neu_det/labelme/'
splits = '{{ fileDirname }}/neu_det_splits/'
scale = (200, 200)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
# The default recipe's augmentation of the few shots (configs/retentive_tfa/): sizes from 0.84x
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
                    'instances', 'left_out_instances')),
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
                     ann_file=splits + 'train.txt', metainfo=dict(classes=classes)),
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
        dataset=dict(type='LabelmeDataset', data_root=data_root, ann_file=splits + 'val.txt',
                     metainfo=dict(classes=classes), test_mode=True),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'],
                 dataset=dict(val_dataloader['dataset']['dataset'],
                              ann_file=splits + 'test.txt')))

val_evaluator = [
    dict(type='FewShotCocoMetric', metric='bbox', classwise=True),
    dict(type='GTBoxAccuracy'),
]
test_evaluator = val_evaluator
