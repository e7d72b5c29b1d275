# The few-shot runtime, stated once and inherited by every config (mmdet's default_runtime.py
# plus the plugin): FewShotRunner applies `fewshot` to the datasets and the box head; the k-shot
# selection is written to the work dir; iteration-based loops. A fine-tuning method adds its
# weight surgery to these hooks (`custom_hooks = [*_base_.custom_hooks, ...]`). Distributed
# runs on CPU need no env_cfg: importing mmfs_plugin makes mmengine use gloo where there is no
# accelerator (mmfs_plugin/compat/cpu_distributed.py).
_base_ = ['mmdet::_base_/default_runtime.py']

custom_imports = dict(imports=['mmfs_plugin'], allow_failed_imports=False)
# mmdet's tools build runner_type from mmengine's root registry: name the mmdet scope.
runner_type = 'mmdet.FewShotRunner'

# The few-shot protocol, in one place (override with --cfg-options fewshot.seed=3 ...):
#   setting: 'base' (base classes, all instances), 'gfsod' (k shots of base and novel
#   classes, TFA), 'fsod' (k shots of novel classes only);
#   class_split: a named split (split1, split2, split3, defect_split1), a JSON file or a dict;
#   shots / base_shots / seed / unselected: the k-shot rule (training set only);
#   load_selection: a kshot_selection.json or a folder of TFA's seed files instead of drawing.
fewshot = dict(setting='base', seed=0, unselected='ignore', load_selection=None)

custom_hooks = [
    dict(type='KShotSelectionHook'),
    dict(type='RNGStateHook'),
    dict(type='CheckpointClassesHook'),  # a tested checkpoint must fit the label space
    dict(type='GTBoxScoringHook'),  # scores the GT boxes where GTBoxAccuracy evaluates
    dict(type='PrototypeHook'),  # DeFRCN's calibration prototypes, where the model has a pcb
    # mmdet's: a run whose loss becomes NaN or infinite stops there, with 'loss become
    # infinite or NaN!' in its log, instead of training on and reporting zeros
    dict(type='CheckInvalidLossHook', interval=1),
]


# No `save_best`: the last checkpoint is reported; most shipped val sets are the test sets, and
# selecting a checkpoint on test images would report a number chosen on them.
default_hooks = dict(
    logger=dict(type='RankZeroDumpLoggerHook', interval=20),  # metrics file: rank 0 only
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000, max_keep_ckpts=2),
    visualization=dict(type='DetVisualizationHook'))
log_processor = dict(type='LogProcessor', window_size=20, by_epoch=False)

# A fixed seed: the samplers' streams (and so a resumed run's batches) depend on it.
randomness = dict(seed=0)
