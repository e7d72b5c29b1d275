"""Labelme shape geometry: one shape -> an instance with its box, clipped to the image; a
group's parts -> one instance. Bad shapes raise :class:`~.labelme_records.InvalidInput`."""
import base64
import io
import math
from functools import reduce
from operator import iconcat
from typing import Any, Dict, List, Optional, Tuple

from PIL import Image

from .labelme_records import IGNORE_LABEL, InvalidInput, LabelmeInstance, Segmentation

REGION_TYPES = frozenset({'polygon', 'rectangle', 'oriented_rectangle', 'circle', 'mask'})
NON_REGION_TYPES = frozenset({'point', 'points', 'line', 'linestrip'})
#: Most vertices of a circle's polygon approximation (labelme's rule, capped for huge radii).
MAX_CIRCLE_VERTICES = 1000
#: Largest coordinate magnitude accepted: beyond any image, small enough for exact clipping.
MAX_COORDINATE = 1e12

Box = Tuple[float, float, float, float]
_PAIR = {2}
#: The number of points of the region types other than ``polygon`` (3 or more).
_NUM_POINTS = {'rectangle': 2, 'oriented_rectangle': 4, 'circle': 2, 'mask': 2}


def parse_shape(shape: Any, index: int, height: int, width: int) -> Optional[LabelmeInstance]:
    """Validate one shape of a labelme file and make it an instance on its own.

    The region is the one labelme fills (``shape_to_mask`` of its ``utils/shape.py``,
    ``shapes_to_label`` for masks); a ``rectangle`` is the box of its 2 corners, a ``circle``
    centred at ``points[0]`` through ``points[1]``. A shape with no area in the image is invalid.

    Args:
        shape (Any): The shape as parsed from the JSON.
        index (int): Its index in the file's ``shapes``.
        height (int): The image height.
        width (int): The image width.

    Returns:
        LabelmeInstance | None: The shape's instance (segmentation: its polygon clipped to the
        image, or its mask's RLE), or None for a non-region shape.
    """
    if type(shape) is not dict:
        raise InvalidInput(f'shapes[{index}]', 'not an object', type(shape).__name__)
    shape_type = shape.get('shape_type')
    if shape_type is None:  # labelme 3.x
        shape_type = 'polygon'
    elif type(shape_type) is not str:
        raise InvalidInput(f'shapes[{index}].shape_type', 'not a string', repr(shape_type))
    if shape_type not in REGION_TYPES:
        if shape_type in NON_REGION_TYPES:
            return None
        raise InvalidInput(f'shapes[{index}].shape_type', 'unknown shape_type', repr(shape_type))
    label = shape.get('label')
    if type(label) is not str or not label:
        raise InvalidInput(f'shapes[{index}].label', 'not a non-empty string', repr(label))
    group_id = shape.get('group_id')
    if group_id is not None and type(group_id) is not int:
        raise InvalidInput(f'shapes[{index}].group_id', 'not an integer or null', repr(group_id))
    flat = _flat_points(shape.get('points'), index)
    num_points = len(flat) // 2
    expected = _NUM_POINTS.get(shape_type)
    if expected is None and num_points < 3:
        raise _points_error(index, 'fewer than 3 points', f'polygon with {num_points}')
    if expected is not None and num_points != expected:
        raise _points_error(index, f'not {expected} points', f'{shape_type} with {num_points}')
    if shape_type == 'mask':
        bbox, segmentation = _mask_part(shape.get('mask'), flat, height, width, index)
    elif shape_type == 'circle':
        x, y = flat[0], flat[1]
        radius = math.hypot(flat[2] - x, flat[3] - y)
        _, polygon = _polygon_in_image(_circle_polygon(x, y, radius, index), height, width,
                                       index)
        bbox, segmentation = _disc_box(x, y, radius, height, width), [polygon]
    else:
        if shape_type == 'rectangle':
            x1, x2 = sorted(flat[0::2])
            y1, y2 = sorted(flat[1::2])
            flat = [x1, y1, x2, y1, x2, y2, x1, y2]
        bbox, polygon = _polygon_in_image(flat, height, width, index)
        segmentation = [polygon]
    return LabelmeInstance(label, bbox, segmentation, (index,), shape_type, group_id,
                           label == IGNORE_LABEL)


def merge_parts(parts: List[LabelmeInstance], height: int, width: int) -> LabelmeInstance:
    """Merge the instances of the shapes of one ``group_id`` into one.

    Args:
        parts (list[LabelmeInstance]): The shapes' instances from :func:`parse_shape`, in
            shape order.
        height (int): The image height.
        width (int): The image width.

    Returns:
        LabelmeInstance: The instance: the union of the boxes; the polygons, or one RLE when
        a part is a mask.
    """
    first = parts[0]
    boxes = [part.bbox for part in parts]
    bbox = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
            max(b[3] for b in boxes))
    rles = [part.segmentation for part in parts if isinstance(part.segmentation, dict)]
    if not rles:
        segmentation: Segmentation = [polygon for part in parts for polygon in part.segmentation]
    else:
        from pycocotools import mask as mask_utils

        polygons = [part.segmentation[0] for part in parts
                    if not isinstance(part.segmentation, dict)]
        if polygons:  # pycocotools fails on an empty list (a group of masks only)
            rles += mask_utils.frPyObjects(polygons, height, width)
        segmentation = _rle_to_json(mask_utils.merge(rles))
    return LabelmeInstance(first.label, bbox, segmentation,
                           tuple(index for part in parts for index in part.shape_indices),
                           first.shape_type, first.group_id, first.ignore)


def _flat_points(points: Any, index: int) -> List[float]:
    """Return ``[x1, y1, x2, y2, ...]`` of a list of finite ``[x, y]`` pairs (JSON
    ``true``/``false`` pass as 1/0, as in labelme)."""
    if type(points) is not list:
        raise _points_error(index, 'not a list of [x, y] points', type(points).__name__)
    try:
        if points and set(map(len, points)) != _PAIR:
            raise _points_error(index, 'not a list of [x, y] points', 'a point without 2 values')
        flat = reduce(iconcat, points, [])  # list += list: faster than itertools.chain
        finite = math.isfinite(sum(flat))  # NaN and inf propagate through the sum
    except TypeError:
        raise _points_error(index, 'not a list of [x, y] points', 'a non-numeric coordinate')
    except OverflowError:
        finite = False
    if not finite:
        raise _points_error(index, 'non-finite coordinate', 'NaN, infinite or out of range')
    return flat


def _points_error(index: int, reason: str, detail: str) -> InvalidInput:
    """The error of shape ``index``'s ``points`` (its field name made only when needed)."""
    return InvalidInput(f'shapes[{index}].points', reason, detail)


def _check_range(x1: float, y1: float, x2: float, y2: float, index: int) -> None:
    """Refuse a shape reaching beyond +-``MAX_COORDINATE``."""
    if x1 < -MAX_COORDINATE or y1 < -MAX_COORDINATE or x2 > MAX_COORDINATE or y2 > MAX_COORDINATE:
        raise _points_error(index, 'coordinate out of range',
                            f'[{x1}, {y1}, {x2}, {y2}] beyond +-{MAX_COORDINATE:g}')


def _collinear(flat: List[float]) -> bool:
    """Whether all points of a polygon lie on one line (it encloses nothing)."""
    x0, y0 = flat[0], flat[1]
    for i in range(2, len(flat), 2):
        dx, dy = flat[i] - x0, flat[i + 1] - y0
        if dx or dy:
            # a real outline leaves the line at once: any() stops at its first nonzero product
            return not any((flat[j] - x0) * dy - (flat[j + 1] - y0) * dx
                           for j in range(i + 2, len(flat), 2))
    return True


def _polygon_in_image(flat: List[float], height: int, width: int,
                      index: int) -> Tuple[Box, List[float]]:
    """Return a polygon's part in the image and its extent: ``(bbox, polygon)``.

    A polygon inside the image is returned as it is; one crossing the border is clipped.
    """
    if _collinear(flat):
        raise _points_error(index, 'zero-area shape',
                            f'its {len(flat) // 2} points lie on one line')
    xs, ys = sorted(flat[0::2]), sorted(flat[1::2])  # faster than min() plus max()
    _check_range(xs[0], ys[0], xs[-1], ys[-1], index)
    if xs[0] >= 0 and ys[0] >= 0 and xs[-1] <= width and ys[-1] <= height:
        return (float(xs[0]), float(ys[0]), float(xs[-1]), float(ys[-1])), flat
    clipped = _clip_polygon(flat, width, height)
    cxs, cys = sorted(clipped[0::2]), sorted(clipped[1::2])
    if len(clipped) < 6 or cxs[0] >= cxs[-1] or cys[0] >= cys[-1]:
        raise _points_error(index, 'outside the image',
                            f'[{xs[0]}, {ys[0]}, {xs[-1]}, {ys[-1]}] in a {width}x{height} image')
    return (cxs[0], cys[0], cxs[-1], cys[-1]), clipped


def _circle_polygon(x: float, y: float, radius: float, index: int) -> List[float]:
    """Return labelme2coco's polygon for a circle, after checking its range and radius.

    ``max(int(pi / arccos(1 - 1 / r)), 12)`` vertices (at most ``MAX_CIRCLE_VERTICES``), the
    first at ``(x, y + r)``.
    """
    _check_range(x - radius, y - radius, x + radius, y + radius, index)
    if not radius:
        raise _points_error(index, 'zero-area shape', 'a circle of radius 0')
    cosine = max(1 - 1 / radius, -1.0)  # labelme fails below radius 0.5; 12 vertices there
    n = MAX_CIRCLE_VERTICES if cosine >= 1 else min(
        max(int(math.pi / math.acos(cosine)), 12), MAX_CIRCLE_VERTICES)
    step = 2 * math.pi / n
    polygon = []
    for i in range(n):
        polygon += (x + radius * math.sin(step * i), y + radius * math.cos(step * i))
    return polygon


def _disc_box(x: float, y: float, radius: float, height: int, width: int) -> Box:
    """Return the extent of the part of a disc in the image (the part is not empty)."""
    def span(centre: float, across: float, size: int) -> Tuple[float, float]:
        # the disc's widest chord within the band 0 <= across-axis <= size
        gap = across - min(max(across, 0), size)
        half = math.sqrt(max(radius * radius - gap * gap, 0.0))
        return centre - half, centre + half

    x1, x2 = span(x, y, height)
    y1, y2 = span(y, x, width)
    return max(x1, 0.0), max(y1, 0.0), float(min(x2, width)), float(min(y2, height))


def _mask_part(mask: Any, flat: List[float], height: int, width: int,
               index: int) -> Tuple[Box, Dict[str, Any]]:
    """Place a mask shape's bitmap as labelme's ``shapes_to_label`` does: ``(bbox, rle)``.

    Its top-left pixel is ``round(points[0])``; with integer points the bitmap ends at
    ``points[1]`` (inclusive, a larger one is cut there), otherwise it has its own size.
    """
    import numpy as np
    from pycocotools import mask as mask_utils

    field_name = f'shapes[{index}].mask'
    if type(mask) is not str:
        raise InvalidInput(field_name, 'not a base64 PNG', type(mask).__name__)
    try:
        with Image.open(io.BytesIO(base64.b64decode(mask))) as image:
            bitmap = np.asarray(image)
    except Exception as err:  # PIL raises many kinds on truncated or foreign bytes
        raise InvalidInput(field_name, 'not a base64 PNG', f'{type(err).__name__}: {err}')
    bitmap = bitmap.any(axis=2) if bitmap.ndim == 3 else bitmap != 0
    x0, y0 = round(flat[0]), round(flat[1])  # half to even, as numpy's round
    if all(float(c).is_integer() for c in flat):
        bitmap = bitmap[:max(round(flat[3]) - y0 + 1, 0), :max(round(flat[2]) - x0 + 1, 0)]
    if not bitmap.any():
        raise InvalidInput(field_name, 'zero-area shape', 'no pixel set within its points')
    canvas = np.zeros((height, width), dtype=np.uint8, order='F')
    top, left = max(y0, 0), max(x0, 0)
    bottom = min(y0 + bitmap.shape[0], height)
    right = min(x0 + bitmap.shape[1], width)
    if top < bottom and left < right:
        canvas[top:bottom, left:right] = bitmap[top - y0:bottom - y0, left - x0:right - x0]
    rows, cols = np.flatnonzero(canvas.any(axis=1)), np.flatnonzero(canvas.any(axis=0))
    if not rows.size:
        raise _points_error(index, 'outside the image',
                            f'a {bitmap.shape[1]}x{bitmap.shape[0]} bitmap at ({x0}, {y0}) in '
                            f'a {width}x{height} image')
    bbox = (float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1))
    return bbox, _rle_to_json(mask_utils.encode(canvas))


def _rle_to_json(rle: Dict[str, Any]) -> Dict[str, Any]:
    """Return a pycocotools RLE with JSON types: ``{'size': [h, w], 'counts': str}``."""
    return {'size': [int(v) for v in rle['size']], 'counts': rle['counts'].decode('ascii')}


def _clip_polygon(flat: List[float], width: int, height: int) -> List[float]:
    """Return the part of a polygon inside ``[0, width] x [0, height]`` (Sutherland-Hodgman)."""
    points = list(zip(flat[0::2], flat[1::2]))
    for axis, bound, sign in ((0, 0, 1), (0, width, -1), (1, 0, 1), (1, height, -1)):
        kept = []
        for prev, cur in zip(points[-1:] + points[:-1], points):
            prev_in, cur_in = sign * (prev[axis] - bound) >= 0, sign * (cur[axis] - bound) >= 0
            if prev_in != cur_in:
                t = (bound - prev[axis]) / (cur[axis] - prev[axis])
                crossing = [prev[0] + t * (cur[0] - prev[0]), prev[1] + t * (cur[1] - prev[1])]
                crossing[axis] = bound
                kept.append(tuple(crossing))
            if cur_in:
                kept.append(cur)
        points = kept
    return [float(c) for point in points for c in point]
