# The synthetic demo set (tools/dataset_converters/make_synthetic_mvtecfs.py: MVTec-FS's layout,
# 9 of its classes, 128 px) read as MVTec-FS (./mvtec_fs.py) at 128 px, in batches of 4 without
# workers (CPU).
_base_ = ['./mvtec_fs.py']

data_root = 'data/demo_mvtec_fs/'
classes = ('bottle/broken_large', 'bottle/broken_small', 'bottle/contamination',
           'screw/manipulated_front', 'screw/scratch_head', 'screw/scratch_neck',
           'wood/color', 'wood/hole', 'wood/scratch')
scale = (128, 128)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
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
    dataset=dict(
        dataset=dict(data_root=data_root, metainfo=dict(classes=classes)),
        filter_cfg=dict(min_size=0),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        dataset=dict(data_root=data_root, metainfo=dict(classes=classes)),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
