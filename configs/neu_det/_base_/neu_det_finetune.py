# k-shot G-FSOD fine-tuning on NEU-DET with the plugin's recipe (configs/_base_/fewshot_recipe.py)
# and its augmentation of the few shots (finetune_pipeline), the light model, from the NEU-DET
# base training's checkpoint. The configs neu_det_<k>shot.py set k and the schedule.
_base_ = [
    '../../_base_/fewshot_recipe.py',
    './neu_det.py',
    '../../_base_/schedules/base_training.py',
    './finetune_schedules.py',
]

fewshot = dict(
    class_split=dict(novel={{_base_.neu_novel}}),
    base_checkpoint='work_dirs/neu_det/base/iter_3000.pth')
model = {{_base_.neu_finetune_model}}
train_dataloader = dict(dataset=dict(pipeline={{_base_.finetune_pipeline}}))
optim_wrapper = dict(optimizer=dict(lr=0.02))
env_cfg = dict(dist_cfg=dict(backend='gloo'))  # CPU
default_hooks = dict(checkpoint=dict(interval=100000, save_best=None), logger=dict(interval=50))
