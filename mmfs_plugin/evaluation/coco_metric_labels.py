"""mmdet's ``CocoMetric`` given an ``ann_file``, checked against the label space it will score.

mmdet 3.3's ``CocoMetric`` maps label ``i`` to ``cat_ids[i]``, the ``i``-th category of the
annotation file *in file order* among those whose name is a class
(``COCO.get_cat_ids(cat_names=classes)``, ``coco_metric.py``). The plugin's datasets label by
class *name* in the configured order, and the few-shot settings narrow the label space (the
base classes only, the novel classes only). Where the two orders differ, every prediction is
scored as another class, silently. :class:`~.FewShotCocoMetric` scores the dataset's own ground
truth by name and has no such pitfall.
"""
from typing import Any, Iterator, Mapping, Sequence

from mmengine.fileio import load

#: The ``type`` values that name mmdet's ``CocoMetric``.
_COCO_METRIC_TYPES = ('CocoMetric', 'mmdet.CocoMetric')


def _metric_cfgs(evaluator: Any) -> Iterator[Mapping]:
    """The metric configs of an evaluator config (a metric, a list, or ``dict(metrics=...)``)."""
    if isinstance(evaluator, Mapping) and 'metrics' in evaluator:
        evaluator = evaluator['metrics']
    for metric in evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]:
        if isinstance(metric, Mapping):
            yield metric


def _is_coco_metric(metric_type: Any) -> bool:
    if isinstance(metric_type, str):
        return metric_type in _COCO_METRIC_TYPES
    return getattr(metric_type, '__name__', None) == 'CocoMetric'


def check_coco_metric_labels(evaluator: Any, classes: Sequence[str], where: str) -> None:
    """Refuse a ``CocoMetric(ann_file=...)`` that would score label ``i`` as another class.

    Args:
        evaluator (dict | list): An evaluator config (``val_evaluator``, ``test_evaluator``).
        classes (Sequence[str]): The label space of the dataset it evaluates, in label order.
        where (str): The config key, named in the error.

    Raises:
        ValueError: A ``CocoMetric`` whose ``ann_file`` lists the classes' categories in another
            order, or one class under several categories; naming the file and both orders.
    """
    for metric in _metric_cfgs(evaluator):
        ann_file = metric.get('ann_file')
        if not ann_file or not _is_coco_metric(metric.get('type')):
            continue
        try:
            categories = load(ann_file, backend_args=metric.get('backend_args'))['categories']
        except Exception:  # CocoMetric reports an unreadable file itself
            continue
        wanted = set(classes)
        in_file = [category.get('name') for category in categories
                   if category.get('name') in wanted]
        if in_file != list(classes):
            raise ValueError(
                f'{where}: CocoMetric(ann_file={ann_file!r}) would score label i as the i-th '
                f'category of the file among the classes, {in_file}, but the dataset labels '
                f'by class name, {list(classes)}: every box would be scored as another class. '
                "Use dict(type='FewShotCocoMetric') (COCO AP of the dataset's own ground "
                'truth, by name; bAP/nAP too), or a CocoMetric without ann_file')
