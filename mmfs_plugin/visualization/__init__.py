"""Pictures of few-shot data and results (matplotlib, Agg): annotated images, predictions beside
the ground truth, per-class AP and confusion charts. Helpers over arrays and ``data_list``
instances; the tools build datasets and read checkpoints."""
from .charts import plot_confusion_matrix, plot_per_class_ap
from .confusion import MISSED, box_iou, confusion_matrix, match_gt_to_detections
from .drawing import draw_instances, draw_predictions, draw_predictions_beside_gt
from .layout import display_scale, place_labels, scale_image
from .predictions import read_dumped_predictions

__all__ = [
    'MISSED', 'box_iou', 'confusion_matrix', 'display_scale', 'draw_instances',
    'draw_predictions', 'draw_predictions_beside_gt', 'match_gt_to_detections',
    'place_labels', 'plot_confusion_matrix', 'plot_per_class_ap', 'read_dumped_predictions',
    'scale_image'
]
