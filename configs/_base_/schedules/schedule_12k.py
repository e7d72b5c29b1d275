# 12k iterations at batch 16 (8 GPUs x 2 images; scaled by --auto-scale-lr otherwise), SGD at lr
# 0.02, x0.1 at 8k and 10.5k: base training; fine-tuning configs set their own iterations.
max_iters = 12000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters,
         milestones=[8000, 10500], gamma=0.1)
]
auto_scale_lr = dict(enable=False, base_batch_size=16)
