"""COCOeval backends (pycocotools, faster-coco-eval) and AP read from the accumulated precision.

Both backends share pycocotools' API: a ``COCO`` index class and a ``COCOeval`` whose
``accumulate()`` leaves ``eval['precision']`` of shape (T, R, K, A, M): IoU thresholds, recall
thresholds, categories (``params.catIds`` order), area ranges, max detections; ``-1`` where a
category has no ground truth. Each category's precision is accumulated from that category's
matches only, so the AP of a subset of categories, read from the subset's slice of that array,
equals a ``COCOeval`` run with ``params.catIds`` restricted to the subset.
"""
import contextlib
import functools
import io
from typing import Any, Callable, Optional, Sequence, Tuple

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

#: The supported backends: pycocotools (Python) and faster-coco-eval (C++, same numbers).
BACKENDS: Tuple[str, ...] = ('pycocotools', 'faster_coco_eval')


def load_backend(backend: str) -> Tuple[type, Callable[..., Any]]:
    """The COCO index class and the ``COCOeval`` factory of a backend.

    Args:
        backend (str): One of :data:`BACKENDS`.

    Returns:
        tuple[type, Callable]: The ``COCO`` class, and a factory called as
        ``factory(coco_gt, coco_dt, iou_type)`` that returns a ``COCOeval``-like evaluator
        printing its summary on stdout.

    Raises:
        ValueError: If ``backend`` is not one of :data:`BACKENDS`.
        ImportError: If ``backend`` is ``'faster_coco_eval'`` and the package is not installed.
    """
    if backend == 'pycocotools':
        return COCO, COCOeval
    if backend == 'faster_coco_eval':
        try:
            from faster_coco_eval import COCO as FasterCOCO
            from faster_coco_eval import COCOeval_faster
        except ImportError as error:
            raise ImportError(
                "backend='faster_coco_eval' needs the faster-coco-eval package: "
                "pip install faster-coco-eval") from error
        return FasterCOCO, functools.partial(COCOeval_faster, print_function=print)
    raise ValueError(f'backend: expected one of {BACKENDS}, got {backend!r}')


def coco_index(dataset: dict, coco_class: type) -> Any:
    """Index an in-memory COCO dataset without the backend's progress prints.

    Args:
        dataset (dict): ``images``, ``categories`` and ``annotations``, as in a COCO file.
        coco_class (type): The backend's ``COCO`` class (see :func:`load_backend`).

    Returns:
        The ``coco_class`` index of ``dataset``.
    """
    coco = coco_class()
    coco.dataset = dataset
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def run_cocoeval(coco_gt: Any, coco_dt: Any, iou_type: str,
                 backend: str = 'pycocotools') -> Tuple[Any, str]:
    """Evaluate, accumulate and summarise detections over every category.

    Args:
        coco_gt: The ground-truth index, of the backend's ``COCO`` class.
        coco_dt: The detection index, of the same class.
        iou_type (str): ``'bbox'`` or ``'segm'``.
        backend (str): One of :data:`BACKENDS`. Defaults to ``'pycocotools'``.

    Returns:
        tuple: The accumulated evaluator (read it with :func:`ap_stats`) and its printed
        summary (the 12 COCO statistics, as text).
    """
    _, make_evaluator = load_backend(backend)
    coco_eval = make_evaluator(coco_gt, coco_dt, iou_type)
    summary = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()):
        coco_eval.evaluate()
        coco_eval.accumulate()
    with contextlib.redirect_stdout(summary):
        coco_eval.summarize()
    return coco_eval, summary.getvalue()


def ap_stats(coco_eval: Any, cat_ids: Optional[Sequence[int]] = None) -> np.ndarray:
    """AP, AP50 and AP75 over some categories (area ``all``, the largest ``maxDets``).

    As ``COCOeval.summarize()`` computes them, on the categories' slice of
    ``eval['precision']``: the mean of the precisions that are not ``-1``.

    Args:
        coco_eval: An accumulated ``COCOeval`` of either backend.
        cat_ids (Sequence[int], optional): Category ids, each among the evaluated
            ``params.catIds``. Defaults to None (every category).

    Returns:
        np.ndarray: Shape (3,): AP (IoU 0.50:0.95), AP50, AP75; ``-1`` where no category of
        ``cat_ids`` has ground truth.

    Raises:
        ValueError: If a category id was not evaluated.
    """
    params = coco_eval.params
    # (T, R, K): every IoU threshold and recall threshold, per category
    precision = coco_eval.eval['precision'][:, :, :, params.areaRngLbl.index('all'), -1]
    if cat_ids is not None:
        evaluated = [int(cat_id) for cat_id in params.catIds]
        unknown = sorted(set(int(cat_id) for cat_id in cat_ids) - set(evaluated))
        if unknown:
            raise ValueError(f'cat_ids: {unknown} were not evaluated (params.catIds '
                             f'{evaluated})')
        precision = precision[:, :, [evaluated.index(int(cat_id)) for cat_id in cat_ids]]
    iou_thrs = np.asarray(params.iouThrs)
    stats = []
    for values in (precision, precision[np.isclose(iou_thrs, 0.5)],
                   precision[np.isclose(iou_thrs, 0.75)]):
        valid = values[values > -1]
        stats.append(valid.mean() if valid.size else -1.0)
    return np.array(stats, dtype=np.float64)


def per_class_ap(coco_eval: Any) -> np.ndarray:
    """Per-class AP, AP50 and AP75 (area ``all``, the largest ``maxDets``).

    Args:
        coco_eval: An accumulated ``COCOeval`` of either backend.

    Returns:
        np.ndarray: Shape (num_categories, 3), in ``params.catIds`` order; ``nan`` for a
        category without ground truth.
    """
    table = np.array([ap_stats(coco_eval, [cat_id]) for cat_id in coco_eval.params.catIds],
                     dtype=np.float64).reshape(-1, 3)
    table[table == -1] = np.nan
    return table
