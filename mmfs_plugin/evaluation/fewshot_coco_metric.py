"""mmdet's ``CocoMetric`` with AP on the base (bAP) and novel (nAP) classes beside the overall
AP, ``__ignore__`` regions as crowd regions of every class and faster-coco-eval as backend."""
import contextlib
import io
import logging
import os.path as osp
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.fileio import load
from mmengine.logging import MMLogger, print_log
from terminaltables import AsciiTable

from mmdet.evaluation.metrics import CocoMetric
from mmdet.registry import METRICS
from .coco_backends import ap_stats, coco_index, load_backend, per_class_ap

#: The evaluated class subsets: (key infix, name); the classes are in ``<name>_classes``.
SUBSETS: Tuple[Tuple[str, str], ...] = (('b', 'base'), ('n', 'novel'))
#: Key suffixes of AP, AP50 and AP75 (:func:`~.coco_backends.ap_stats`), overall and per subset.
OVERALL_STATS: Tuple[str, ...] = ('mAP', 'mAP_50', 'mAP_75')
SUBSET_STATS: Tuple[str, ...] = ('AP', 'AP50', 'AP75')


@METRICS.register_module()
class FewShotCocoMetric(CocoMetric):
    """COCO AP overall, on the base classes (bAP) and on the novel classes (nAP).

    mmdet's ``CocoMetric`` (ground truth from the data samples' ``instances``: add
    ``'instances'`` to ``PackDetInputs``'s ``meta_keys``; ignored instances as ``iscrowd``)
    with one ``COCOeval`` over every class whose accumulated precision is sliced per subset
    (equal to runs restricted to the subset's ``catIds``). An ``__ignore__`` region
    (``bbox_label=-1``) is a crowd region of every class. Base and novel classes are
    ``dataset_meta['base_classes']`` and ``['novel_classes']``. Keys (prefix ``fs``, ``<t>``
    ``bbox`` or ``segm``; fractions, ``-1`` without ground truth): ``<t>_mAP``,
    ``<t>_mAP_50``, ``<t>_mAP_75``; ``<t>_bAP``, ``<t>_bAP50``, ``<t>_bAP75``; ``<t>_nAP``,
    ``<t>_nAP50``, ``<t>_nAP75``; with ``classwise``, ``<t>_AP_<class>`` and
    ``<t>_AP50_<class>``. The per-class table is always logged. Images are told apart by
    ``img_id``: data samples of one ``img_id`` that name different images (``img_path``, in
    ``PackDetInputs``'s ``meta_keys``) are refused, not merged into one image.

    Args:
        metric (str | Sequence[str]): ``'bbox'`` and/or ``'segm'``. Defaults to ``'bbox'``.
        backend (str): ``'faster_coco_eval'`` (C++, the same numbers, faster) or
            ``'pycocotools'``, which is used when faster-coco-eval is not installed.
            Defaults to ``'faster_coco_eval'``.
        **kwargs: The other arguments of mmdet's ``CocoMetric`` (``classwise``,
            ``outfile_prefix``, ``collect_device``, ``prefix``, ...).

    Raises:
        ValueError: If ``metric`` or ``backend`` is unknown.
    """
    default_prefix: Optional[str] = 'fs'

    def __init__(self, metric: Union[str, Sequence[str]] = 'bbox',
                 backend: str = 'faster_coco_eval', **kwargs) -> None:
        metrics = [metric] if isinstance(metric, str) else list(metric)
        if not metrics or set(metrics) - {'bbox', 'segm'}:
            raise ValueError(f"FewShotCocoMetric: metric must be 'bbox' and/or 'segm', got "
                             f'{metric!r}')
        if kwargs.get('ann_file') or kwargs.get('format_only'):
            raise ValueError('FewShotCocoMetric: ann_file, format_only: not supported; the '
                             "ground truth is the data samples' instances, in the label space")
        super().__init__(metric=metrics, **kwargs)
        try:
            load_backend(backend)
        except ImportError as error:
            print_log(f'FewShotCocoMetric: {error}; evaluating with pycocotools (the same '
                      'numbers, slower)', logger='current', level=logging.WARNING)
            backend = 'pycocotools'
        except ValueError as error:
            raise ValueError(f'FewShotCocoMetric: {error}') from error
        self.backend = backend

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Keep the predictions and ground truth of a batch (``CocoMetric.process``).

        Args:
            data_batch (dict): A batch from the dataloader (unused).
            data_samples (Sequence[dict]): Data samples with ``pred_instances`` and the
                ``instances`` of their ``data_list`` entry.

        Raises:
            KeyError: If a data sample lacks ``instances`` (named by its image).
        """
        sources = [data_sample.get('img_path', f"img_id {data_sample['img_id']}")
                   for data_sample in data_samples]
        for source, data_sample in zip(sources, data_samples):
            if 'instances' not in data_sample:
                raise KeyError(f"{source}: instances: missing from the data sample; add "
                               "'instances' to the meta_keys of PackDetInputs in the "
                               'evaluation pipeline')
        super().process(data_batch, data_samples)
        for (gt, _), source in zip(self.results[-len(data_samples):], sources):
            gt['source'] = source  # named in errors

    def gt_to_coco_json(self, gt_dicts: Sequence[dict], outfile_prefix: str) -> str:
        """``CocoMetric.gt_to_coco_json`` with each ``__ignore__`` region a crowd region of
        every class.

        Args:
            gt_dicts (Sequence[dict]): Per image: ``img_id``, ``width``, ``height`` and
                ``anns`` (``data_list`` instances).
            outfile_prefix (str): The file is ``<outfile_prefix>.gt.json``.

        Returns:
            str: The file written.

        Raises:
            ValueError: If a ``bbox_label`` is outside ``[-1, num_classes)``.
        """
        num_classes = len(self.dataset_meta['classes'])
        expanded = []
        for gt in gt_dicts:
            anns = []
            for index, ann in enumerate(gt['anns']):
                label = ann['bbox_label']
                if not -1 <= label < num_classes:
                    raise ValueError(f"{gt['source']}: instances[{index}].bbox_label: "
                                     f'expected an integer in [-1, {num_classes}), got {label}')
                anns += [dict(ann, bbox_label=c, ignore_flag=1) for c in range(num_classes)] \
                    if label == -1 else [ann]
            expanded.append(dict(gt, anns=anns))
        return super().gt_to_coco_json(expanded, outfile_prefix)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Compute the metrics from the collected results.

        Args:
            results (list): ``(gt, prediction)`` pairs of every evaluated image.

        Returns:
            dict[str, float]: The metrics, keyed without the ``fs/`` prefix.

        Raises:
            ValueError: Two data samples share an ``img_id`` but name different images
                (:func:`_check_distinct_images`).
        """
        logger: MMLogger = MMLogger.get_current_instance()
        classes = list(self.dataset_meta['classes'])
        subsets = self._subset_cat_ids(classes)
        gts, preds = zip(*results)
        _check_distinct_images(gts)  # every rank's results: the check sees the whole set
        # image ids as 0..n-1 in their sorted order (COCOeval's): faster-coco-eval needs
        # integers, VOC's are strings
        index = {img_id: i for i, img_id in enumerate(sorted({gt['img_id'] for gt in gts}))}
        gts = [dict(gt, img_id=index[gt['img_id']]) for gt in gts]
        preds = [dict(pred, img_id=index[pred['img_id']]) for pred in preds]
        coco_class, make_evaluator = load_backend(self.backend)
        self.cat_ids = list(range(len(classes)))  # results2json's label -> category id
        eval_results: Dict[str, float] = {}
        with tempfile.TemporaryDirectory() as tmp_dir, \
                contextlib.redirect_stdout(io.StringIO()) as quiet:
            prefix = self.outfile_prefix or osp.join(tmp_dir, 'results')
            coco_gt = coco_class(self.gt_to_coco_json(gts, prefix))
            result_files = self.results2json(preds, prefix)
            for iou_type in self.metrics:
                detections = load(result_files[iou_type])
                for detection in detections if iou_type == 'segm' else ():
                    detection.pop('bbox')  # the mask's area, as CocoMetric does
                coco_dt = coco_gt.loadRes(detections) if detections else coco_index(
                    dict(coco_gt.dataset, annotations=[]), coco_class)
                coco_eval = make_evaluator(coco_gt, coco_dt, iou_type)
                coco_eval.evaluate()
                coco_eval.accumulate()
                quiet.seek(0), quiet.truncate()
                coco_eval.summarize()
                logger.info(f'{iou_type} over all classes ({self.backend}):\n'
                            f'{quiet.getvalue()}')
                eval_results.update(zip((f'{iou_type}_{name}' for name in OVERALL_STATS),
                                        ap_stats(coco_eval).tolist()))
                for infix, cat_ids in subsets.items():
                    eval_results.update(zip(
                        (f'{iou_type}_{infix}{name}' for name in SUBSET_STATS),
                        ap_stats(coco_eval, cat_ids).tolist()))
                per_class = per_class_ap(coco_eval)
                logger.info(f'{iou_type} per class:\n' +
                            _per_class_table(classes, subsets, per_class))
                if self.classwise:
                    for label, name in enumerate(classes):
                        eval_results[f'{iou_type}_AP_{name}'] = float(per_class[label, 0])
                        eval_results[f'{iou_type}_AP50_{name}'] = float(per_class[label, 1])
        return eval_results

    def _subset_cat_ids(self, classes: List[str]) -> Dict[str, List[int]]:
        """Map each non-empty class subset (``'b'``, ``'n'``) to its category ids (labels)."""
        subsets = {}
        for infix, subset in SUBSETS:
            field = f'{subset}_classes'
            names = self.dataset_meta.get(field) or ()
            unknown = [name for name in names if name not in classes]
            if unknown:
                raise ValueError(f"FewShotCocoMetric: dataset_meta['{field}']: classes "
                                 f"{unknown} are not in dataset_meta['classes']")
            if names:
                subsets[infix] = sorted(classes.index(name) for name in names)
        return subsets


def _check_distinct_images(gts: Sequence[Dict[str, Any]]) -> None:
    """Refuse ground truths of one ``img_id`` that name different images (their ``source``,
    the ``img_path`` of the data sample): COCOeval would pair the detections and ground truth
    of both as one image's, in silence.

    Args:
        gts (Sequence[dict]): The ground truth of every evaluated image (``img_id``,
            ``source``).

    Raises:
        ValueError: Naming the ``img_id``, both images and the remedy.
    """
    first_source: Dict[Any, str] = {}
    for gt in gts:
        first = first_source.setdefault(gt['img_id'], gt['source'])
        if first != gt['source']:
            raise ValueError(
                f"FewShotCocoMetric: img_id {gt['img_id']!r} names two images, {first} and "
                f"{gt['source']}: evaluated as one image, the ground truth and detections of "
                'both would be paired. Concatenated datasets that number their images alike '
                "(e.g. dict(type='ConcatDataset', datasets=[FewShotDataset of a.json, "
                'FewShotDataset of b.json]), two COCO files numbering from 1) do this; '
                "concatenate inside one FewShotDataset instead, dict(type='FewShotDataset', "
                'dataset=[cfg_a, cfg_b]), which numbers their images apart')


def _per_class_table(classes: List[str], subsets: Dict[str, List[int]],
                     per_class: np.ndarray) -> str:
    """Render the per-class AP, AP50, AP75 with each class's base/novel tag."""
    tags = {label: subset for infix, subset in SUBSETS for label in subsets.get(infix, ())}
    rows = [['class', 'split', 'AP', 'AP50', 'AP75']]
    for label, name in enumerate(classes):
        rows.append([name, tags.get(label, '-')] + [f'{value:.3f}' for value in per_class[label]])
    return AsciiTable(rows).table
