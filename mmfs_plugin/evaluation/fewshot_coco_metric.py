"""COCO-style few-shot detection metric: overall, base-class and novel-class AP.

One ``COCOeval.evaluate()`` over every class; the base and novel subsets reuse its per-image
results (``evalImgs``) and are only accumulated and summarised again, with ``params.catIds``
restricted to the subset. The numbers equal separate ``COCOeval`` runs restricted to each subset.
"""
import contextlib
import copy
import io
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import pycocotools.mask as mask_util
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from terminaltables import AsciiTable

from mmdet.registry import METRICS
from mmdet.structures.mask import encode_mask_results

#: The evaluated class subsets: (key infix, name); the classes are in ``<name>_classes``.
SUBSETS: Tuple[Tuple[str, str], ...] = (('b', 'base'), ('n', 'novel'))
#: Summary statistics reported for every IoU type: (key suffix, index in ``COCOeval.stats``).
OVERALL_STATS: Tuple[Tuple[str, int], ...] = (('mAP', 0), ('mAP_50', 1), ('mAP_75', 2))
SUBSET_STATS: Tuple[Tuple[str, int], ...] = (('AP', 0), ('AP50', 1), ('AP75', 2))


@METRICS.register_module()
class FewShotCocoMetric(BaseMetric):
    """COCO AP overall, on the base classes (bAP) and on the novel classes (nAP).

    The ground truth comes from the data samples' ``instances`` (the dataset's ``data_list``
    entries, at the original image scale): add ``'instances'`` to ``PackDetInputs``'s
    ``meta_keys`` in the evaluation pipeline. Instances with ``ignore_flag=1`` and a class label
    become ``iscrowd=1`` annotations (matched detections are neither true nor false positives);
    ``bbox_label=-1`` regions (``__ignore__``) are left out. The annotation area is the box area
    for both IoU types, as in mmdet's ``CocoMetric`` (it only affects the s/m/l ranges, which
    are not reported). ``COCOeval``'s default parameters apply (IoU 0.50:0.95, maxDets 100).

    Base and novel classes are ``dataset_meta['base_classes']`` and ``['novel_classes']``.
    Returned keys (prefix ``fs``), ``<t>`` being ``bbox`` or ``segm``:

    - ``fs/<t>_mAP``, ``fs/<t>_mAP_50``, ``fs/<t>_mAP_75``: every class;
    - ``fs/<t>_bAP``, ``fs/<t>_bAP50``, ``fs/<t>_bAP75``: base classes;
    - ``fs/<t>_nAP``, ``fs/<t>_nAP50``, ``fs/<t>_nAP75``: novel classes;
    - ``fs/<t>_AP_<class>``: per class, with ``classwise=True``.

    A subset with no classes (no ``novel_classes`` in the metainfo, or an empty list) has no
    keys. A subset or class without ground truth in the evaluated images gets ``-1`` from
    ``COCOeval`` (``nan`` for a per-class AP), as a separate ``COCOeval`` run would. Values are
    fractions in [0, 1], not rounded. The per-class AP table, tagged base/novel, is always
    logged. ``CheckpointHook(save_best='fs/bbox_nAP', rule='greater')`` therefore needs novel
    classes in the evaluated dataset's metainfo.

    Args:
        metric (str | Sequence[str], optional): IoU types, ``'bbox'`` and/or ``'segm'``.
            Defaults to None: ``'bbox'``, plus ``'segm'`` when the predictions carry masks.
        classwise (bool): Whether to return the per-class APs too. Defaults to False.
        collect_device (str): Device used to collect results across ranks, ``'cpu'`` or
            ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to None (``'fs'``).
    """
    default_prefix: Optional[str] = 'fs'

    def __init__(self,
                 metric: Optional[Union[str, Sequence[str]]] = None,
                 classwise: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        metrics = [metric] if isinstance(metric, str) else metric
        if metrics is not None:
            unknown = sorted(set(metrics) - {'bbox', 'segm'})
            if unknown or not metrics:
                raise ValueError(f"FewShotCocoMetric: metric must be 'bbox' and/or 'segm', "
                                 f'got {metric!r}')
            metrics = list(metrics)
        self.metrics: Optional[List[str]] = metrics
        self.classwise = classwise

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Keep the predictions and ground truth of a batch.

        Args:
            data_batch (dict): A batch from the dataloader (unused).
            data_samples (Sequence[dict]): Data samples with ``pred_instances`` and the
                ``instances`` of the ``data_list`` entry.
        """
        for data_sample in data_samples:
            source = data_sample.get('img_path', f"img_id {data_sample['img_id']}")
            if 'instances' not in data_sample:
                raise KeyError(f"{source}: instances: missing from the data sample; add "
                               "'instances' to the meta_keys of PackDetInputs in the "
                               'evaluation pipeline')
            pred = data_sample['pred_instances']
            result = dict(
                bboxes=pred['bboxes'].cpu().numpy(),
                scores=pred['scores'].cpu().numpy(),
                labels=pred['labels'].cpu().numpy())
            if 'masks' in pred:
                masks = pred['masks']
                result['masks'] = encode_mask_results(masks.detach().cpu().numpy()) \
                    if isinstance(masks, torch.Tensor) else masks
                result['mask_scores'] = pred['mask_scores'].cpu().numpy() \
                    if 'mask_scores' in pred else result['scores']
            gt = dict(
                img_id=data_sample['img_id'],
                source=source,
                height=data_sample['ori_shape'][0],
                width=data_sample['ori_shape'][1],
                instances=data_sample['instances'])
            self.results.append((gt, result))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Compute the metrics from the collected results.

        Args:
            results (list): ``(gt, prediction)`` pairs of every evaluated image.

        Returns:
            dict[str, float]: The metrics, keyed without the ``fs/`` prefix.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        classes = list(self.dataset_meta['classes'])
        subsets = self._subset_cat_ids(classes)
        gts, preds = zip(*results)
        iou_types = self.metrics or (['bbox', 'segm'] if any('masks' in p for p in preds)
                                     else ['bbox'])
        coco_gt = build_coco_gt(gts, len(classes), with_masks='segm' in iou_types)
        eval_results: Dict[str, float] = {}
        for iou_type in iou_types:
            coco_dt = build_coco_dt(coco_gt, gts, preds, iou_type)
            coco_eval = COCOeval(coco_gt, coco_dt, iou_type)
            with contextlib.redirect_stdout(io.StringIO()):
                coco_eval.evaluate()
                coco_eval.accumulate()
            summary = io.StringIO()
            with contextlib.redirect_stdout(summary):
                coco_eval.summarize()
            logger.info(f'{iou_type} over all classes:\n{summary.getvalue()}')
            for name, index in OVERALL_STATS:
                eval_results[f'{iou_type}_{name}'] = float(coco_eval.stats[index])
            for infix, cat_ids in subsets.items():
                stats = summarize_subset(coco_eval, cat_ids)
                for name, index in SUBSET_STATS:
                    eval_results[f'{iou_type}_{infix}{name}'] = float(stats[index])
            per_class = per_class_ap(coco_eval)
            logger.info(f'{iou_type} per class:\n' +
                        self._per_class_table(classes, subsets, per_class))
            if self.classwise:
                for label, name in enumerate(classes):
                    eval_results[f'{iou_type}_AP_{name}'] = float(per_class[label, 0])
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

    @staticmethod
    def _per_class_table(classes: List[str], subsets: Dict[str, List[int]],
                         per_class: np.ndarray) -> str:
        """Render the per-class AP, AP50, AP75 with each class's base/novel tag."""
        tags = {label: subset for infix, subset in SUBSETS for label in subsets.get(infix, ())}
        rows = [['class', 'split', 'AP', 'AP50', 'AP75']]
        for label, name in enumerate(classes):
            rows.append([name, tags.get(label, '-')] +
                        [f'{value:.3f}' for value in per_class[label]])
        return AsciiTable(rows).table


def build_coco_gt(gts: Sequence[dict], num_classes: int, with_masks: bool) -> COCO:
    """Build an in-memory COCO ground-truth index from ``data_list``-style instances.

    Args:
        gts (Sequence[dict]): Per image: ``img_id``, ``source`` (named in errors), ``height``,
            ``width`` and ``instances`` (``bbox`` x1y1x2y2, ``bbox_label``, ``ignore_flag``,
            ``mask`` as polygons or RLE).
        num_classes (int): Number of classes; labels must lie in ``[-1, num_classes)``.
        with_masks (bool): Whether to carry the masks (``segm`` evaluation); each evaluated
            instance must then have one.

    Returns:
        COCO: The index; category ids are the labels, ``iscrowd`` the ignore flag.
    """
    images, annotations = [], []
    for gt in gts:
        images.append(dict(id=gt['img_id'], height=gt['height'], width=gt['width']))
        for index, instance in enumerate(gt['instances']):
            field = f'instances[{index}]'
            label = instance.get('bbox_label')
            if not isinstance(label, (int, np.integer)) or not -1 <= label < num_classes:
                raise ValueError(f"{gt['source']}: {field}.bbox_label: expected an integer in "
                                 f'[-1, {num_classes}), got {label!r}')
            if label == -1:
                continue
            bbox = instance.get('bbox')
            if bbox is None or len(bbox) != 4:
                raise ValueError(f"{gt['source']}: {field}.bbox: expected [x1, y1, x2, y2], "
                                 f'got {bbox!r}')
            x1, y1, x2, y2 = (float(value) for value in bbox)
            annotation = dict(
                id=len(annotations) + 1,
                image_id=gt['img_id'],
                category_id=int(label),
                bbox=[x1, y1, x2 - x1, y2 - y1],
                area=(x2 - x1) * (y2 - y1),
                iscrowd=int(bool(instance.get('ignore_flag', 0))))
            if with_masks:
                mask = instance.get('mask')
                if not mask:
                    raise ValueError(f"{gt['source']}: {field}.mask: missing, needed for "
                                     'segm evaluation')
                annotation['segmentation'] = _decoded_rle(mask)
            annotations.append(annotation)
    categories = [dict(id=label) for label in range(num_classes)]
    return _coco_index(dict(images=images, categories=categories, annotations=annotations))


def build_coco_dt(coco_gt: COCO, gts: Sequence[dict], preds: Sequence[dict],
                  iou_type: str) -> COCO:
    """Build an in-memory COCO detection index, as ``COCO.loadRes`` would.

    Args:
        coco_gt (COCO): The ground-truth index (images and categories are shared).
        gts (Sequence[dict]): Per image, its ``img_id`` (aligned with ``preds``).
        preds (Sequence[dict]): Per image: ``bboxes`` (x1y1x2y2), ``scores``, ``labels``, and
            for ``segm`` ``masks`` (RLE) and ``mask_scores``.
        iou_type (str): ``'bbox'`` or ``'segm'``.

    Returns:
        COCO: The detections; ``area`` is the box area (bbox) or the mask area (segm).
    """
    annotations = []
    for gt, pred in zip(gts, preds):
        if iou_type == 'bbox':
            boxes = np.array(pred['bboxes'], dtype=np.float64).reshape(-1, 4)
            boxes[:, 2:] -= boxes[:, :2]
            areas = boxes[:, 2] * boxes[:, 3]
            regions = [dict(bbox=box) for box in boxes.tolist()]
            scores = pred['scores']
        else:
            if 'masks' not in pred:
                raise ValueError(f"{gt['source']}: pred_instances.masks: missing, needed for "
                                 'segm evaluation')
            rles = [_decoded_rle(mask) for mask in pred['masks']]
            areas = mask_util.area(rles) if rles else []
            regions = [dict(segmentation=rle) for rle in rles]
            scores = pred['mask_scores']
        for region, area, score, label in zip(regions, np.asarray(areas).tolist(),
                                              np.asarray(scores).tolist(),
                                              np.asarray(pred['labels']).tolist()):
            region.update(id=len(annotations) + 1, image_id=gt['img_id'], category_id=label,
                          score=score, area=area, iscrowd=0)
            annotations.append(region)
    return _coco_index(dict(images=coco_gt.dataset['images'],
                            categories=coco_gt.dataset['categories'],
                            annotations=annotations))


def summarize_subset(coco_eval: COCOeval, cat_ids: Sequence[int]) -> np.ndarray:
    """Accumulate and summarise an evaluated ``COCOeval`` on a subset of its categories.

    ``evalImgs`` is laid out category by category (then area range, then image), so the
    subset's blocks are sliced out and accumulated with ``params.catIds`` restricted — the
    same numbers as ``evaluate()`` run with those ``catIds``, without evaluating again.

    Args:
        coco_eval (COCOeval): An evaluated instance (``evaluate()`` has run); left unchanged.
        cat_ids (Sequence[int]): The subset's category ids, each among the evaluated ones.

    Returns:
        np.ndarray: The subset's ``COCOeval.stats`` (12 values).
    """
    evaluated = coco_eval._paramsEval
    block = len(evaluated.areaRng) * len(evaluated.imgIds)
    positions = {int(cat_id): k for k, cat_id in enumerate(evaluated.catIds)}
    subset = copy.copy(coco_eval)
    subset.params = copy.copy(coco_eval.params)
    subset._paramsEval = copy.copy(evaluated)
    subset.params.catIds = subset._paramsEval.catIds = sorted(cat_ids)
    subset.evalImgs = [
        evaluated_img for cat_id in subset.params.catIds
        for evaluated_img in coco_eval.evalImgs[positions[cat_id] * block:
                                                (positions[cat_id] + 1) * block]
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        subset.accumulate()
        subset.summarize()
    return subset.stats


def per_class_ap(coco_eval: COCOeval) -> np.ndarray:
    """Per-class AP, AP50 and AP75 (area ``all``, the largest ``maxDets``).

    Args:
        coco_eval (COCOeval): An accumulated instance.

    Returns:
        np.ndarray: Shape (num_categories, 3), in ``params.catIds`` order; ``nan`` for a
        category without ground truth.
    """
    precision = coco_eval.eval['precision'][:, :, :, 0, -1]  # (iou, recall, category)
    iou_thrs = coco_eval.params.iouThrs
    columns = [precision, precision[np.isclose(iou_thrs, 0.5)],
               precision[np.isclose(iou_thrs, 0.75)]]
    table = np.full((precision.shape[2], 3), np.nan)
    for k in range(precision.shape[2]):
        for column, values in enumerate(columns):
            valid = values[:, :, k][values[:, :, k] > -1]
            if valid.size:
                table[k, column] = valid.mean()
    return table


def _decoded_rle(mask: Union[list, dict]) -> Union[list, dict]:
    """Return polygons as they are, and an RLE with ``str`` counts (JSON-like, as COCO wants)."""
    if isinstance(mask, dict) and isinstance(mask['counts'], bytes):
        return dict(mask, counts=mask['counts'].decode())
    return mask


def _coco_index(dataset: dict) -> COCO:
    """Index an in-memory COCO dataset without pycocotools' progress prints."""
    coco = COCO()
    coco.dataset = dataset
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco
