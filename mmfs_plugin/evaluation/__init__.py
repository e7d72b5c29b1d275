"""mmfs_plugin.evaluation: few-shot COCO AP (overall, base, novel), the MVREC
classification accuracy on ground-truth boxes (scored by :class:`GTBoxScoring`) and the
image-level inspection rates (escape, overkill, AUROC)."""
from .fewshot_coco_metric import FewShotCocoMetric
from .gt_box_accuracy import GTBoxAccuracy
from .gt_box_scoring import GTBoxScoring
from .inspection_metric import InspectionMetric

__all__ = ['FewShotCocoMetric', 'GTBoxAccuracy', 'GTBoxScoring', 'InspectionMetric']
