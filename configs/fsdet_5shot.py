# MVTec-FS 5-shot fine-tuning with the plugin's recipe (RetentiveTFA w/ cos,
# configs/retentive_tfa/README.md) and its augmentation of the few shots: G-FSOD on split1
# (k shots of every base and novel class), seed 0; fewshot.setting='fsod' trains on the novel
# classes only.
#   python tools/train.py configs/fsdet_5shot.py \
#       --cfg-options fewshot.base_checkpoint=work_dirs/fsdet_base/iter_12000.pth fewshot.seed=1
_base_ = [
    './_base_/models/retentive-tfa_r50-fpn.py',
    './_base_/datasets/mvtec_fs.py',
    './_base_/schedules/schedule_12k.py',
]

fewshot = dict(
    shots=5,
    class_split='split1',
    # the base-training checkpoint (FewShotRunner passes it to FewShotSurgeryHook)
    base_checkpoint='work_dirs/fsdet_base/iter_12000.pth')
# all 68 classes (G-FSOD on split1); FewShotRunner sets it for another split or setting
model = dict(roi_head=dict(bbox_head=dict(num_classes=68)),
             base_detector='{{ fileDirname }}/fsdet_base.py')  # the frozen base branch
train_dataloader = dict(dataset=dict(pipeline=_base_.finetune_pipeline))

optim_wrapper = dict(optimizer=dict(lr=0.005))
train_cfg = dict(max_iters=5000, val_interval=1250)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=10),
    dict(type='MultiStepLR', by_epoch=False, milestones=[4000], gamma=0.1)
]
