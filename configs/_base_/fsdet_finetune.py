# k-shot fine-tuning on MVTec-FS with the plugin's recipe (configs/_base_/fewshot_recipe.py) and
# its augmentation of the few shots (finetune_pipeline of ./datasets/mvtec_fs.py):
# G-FSOD by default (k shots of every base and novel class); fewshot.setting='fsod' trains on
# the novel classes only.
_base_ = [
    './fewshot_recipe.py',
    './datasets/mvtec_fs.py',
    './schedules/base_training.py',
]

fewshot = dict(
    class_split='split1',
    # the base-training checkpoint (FewShotRunner passes it to FewShotSurgeryHook)
    base_checkpoint='work_dirs/fsdet_base/iter_12000.pth')
# all 68 classes (G-FSOD on split1); FewShotRunner sets it for another split or setting
model = dict(roi_head=dict(bbox_head=dict(num_classes=68)))
train_dataloader = dict(dataset=dict(pipeline={{_base_.finetune_pipeline}}))

optim_wrapper = dict(optimizer=dict(lr=0.005))
default_hooks = dict(checkpoint=dict(save_best='fs/bbox_nAP', rule='greater'))
