"""Boxes held to the image they annotate, the same way for every format."""
from typing import List, Optional, Sequence, Tuple

#: Skip reasons of :func:`clip_box`.
ZERO_SIZE = 'box of zero or negative size'
OUTSIDE = 'box outside the image'
#: Fix reason of :func:`clip_box`.
CLIPPED = 'box clipped to the image'


def clip_box(box: Sequence[float], width: float,
             height: float) -> Tuple[Optional[List[float]], Optional[str]]:
    """Clip an ``[x1, y1, x2, y2]`` box (pixels) to the image ``[0, width] x [0, height]``, as
    the labelme reader clips its shapes.

    Args:
        box (Sequence[float]): ``[x1, y1, x2, y2]`` in pixels.
        width (float): The image width in pixels.
        height (float): The image height in pixels.

    Returns:
        tuple: ``(clipped box, None)`` for a box inside the image, ``(clipped box, CLIPPED)``
        for one that crossed its border, ``(None, ZERO_SIZE)`` or ``(None, OUTSIDE)`` for a
        box to leave out.
    """
    x1, y1, x2, y2 = box
    if x2 <= x1 or y2 <= y1:
        return None, ZERO_SIZE
    clipped = [max(x1, 0), max(y1, 0), min(x2, width), min(y2, height)]
    if clipped[2] <= clipped[0] or clipped[3] <= clipped[1]:
        return None, OUTSIDE
    return clipped, (CLIPPED if clipped != list(box) else None)
