"""Where things go in a picture of an image: the scale an image is drawn at, and where each
box's label goes (above, below, inside; off the other labels). Pure geometry over numpy
arrays and boxes in pixels."""
import math
from typing import List, Sequence, Tuple

import cv2
import numpy as np

Box = Tuple[float, float, float, float]
#: A smaller image is upscaled by an integer factor until its shorter side is at least this
#: many pixels (while its longer side stays within :data:`MAX_SIDE`).
MIN_SIDE = 512
#: A larger image is scaled down until its longer side is this many pixels.
MAX_SIDE = 2048
#: Space between a box line and a label outside the box, in pixels.
LABEL_GAP_PX = 3


def display_scale(height: int, width: int, min_side: int = MIN_SIDE,
                  max_side: int = MAX_SIDE) -> float:
    """The factor an image is scaled by before drawing.

    Args:
        height (int): Image height in pixels.
        width (int): Image width in pixels.
        min_side (int): A shorter side below this is upscaled by the least integer factor
            that reaches it, as far as the longer side stays within ``max_side``. Defaults to
            :data:`MIN_SIDE`.
        max_side (int): A longer side above this is scaled down to it. Defaults to
            :data:`MAX_SIDE`.

    Returns:
        float: An integer factor (1 or more), or a factor below 1 for a huge image.
    """
    if max(height, width) > max_side:
        return max_side / max(height, width)
    factor = math.ceil(min_side / max(min(height, width), 1))
    return float(max(1, min(factor, max_side // max(height, width))))


def scale_image(image: np.ndarray, scale: float) -> np.ndarray:
    """An image scaled by :func:`display_scale`'s factor.

    Args:
        image (np.ndarray): (H, W, C) or (H, W) image.
        scale (float): An integer factor (pixels repeated: nearest neighbour, no blur), or a
            factor below 1 (area averaging).

    Returns:
        np.ndarray: The scaled image, of the same dtype.
    """
    if scale == 1:
        return image
    if scale > 1:
        factor = int(round(scale))
        return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)
    height, width = image.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _overlap(a: Box, b: Box) -> float:
    """The area two x1y1x2y2 rectangles share."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def place_labels(boxes: Sequence[Box], sizes: Sequence[Tuple[float, float]], width: float,
                 height: float, margin: float, gap: float = LABEL_GAP_PX) -> List[Box]:
    """Place each box's label above it, else below, one or two label heights further out, else
    inside (left-aligned, else right-aligned); the first place off earlier labels, then off its
    own box, then least over other boxes wins. Give the labels highest score first.

    Args:
        boxes (Sequence[Box]): x1y1x2y2 boxes, in pixels of the picture.
        sizes (Sequence[tuple[float, float]]): Each label's width and height, in pixels.
        width (float): Picture (scaled image) width: labels stay within ``[0, width]``
            (one wider than that starts at 0).
        height (float): Picture height: labels stay within ``[-margin, height + margin]``.
        margin (float): Height of the strips above and below the image that labels may use;
            at least a label's height plus ``gap`` leaves room outside every box.
        gap (float): Space between a box and a label outside it. Defaults to
            :data:`LABEL_GAP_PX`.

    Returns:
        list[Box]: Each label's x1y1x2y2 rectangle, in the order of ``boxes``.
    """
    placed: List[Box] = []
    for index, ((x1, y1, x2, y2), (w, h)) in enumerate(zip(boxes, sizes)):
        left = min(max(x1, 0.0), max(width - w, 0.0))
        right = min(max(x2 - w, 0.0), max(width - w, 0.0))
        tops = [y1 - gap - h, y2 + gap, y1 - gap - 2 * h, y2 + gap + h, y1 - gap - 3 * h,
                y2 + gap + 2 * h, y1 + gap, y2 - gap - h]
        own = (x1, y1, x2, y2)
        best, best_cost = None, None
        for order, (top, x) in enumerate((top, x) for top in tops for x in (left, right)):
            if top < -margin - 1e-6 or top + h > height + margin + 1e-6:
                continue
            rect = (x, top, x + w, top + h)
            cost = (sum(_overlap(rect, other) for other in placed),
                    _overlap(rect, own) > 0,
                    sum(_overlap(rect, box) for i, box in enumerate(boxes) if i != index),
                    order)
            if best_cost is None or cost < best_cost:
                best, best_cost = rect, cost
        if best is None:  # a label higher than the strips: inside, at the top
            best = (left, max(y1, -margin), left + w, max(y1, -margin) + h)
        placed.append(best)
    return placed
