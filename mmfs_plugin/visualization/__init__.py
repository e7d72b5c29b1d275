"""mmfs_plugin.visualization: pictures of few-shot data and results (matplotlib, Agg).

Pure helpers over numpy arrays and ``data_list``-style instances; they neither build datasets
nor read checkpoints (the tools do): :mod:`.drawing` (annotated images, predictions beside the
ground truth), :mod:`.layout` (the scale an image is drawn at, where labels go),
:mod:`.charts` (per-class AP, confusion matrix), :mod:`.style` (split colours, saving),
:mod:`.confusion` (the matching behind the confusion matrix).
"""
from .charts import plot_confusion_matrix, plot_per_class_ap
from .confusion import MISSED, box_iou, confusion_matrix, match_gt_to_detections
from .drawing import draw_instances, draw_predictions, draw_predictions_beside_gt
from .layout import display_scale, place_labels, scale_image

__all__ = [
    'MISSED', 'box_iou', 'confusion_matrix', 'display_scale', 'draw_instances',
    'draw_predictions', 'draw_predictions_beside_gt', 'match_gt_to_detections',
    'place_labels', 'plot_confusion_matrix', 'plot_per_class_ap', 'scale_image'
]
