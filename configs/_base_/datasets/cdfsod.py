# The CD-FSOD benchmark's layout (Fu et al., "Cross-Domain Few-Shot Object Detection via Enhanced
# Open-Set Object Detector", ECCV 2024), one folder per target data set, read as it is:
#   <data_root>/annotations/{train,test,1_shot,5_shot,10_shot}.json   COCO files
#   <data_root>/train/   <data_root>/test/                            their images
# The k-shot file is the selection: it is the training set (`shot_file`; fewshot.shots unset,
# every instance of it is trained on). Every class is novel (setting 'fsod'), the test set is
# test.json. Data under data/cdfsod/<name>/ (NEU-DET here; its classes are NEU-DET's six).
data_root = 'data/cdfsod/NEU-DET/'
classes = ('crazing', 'inclusion', 'patches', 'pitted_surface', 'rolled-in_scale', 'scratches')
shot_file = 'annotations/5_shot.json'
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
                    'instances')),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type='FewShotDataset',
        dataset=dict(type='CocoDataset', data_root=data_root, ann_file=shot_file,
                     data_prefix=dict(img='train/'), metainfo=dict(classes=classes),
                     backend_args=backend_args),
        filter_cfg=dict(filter_empty_gt=True, min_size=0),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='FewShotDataset',
        dataset=dict(type='CocoDataset', data_root=data_root, ann_file='annotations/test.json',
                     data_prefix=dict(img='test/'), metainfo=dict(classes=classes),
                     test_mode=True, backend_args=backend_args),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='FewShotCocoMetric', metric='bbox', classwise=True)
test_evaluator = val_evaluator
