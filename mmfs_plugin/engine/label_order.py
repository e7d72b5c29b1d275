"""The labels mmdet's own COCO classes give, checked against the label space of the config.

mmdet 3.3's ``CocoDataset`` and ``CocoMetric(ann_file=...)`` map label ``i`` to ``cat_ids[i]``,
the ``i``-th category of the annotation file *in file order* among those whose name is a class
(``COCO.get_cat_ids(cat_names=classes)``, ``coco.py``, ``coco_metric.py``), whatever order
``metainfo.classes`` gives. The plugin's datasets label by class *name* in the configured
order, and the few-shot settings narrow the label space (the base classes only, the novel
classes only). Where the orders differ, every box is trained or scored as another class,
silently. :class:`~mmfs_plugin.datasets.FewShotDataset` (its readers label by name) and
:class:`~mmfs_plugin.evaluation.FewShotCocoMetric` (it scores the dataset's own ground truth)
have no such pitfall; these checks refuse mmdet's classes where they would fall into it.
"""
import os.path as osp
from collections.abc import Mapping
from typing import Any, Iterator, List, Optional, Sequence

from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS
from mmengine.fileio import join_path, load
from mmengine.utils import is_abs

#: The ``type`` values that name mmdet's ``CocoMetric``.
_COCO_METRIC_TYPES = ('CocoMetric', 'mmdet.CocoMetric')
_FIX = ("wrap the dataset in dict(type='FewShotDataset', dataset=...), which labels by class "
        'name, or list metainfo.classes in the order of the file')


def _file_order(ann_file: str, classes: Sequence[str], backend_args: Optional[dict]
                ) -> Optional[List[str]]:
    """The classes in the order mmdet labels them: the file's categories whose name is a class,
    in file order (a class under two categories twice); None where the file cannot be read
    (mmdet names an unreadable file itself)."""
    try:
        categories = load(ann_file, backend_args=backend_args)['categories']
        wanted = set(classes)
        return [category.get('name') for category in categories
                if category.get('name') in wanted]
    except Exception:
        return None


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
        in_file = _file_order(ann_file, classes, metric.get('backend_args'))
        if in_file is not None and in_file != list(classes):
            raise ValueError(
                f'{where}: CocoMetric(ann_file={ann_file!r}) would score label i as the i-th '
                f'category of the file among the classes, {in_file}, but the dataset labels '
                f'by class name, {list(classes)}: every box would be scored as another class. '
                "Use dict(type='FewShotCocoMetric') (COCO AP of the dataset's own ground "
                'truth, by name; bAP/nAP too), or a CocoMetric without ann_file')


def _same_file(one: str, other: str) -> bool:
    """Whether two paths name one file (local paths resolved; URLs as they are)."""
    if '://' in one or '://' in other:
        return one == other
    return osp.realpath(one) == osp.realpath(other)


def _ann_path(cfg: Mapping) -> str:
    """A dataset config's ``ann_file`` as mmengine's ``BaseDataset`` joins it to ``data_root``."""
    path = cfg['ann_file']
    return join_path(cfg['data_root'], path) if cfg.get('data_root') and not is_abs(path) \
        else path


def _dataset_class(cfg: Mapping) -> Optional[type]:
    """The class a dataset config builds (its registered name or the class), or None."""
    dataset_type = cfg.get('type')
    dataset_class = DATASETS.get(dataset_type) if isinstance(dataset_type, str) \
        else dataset_type
    return dataset_class if isinstance(dataset_class, type) else None


def _dataset_cfgs(cfg: Any, is_fewshot: Any, within_fewshot: bool = False) -> Iterator[Mapping]:
    """The configs of the datasets that read files inside ``cfg`` and its wrappers
    (``dataset``, ``datasets``): those no ``FewShotDataset`` wraps (``is_fewshot(cfg)`` says
    which configs build one) and, with ``within_fewshot``, the dataset configs a
    ``FewShotDataset`` wraps too."""
    if not isinstance(cfg, Mapping):
        return
    inner = cfg.get('datasets', cfg.get('dataset'))
    items = inner if isinstance(inner, list) else [inner]
    if is_fewshot(cfg):
        if within_fewshot:
            yield from (item for item in items if isinstance(item, Mapping))
        return
    if inner is None:
        yield cfg
        return
    for item in items:
        yield from _dataset_cfgs(item, is_fewshot, within_fewshot)


def check_coco_metric_file(evaluator: Any, dataset_cfg: Any, where: str, dataset_where: str,
                           is_fewshot: Any) -> None:
    """Refuse a ``CocoMetric(ann_file=...)`` whose file is not the one the evaluated dataset
    reads: mmdet's ``CocoMetric`` scores each prediction against the ground truth that file
    gives its ``img_id``, so another file (a validation file beside the test set, or one
    ``img_id`` numbering of several datasets) scores every image against another image's
    ground truth, or none, without a word.

    Args:
        evaluator (dict | list): An evaluator config (``val_evaluator``, ``test_evaluator``).
        dataset_cfg (dict): The ``dataset`` config of the dataloader it evaluates.
        where (str): The evaluator's config key, named in the error.
        dataset_where (str): The dataset's config key, named in the error.
        is_fewshot (Callable[[dict], bool]): Whether a dataset config builds a
            ``FewShotDataset``.

    Raises:
        ValueError: Such a ``CocoMetric`` evaluates a dataset that is not one COCO dataset
            reading that file; naming both files.
    """
    for metric in _metric_cfgs(evaluator):
        ann_file = metric.get('ann_file')
        if not ann_file or not _is_coco_metric(metric.get('type')):
            continue
        leaves = list(_dataset_cfgs(dataset_cfg, is_fewshot, within_fewshot=True))
        read = [_ann_path(cfg) if cfg.get('ann_file') else cfg.get('type') for cfg in leaves]
        dataset_class = _dataset_class(leaves[0]) if len(leaves) == 1 else None
        if dataset_class is not None and issubclass(dataset_class, CocoDataset) \
                and leaves[0].get('ann_file') and _same_file(read[0], ann_file):
            continue
        raise ValueError(
            f'{where}: CocoMetric(ann_file={ann_file!r}) scores each prediction against the '
            f'ground truth of that file for its img_id, but {dataset_where} reads {read}: '
            "every image would be scored against another image's ground truth, or none. "
            "Use dict(type='FewShotCocoMetric') (COCO AP of the dataset's own ground truth), "
            "or a CocoMetric with the evaluated COCO dataset's ann_file")


def check_dataset_labels(dataset_cfg: Any, classes: Optional[Sequence[str]], where: str,
                         is_fewshot: Any) -> None:
    """Refuse a dataset outside ``FewShotDataset`` whose labels are not the label space's.

    Such a dataset labels as its own class does: by ``metainfo.classes`` (or the class's
    ``METAINFO``), and mmdet's ``CocoDataset`` (and subclasses that keep its loading) by the
    file's category order among them.

    Args:
        dataset_cfg (dict): A dataloader's ``dataset`` config.
        classes (Sequence[str], optional): The label space of the config's few-shot datasets
            (the model's), in label order; None where the config has none.
        where (str): The config key, named in the error.
        is_fewshot (Callable[[dict], bool]): Whether a dataset config builds a
            ``FewShotDataset`` (whose readers label by name: not checked).

    Raises:
        ValueError: The dataset's classes differ from the label space (or their order does),
            or a ``CocoDataset``'s file orders them otherwise; naming the file and both orders.
    """
    for cfg in _dataset_cfgs(dataset_cfg, is_fewshot):
        dataset_class = _dataset_class(cfg)
        if dataset_class is None:
            continue
        own = (cfg.get('metainfo') or {}).get('classes') \
            or getattr(dataset_class, 'METAINFO', {}).get('classes')
        if own is None:
            continue
        name = f'{where} ({dataset_class.__name__}' + (
            f', {cfg["ann_file"]!r})' if cfg.get('ann_file') else ')')
        if classes is not None and list(own) != list(classes):
            raise ValueError(
                f'{name}: labels its boxes by its classes {list(own)[:10]}, the model by the '
                f'label space {list(classes)}: every label would name another class; '
                "give it metainfo=dict(classes=...) in the label space's order, or wrap it "
                "in the FewShotDataset the other dataloaders use")
        if issubclass(dataset_class, CocoDataset) and cfg.get('ann_file') and \
                dataset_class.load_data_list is CocoDataset.load_data_list:
            path = _ann_path(cfg)
            in_file = _file_order(path, own, cfg.get('backend_args'))
            if in_file is not None and in_file != list(own):
                raise ValueError(
                    f"{name}: mmdet's CocoDataset labels the file's categories in file order, "
                    f'{in_file}, not in the order of metainfo.classes, {list(own)}: every box '
                    f'would be labelled as another class; {_FIX}')
