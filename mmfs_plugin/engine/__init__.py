"""Training-time machinery: the few-shot runner, weight surgery and the plugin's hooks."""
from .checkpoint_classes_hook import CheckpointClassesHook
from .gt_box_scoring_hook import GTBoxScoringHook
from .fewshot_runner import FewShotRunner, apply_fewshot_settings, build_fewshot_dataset
from .kshot_selection_hook import KShotSelectionHook
from .prototype_hook import PrototypeHook
from .rank_zero_dump_hook import RankZeroDumpLoggerHook
from .rng_state_hook import RNGStateHook
from .surgery import (HEAD_PREFIX, SURGERY_METHODS, SurgeryError, SurgerySource,
                      load_surgery_source, surgery)
from .shutdown import close_distributed
from .surgery_hook import FewShotSurgeryHook

__all__ = [
    'CheckpointClassesHook', 'FewShotRunner', 'apply_fewshot_settings', 'build_fewshot_dataset',
    'KShotSelectionHook', 'PrototypeHook', 'RNGStateHook', 'HEAD_PREFIX',
    'SURGERY_METHODS', 'SurgeryError', 'SurgerySource', 'load_surgery_source', 'surgery',
    'FewShotSurgeryHook', 'GTBoxScoringHook', 'RankZeroDumpLoggerHook', 'close_distributed'
]
