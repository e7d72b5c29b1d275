"""mmfs_plugin.evaluation: few-shot COCO AP (overall, base, novel) and the MVREC
classification accuracy on ground-truth boxes, with the loops that score those boxes."""
from .fewshot_coco_metric import FewShotCocoMetric
from .fewshot_loops import FewShotTestLoop, FewShotValLoop, GTBoxScoring
from .gt_box_accuracy import GTBoxAccuracy

__all__ = [
    'FewShotCocoMetric', 'FewShotTestLoop', 'FewShotValLoop', 'GTBoxAccuracy', 'GTBoxScoring'
]
