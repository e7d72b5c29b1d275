"""mmfs_plugin.evaluation: few-shot COCO AP (overall, base, novel) and the MVREC
classification accuracy on ground-truth boxes (scored by :class:`GTBoxScoring`)."""
from .fewshot_coco_metric import FewShotCocoMetric
from .gt_box_accuracy import GTBoxAccuracy
from .gt_box_scoring import GTBoxScoring

__all__ = ['FewShotCocoMetric', 'GTBoxAccuracy', 'GTBoxScoring']
