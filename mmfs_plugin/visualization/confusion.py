"""Confusion matrix between defect classes: each ground-truth box takes the class of the
highest-scoring detection (score >= ``score_thr``, IoU >= ``iou_thr``), else it is *missed* (a
last column), so every row sums to the number of ground-truth boxes of its class."""
from typing import Iterable, Tuple

import numpy as np

#: The predicted label of a missed ground-truth box.
MISSED = -1


def box_iou(boxes1: np.ndarray, boxes2: np.ndarray) -> np.ndarray:
    """Pairwise IoU of two sets of ``x1, y1, x2, y2`` boxes.

    Args:
        boxes1 (np.ndarray): Shape (N, 4).
        boxes2 (np.ndarray): Shape (M, 4).

    Returns:
        np.ndarray: Shape (N, M); 0 where a union is empty.
    """
    boxes1 = np.asarray(boxes1, dtype=np.float64).reshape(-1, 4)
    boxes2 = np.asarray(boxes2, dtype=np.float64).reshape(-1, 4)
    top_left = np.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
    bottom_right = np.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
    inter = np.clip(bottom_right - top_left, 0, None).prod(axis=2)
    area1 = (boxes1[:, 2:] - boxes1[:, :2]).clip(0).prod(axis=1)
    area2 = (boxes2[:, 2:] - boxes2[:, :2]).clip(0).prod(axis=1)
    union = area1[:, None] + area2[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def match_gt_to_detections(gt_boxes: np.ndarray,
                           det_boxes: np.ndarray,
                           det_scores: np.ndarray,
                           det_labels: np.ndarray,
                           iou_thr: float = 0.5,
                           score_thr: float = 0.3) -> np.ndarray:
    """Predicted class of each ground-truth box of one image.

    Args:
        gt_boxes (np.ndarray): Shape (N, 4), ``x1, y1, x2, y2``.
        det_boxes (np.ndarray): Shape (M, 4), ``x1, y1, x2, y2``.
        det_scores (np.ndarray): Shape (M,).
        det_labels (np.ndarray): Shape (M,).
        iou_thr (float): Least IoU of a matching detection. Defaults to 0.5.
        score_thr (float): Least score of a considered detection. Defaults to 0.3.

    Returns:
        np.ndarray: Shape (N,), the label of the highest-scoring matching detection, or
        :data:`MISSED`.
    """
    det_scores = np.asarray(det_scores, dtype=np.float64).reshape(-1)
    keep = det_scores >= score_thr
    ious = box_iou(gt_boxes, np.asarray(det_boxes).reshape(-1, 4)[keep])
    scores = np.where(ious >= iou_thr, det_scores[keep][None, :], -np.inf)
    predicted = np.full(len(ious), MISSED, dtype=np.int64)
    if scores.shape[1]:
        best = scores.argmax(axis=1)
        matched = np.isfinite(scores[np.arange(len(scores)), best])
        predicted[matched] = np.asarray(det_labels).reshape(-1)[keep][best[matched]]
    return predicted


def confusion_matrix(images: Iterable[Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                            np.ndarray]],
                     num_classes: int,
                     iou_thr: float = 0.5,
                     score_thr: float = 0.3) -> np.ndarray:
    """Count ground-truth boxes by their class and predicted class over images.

    Args:
        images (Iterable[tuple]): Per image ``(gt_boxes, gt_labels, det_boxes, det_scores,
            det_labels)``; labels in ``[0, num_classes)`` (leave ignored boxes out).
        num_classes (int): Number of classes.
        iou_thr (float): Least IoU of a matching detection. Defaults to 0.5.
        score_thr (float): Least score of a considered detection. Defaults to 0.3.

    Returns:
        np.ndarray: Shape (num_classes, num_classes + 1), int64; ``[g, p]`` counts the boxes
        of class ``g`` predicted as ``p``, ``[g, -1]`` the missed ones.

    Raises:
        ValueError: A ground-truth or detection label outside ``[0, num_classes)``.
    """
    matrix = np.zeros((num_classes, num_classes + 1), dtype=np.int64)
    for index, (gt_boxes, gt_labels, det_boxes, det_scores, det_labels) in enumerate(images):
        for field, labels in (('gt_labels', gt_labels), ('det_labels', det_labels)):
            labels = np.asarray(labels).reshape(-1)
            if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
                raise ValueError(f'image {index}: {field}: labels must lie in '
                                 f'[0, {num_classes}), got {sorted(set(labels.tolist()))}')
        predicted = match_gt_to_detections(gt_boxes, det_boxes, det_scores, det_labels,
                                           iou_thr, score_thr)
        # MISSED (-1) indexes the last column
        np.add.at(matrix, (np.asarray(gt_labels, dtype=np.int64).reshape(-1), predicted), 1)
    return matrix
