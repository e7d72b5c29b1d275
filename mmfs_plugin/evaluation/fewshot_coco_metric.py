"""COCO-style few-shot detection metric: overall, base-class and novel-class AP.

One ``COCOeval`` run (evaluate, accumulate) over every class, by pycocotools or
faster-coco-eval; the base and novel AP are read from the categories' slices of its accumulated
precision (:mod:`.coco_backends`), which equals separate ``COCOeval`` runs restricted to each
subset.
"""
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import pycocotools.mask as mask_util
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from terminaltables import AsciiTable

from mmdet.registry import METRICS
from mmdet.structures.mask import encode_mask_results
from .coco_backends import ap_stats, coco_index, load_backend, per_class_ap, run_cocoeval

#: The evaluated class subsets: (key infix, name); the classes are in ``<name>_classes``.
SUBSETS: Tuple[Tuple[str, str], ...] = (('b', 'base'), ('n', 'novel'))
#: Key suffixes of AP, AP50 and AP75 (:func:`~.coco_backends.ap_stats`), overall and per subset.
OVERALL_STATS: Tuple[str, ...] = ('mAP', 'mAP_50', 'mAP_75')
SUBSET_STATS: Tuple[str, ...] = ('AP', 'AP50', 'AP75')


@METRICS.register_module()
class FewShotCocoMetric(BaseMetric):
    """COCO AP overall, on the base classes (bAP) and on the novel classes (nAP).

    The ground truth comes from the data samples' ``instances`` (the dataset's ``data_list``
    entries, at the original image scale): add ``'instances'`` to ``PackDetInputs``'s
    ``meta_keys`` in the evaluation pipeline (and in the TTA pipeline). Ignored ground truth is
    evaluated as COCO crowd regions (``iscrowd=1``): a detection matched to one is neither a
    true nor a false positive, and a crowd region needs no detection.

    - An instance with a class label and ``ignore_flag=1`` is a crowd region of its class.
    - An ``__ignore__`` region (``bbox_label=-1``) has no class: it is a crowd region of every
      class, so it ignores the detections of any class it contains.

    The annotation area is the box area for both IoU types, as in mmdet's ``CocoMetric`` (it
    only affects the s/m/l ranges, which are not reported). ``COCOeval``'s default parameters
    apply (IoU 0.50:0.95, maxDets 100).

    Base and novel classes are ``dataset_meta['base_classes']`` and ``['novel_classes']``.
    Returned keys (prefix ``fs``), ``<t>`` being ``bbox`` or ``segm``:

    - ``fs/<t>_mAP``, ``fs/<t>_mAP_50``, ``fs/<t>_mAP_75``: every class;
    - ``fs/<t>_bAP``, ``fs/<t>_bAP50``, ``fs/<t>_bAP75``: base classes;
    - ``fs/<t>_nAP``, ``fs/<t>_nAP50``, ``fs/<t>_nAP75``: novel classes;
    - ``fs/<t>_AP_<class>``: per class, with ``classwise=True``.

    The subsets' values are read from the one evaluation's accumulated precision and equal
    separate ``COCOeval`` runs with ``params.catIds`` restricted to the subset. A subset with no
    classes (no ``novel_classes`` in the metainfo, or an empty list) has no keys. A subset or
    class without ground truth in the evaluated images gets ``-1`` (``nan`` for a per-class
    AP), as a separate ``COCOeval`` run would. Values are fractions in [0, 1], not rounded. The
    per-class AP table, tagged base/novel, is always logged.
    ``CheckpointHook(save_best='fs/bbox_nAP', rule='greater')`` therefore needs novel classes
    in the evaluated dataset's metainfo.

    Args:
        metric (str | Sequence[str], optional): IoU types, ``'bbox'`` and/or ``'segm'``.
            Defaults to None: ``'bbox'``, plus ``'segm'`` when the predictions carry masks.
        classwise (bool): Whether to return the per-class APs too. Defaults to False.
        backend (str): The COCOeval implementation: ``'pycocotools'`` or
            ``'faster_coco_eval'`` (C++, the same numbers, faster on large test sets; install
            it with ``pip install 'mmfs_plugin[faster_coco_eval]'``). Defaults to
            ``'pycocotools'``.
        collect_device (str): Device used to collect results across ranks, ``'cpu'`` or
            ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to None (``'fs'``).

    Raises:
        ValueError: If ``metric`` or ``backend`` is unknown.
        ImportError: If ``backend='faster_coco_eval'`` and faster-coco-eval is not installed.
    """
    default_prefix: Optional[str] = 'fs'

    def __init__(self,
                 metric: Optional[Union[str, Sequence[str]]] = None,
                 classwise: bool = False,
                 backend: str = 'pycocotools',
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
        try:
            load_backend(backend)
        except (ImportError, ValueError) as error:
            raise type(error)(f'FewShotCocoMetric: {error}') from error
        self.backend = backend

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
        coco_gt = build_coco_gt(gts, len(classes), with_masks='segm' in iou_types,
                                backend=self.backend)
        eval_results: Dict[str, float] = {}
        for iou_type in iou_types:
            coco_dt = build_coco_dt(coco_gt, gts, preds, iou_type)
            coco_eval, summary = run_cocoeval(coco_gt, coco_dt, iou_type, self.backend)
            logger.info(f'{iou_type} over all classes ({self.backend}):\n{summary}')
            eval_results.update(zip((f'{iou_type}_{name}' for name in OVERALL_STATS),
                                    ap_stats(coco_eval).tolist()))
            for infix, cat_ids in subsets.items():
                eval_results.update(zip((f'{iou_type}_{infix}{name}' for name in SUBSET_STATS),
                                        ap_stats(coco_eval, cat_ids).tolist()))
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


def build_coco_gt(gts: Sequence[dict], num_classes: int, with_masks: bool,
                  backend: str = 'pycocotools') -> Any:
    """Build an in-memory COCO ground-truth index from ``data_list``-style instances.

    Ignored instances become crowd annotations (``iscrowd=1``): one of its class for a labelled
    instance with ``ignore_flag=1``, one of every class for an ``__ignore__`` region
    (``bbox_label=-1``, no class).

    Args:
        gts (Sequence[dict]): Per image: ``img_id``, ``source`` (named in errors), ``height``,
            ``width`` and ``instances`` (``bbox`` x1y1x2y2, ``bbox_label``, ``ignore_flag``,
            ``mask`` as polygons or RLE).
        num_classes (int): Number of classes; labels must lie in ``[-1, num_classes)``.
        with_masks (bool): Whether to carry the masks (``segm`` evaluation); each instance,
            ``__ignore__`` regions included, must then have one.
        backend (str): The COCOeval backend whose ``COCO`` class indexes the annotations
            (:data:`~.coco_backends.BACKENDS`). Defaults to ``'pycocotools'``.

    Returns:
        The backend's ``COCO`` index; category ids are the labels.

    Raises:
        ValueError: If an instance's ``bbox_label``, ``bbox`` or (with masks) ``mask`` is
            invalid; the message names the image and the instance.
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
            bbox = instance.get('bbox')
            if bbox is None or len(bbox) != 4:
                raise ValueError(f"{gt['source']}: {field}.bbox: expected [x1, y1, x2, y2], "
                                 f'got {bbox!r}')
            x1, y1, x2, y2 = (float(value) for value in bbox)
            region = dict(image_id=gt['img_id'], bbox=[x1, y1, x2 - x1, y2 - y1],
                          area=(x2 - x1) * (y2 - y1),
                          iscrowd=int(label == -1 or bool(instance.get('ignore_flag', 0))))
            if with_masks:
                mask = instance.get('mask')
                if not mask:
                    raise ValueError(f"{gt['source']}: {field}.mask: missing, needed for "
                                     'segm evaluation')
                region['segmentation'] = _decoded_rle(mask)
            for category_id in (range(num_classes) if label == -1 else (int(label),)):
                annotations.append(dict(region, id=len(annotations) + 1,
                                        category_id=category_id))
    categories = [dict(id=label) for label in range(num_classes)]
    coco_class, _ = load_backend(backend)
    return coco_index(dict(images=images, categories=categories, annotations=annotations),
                      coco_class)


def build_coco_dt(coco_gt: Any, gts: Sequence[dict], preds: Sequence[dict],
                  iou_type: str) -> Any:
    """Build an in-memory COCO detection index, as ``COCO.loadRes`` would.

    Args:
        coco_gt: The ground-truth index (:func:`build_coco_gt`); the detections share its
            images and categories, and are indexed by the same ``COCO`` class.
        gts (Sequence[dict]): Per image, its ``img_id`` (aligned with ``preds``).
        preds (Sequence[dict]): Per image: ``bboxes`` (x1y1x2y2), ``scores``, ``labels``, and
            for ``segm`` ``masks`` (RLE) and ``mask_scores``.
        iou_type (str): ``'bbox'`` or ``'segm'``.

    Returns:
        The detection index; ``area`` is the box area (bbox) or the mask area (segm).

    Raises:
        ValueError: If ``segm`` is evaluated and an image's predictions have no masks.
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
    return coco_index(dict(images=coco_gt.dataset['images'],
                           categories=coco_gt.dataset['categories'],
                           annotations=annotations), type(coco_gt))


def _decoded_rle(mask: Union[list, dict]) -> Union[list, dict]:
    """Return polygons as they are, and an RLE with ``str`` counts (JSON-like, as COCO wants)."""
    if isinstance(mask, dict) and isinstance(mask['counts'], bytes):
        return dict(mask, counts=mask['counts'].decode())
    return mask
