"""mmfs_plugin.visualization: pictures of few-shot data and results (matplotlib, Agg).

Pure helpers over numpy arrays and ``data_list``-style instances; they neither build datasets
nor read checkpoints (``tools/browse_dataset.py`` and ``tools/analyze_results.py`` do).
"""
from .confusion import MISSED, box_iou, confusion_matrix, match_gt_to_detections
from .drawing import draw_instances, plot_confusion_matrix, plot_per_class_ap

__all__ = [
    'MISSED', 'box_iou', 'confusion_matrix', 'draw_instances', 'match_gt_to_detections',
    'plot_confusion_matrix', 'plot_per_class_ap'
]
