# Fine-tuning schedules on NEU-DET per number of shots (batch 4), used alike by the recipe
# and the plain anchor: about 100 epochs of the 1-shot set down to 40 of the 10-shot set;
# lr 0.02 after a 20-iteration warm-up, x0.1 at 80% of the iterations.
finetune_warmup = dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20)
train_cfg_1shot = dict(max_iters=160, val_interval=160)
param_scheduler_1shot = [finetune_warmup, dict(type='MultiStepLR', by_epoch=False, begin=0,
                                               end=160, milestones=[128], gamma=0.1)]
train_cfg_3shot = dict(max_iters=240, val_interval=240)
param_scheduler_3shot = [finetune_warmup, dict(type='MultiStepLR', by_epoch=False, begin=0,
                                               end=240, milestones=[192], gamma=0.1)]
train_cfg_5shot = dict(max_iters=400, val_interval=400)
param_scheduler_5shot = [finetune_warmup, dict(type='MultiStepLR', by_epoch=False, begin=0,
                                               end=400, milestones=[320], gamma=0.1)]
train_cfg_10shot = dict(max_iters=600, val_interval=600)
param_scheduler_10shot = [finetune_warmup, dict(type='MultiStepLR', by_epoch=False, begin=0,
                                               end=600, milestones=[480], gamma=0.1)]
