# CPU-sized parts shared by the demo configs: the synthetic demo set (tools/
# make_synthetic_mvtecfs.py, 128 px), a light Faster R-CNN (ResNet-18 trained from scratch,
# 64-channel FPN, 256-d fcs, 64 sampled RoIs, few proposals), small batches, no workers.
# The demo configs merge these into the GPU configs with `model = {{_base_.demo_model}}` etc.
demo_data_root = 'data/demo_mvtec_fs/'
demo_classes = ('bottle/broken_large', 'bottle/broken_small', 'bottle/contamination',
                'screw/manipulated_front', 'screw/scratch_head', 'screw/scratch_neck',
                'wood/color', 'wood/hole', 'wood/scratch')
demo_scale = (128, 128)

demo_model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64),
    rpn_head=dict(
        in_channels=64,
        feat_channels=64,
        anchor_generator=dict(scales=[4])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=400, max_per_img=200),
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=200, max_per_img=100)))
# The same with the box head's label space stated: the 6 base classes (split1 makes the bottle
# classes novel) for base training, all 9 for G-FSOD fine-tuning. FewShotRunner checks them.
demo_base_model = dict(demo_model, roi_head=dict(
    demo_model['roi_head'], bbox_head=dict(demo_model['roi_head']['bbox_head'], num_classes=6)))
demo_finetune_model = dict(demo_model, roi_head=dict(
    demo_model['roi_head'], bbox_head=dict(demo_model['roi_head']['bbox_head'], num_classes=9)))

demo_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=demo_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
# fine-tuning: the recipe's augmentation of the few shots (finetune_pipeline of mvtec_fs.py)
demo_finetune_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=demo_scale, ratio_range=(0.84, 1.16), keep_ratio=True),
    dict(type='RandomFlip', prob=[0.25, 0.25, 0.25],
         direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='PackDetInputs'),
]
demo_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=demo_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                    'instances')),
]
demo_train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        dataset=dict(data_root=demo_data_root, metainfo=dict(classes=demo_classes)),
        filter_cfg=dict(filter_empty_gt=True, min_size=0),
        pipeline=demo_train_pipeline))
demo_finetune_dataloader = dict(demo_train_dataloader, dataset=dict(
    demo_train_dataloader['dataset'], pipeline=demo_finetune_pipeline))
demo_test_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        dataset=dict(data_root=demo_data_root, metainfo=dict(classes=demo_classes)),
        pipeline=demo_test_pipeline))
demo_env_cfg = dict(dist_cfg=dict(backend='gloo'))
