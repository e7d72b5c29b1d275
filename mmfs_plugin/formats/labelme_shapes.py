"""Labelme shape geometry: one shape -> an instance with its box; a group's parts -> one.

Region shapes (``polygon``, ``rectangle``, ``circle``, ``mask``) become instances; the
non-region shapes (``point``, ``points``, ``line``, ``linestrip``) do not. Box rule: the exact
min/max of a polygon's vertices (rectangle: its two corners; circle: centre +- radius; mask: the
bitmap's nonzero pixel extent, its top-left pixel at ``floor(points[0])``, its size its own),
clipped to ``[0, width] x [0, height]``; the union of the parts' boxes for a group.
Segmentations are not clipped: flat polygons (a circle becomes labelme's polygon
approximation), or a COCO RLE in the image frame when a part is a mask.

Points are checked in pure Python at C speed (``sorted``/``sum`` over the point list):
JSON ``true``/``false`` coordinates pass as 1/0; anything else that is not a number within
+-``MAX_COORDINATE`` is an error. Bad shapes raise
:class:`~mmfs_plugin.formats.labelme_records.InvalidInput`.

Pure: imports neither torch nor mmdet; numpy and pycocotools load only when a mask is read.
"""
import base64
import io
import math
from functools import reduce
from operator import iconcat
from typing import Any, Dict, List, Optional, Tuple

from PIL import Image

from .labelme_records import IGNORE_LABEL, InvalidInput, LabelmeInstance, Segmentation

REGION_TYPES = frozenset({'polygon', 'rectangle', 'circle', 'mask'})
NON_REGION_TYPES = frozenset({'point', 'points', 'line', 'linestrip'})
#: Most vertices of a circle's polygon approximation (labelme's rule, capped for huge radii).
MAX_CIRCLE_VERTICES = 1000
#: Largest coordinate magnitude accepted: beyond any image, small enough for finite areas.
MAX_COORDINATE = 1e12

Box = Tuple[float, float, float, float]
_PAIR = {2}


def parse_shape(shape: Any, index: int, height: int, width: int) -> Optional[LabelmeInstance]:
    """Validate one shape of a labelme file and make it an instance on its own.

    Args:
        shape (Any): The shape as parsed from the JSON.
        index (int): Its index in the file's ``shapes``.
        height (int): The image height.
        width (int): The image width.

    Returns:
        LabelmeInstance | None: The shape's instance (segmentation: its polygon, or its
        mask's RLE), or None for a non-region shape.
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
    if shape_type == 'polygon':
        if num_points < 3:
            raise InvalidInput(f'shapes[{index}].points', 'fewer than 3 points',
                               f'polygon with {num_points}')
        xs, ys = flat[0::2], flat[1::2]
        xs.sort()  # faster than min() plus max()
        ys.sort()
        bbox = _clip_box(xs[0], ys[0], xs[-1], ys[-1], height, width, index)
        segmentation: Segmentation = [flat]
    elif num_points != 2:
        raise InvalidInput(f'shapes[{index}].points', 'not 2 points',
                           f'{shape_type} with {num_points}')
    elif shape_type == 'mask':
        bbox, segmentation = _mask_part(shape.get('mask'), flat, height, width, index)
    elif shape_type == 'rectangle':
        x1, x2 = sorted(flat[0::2])
        y1, y2 = sorted(flat[1::2])
        bbox = _clip_box(x1, y1, x2, y2, height, width, index)
        segmentation = [[x1, y1, x2, y1, x2, y2, x1, y2]]
    else:
        x, y = flat[0], flat[1]
        radius = math.hypot(flat[2] - x, flat[3] - y)
        bbox = _clip_box(x - radius, y - radius, x + radius, y + radius, height, width, index)
        segmentation = [_circle_polygon(x, y, radius)]
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

        # Rasterise the polygons clipped to (just beyond) the image: pycocotools' cost grows
        # with the polygon's extent and its integer coordinates overflow far outside.
        polygons = [_clip_polygon(part.segmentation[0], -1, -1, width + 1, height + 1)
                    for part in parts if not isinstance(part.segmentation, dict)]
        polygons = [polygon for polygon in polygons if len(polygon) >= 6]
        if polygons:  # pycocotools fails on an empty list (a group of masks only)
            rles += mask_utils.frPyObjects(polygons, height, width)
        segmentation = _rle_to_json(mask_utils.merge(rles))
    return LabelmeInstance(first.label, bbox, segmentation,
                           tuple(index for part in parts for index in part.shape_indices),
                           first.shape_type, first.group_id, first.ignore)


def _flat_points(points: Any, index: int) -> List[float]:
    """Return ``[x1, y1, x2, y2, ...]`` of a list of finite ``[x, y]`` pairs."""
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


def _clip_box(x1: float, y1: float, x2: float, y2: float, height: int, width: int,
              index: int) -> Box:
    """Clip a box to the image; a box with no area, or none inside the image, is invalid."""
    if x1 >= x2 or y1 >= y2:
        raise InvalidInput(f'shapes[{index}].points', 'zero-area box', f'[{x1}, {y1}, {x2}, {y2}]')
    if x1 < -MAX_COORDINATE or y1 < -MAX_COORDINATE or x2 > MAX_COORDINATE or y2 > MAX_COORDINATE:
        raise InvalidInput(f'shapes[{index}].points', 'coordinate out of range',
                           f'[{x1}, {y1}, {x2}, {y2}] beyond +-{MAX_COORDINATE:g}')
    box = (float(x1) if x1 > 0 else 0.0, float(y1) if y1 > 0 else 0.0,
           float(x2) if x2 < width else float(width), float(y2) if y2 < height else float(height))
    if box[0] >= box[2] or box[1] >= box[3]:
        raise InvalidInput(f'shapes[{index}].points', 'outside the image',
                           f'[{x1}, {y1}, {x2}, {y2}] in a {width}x{height} image')
    return box


def _circle_polygon(x: float, y: float, radius: float) -> List[float]:
    """Return labelme's polygon for a circle: gap to the arc <= 1 px, >= 12 vertices."""
    cosine = max(1 - 1 / radius, -1.0)  # labelme fails below radius 0.5; 12 vertices there
    n = MAX_CIRCLE_VERTICES if cosine >= 1 else min(
        max(int(math.pi / math.acos(cosine)), 12), MAX_CIRCLE_VERTICES)
    step = 2 * math.pi / n
    polygon = []
    for i in range(n):
        polygon += (x + radius * math.sin(step * i), y + radius * math.cos(step * i))
    return polygon


def _mask_part(mask: Any, flat: List[float], height: int, width: int,
               index: int) -> Tuple[Box, Dict[str, Any]]:
    """Place a mask shape's bitmap at its first point: ``(bbox, rle)`` in the image."""
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
    if not bitmap.any():
        raise InvalidInput(field_name, 'zero-area box', 'no pixel set')
    x0, y0 = math.floor(flat[0]), math.floor(flat[1])
    canvas = np.zeros((height, width), dtype=np.uint8, order='F')
    top, left = max(y0, 0), max(x0, 0)
    bottom = min(y0 + bitmap.shape[0], height)
    right = min(x0 + bitmap.shape[1], width)
    if top < bottom and left < right:
        canvas[top:bottom, left:right] = bitmap[top - y0:bottom - y0, left - x0:right - x0]
    rows, cols = np.flatnonzero(canvas.any(axis=1)), np.flatnonzero(canvas.any(axis=0))
    if not rows.size:
        raise InvalidInput(f'shapes[{index}].points', 'outside the image',
                           f'a {bitmap.shape[1]}x{bitmap.shape[0]} bitmap at ({x0}, {y0}) in a '
                           f'{width}x{height} image')
    bbox = (float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1))
    return bbox, _rle_to_json(mask_utils.encode(canvas))


def _rle_to_json(rle: Dict[str, Any]) -> Dict[str, Any]:
    """Return a pycocotools RLE with JSON types: ``{'size': [h, w], 'counts': str}``."""
    return {'size': [int(v) for v in rle['size']], 'counts': rle['counts'].decode('ascii')}


def _clip_polygon(flat: List[float], x1: float, y1: float, x2: float,
                  y2: float) -> List[float]:
    """Return the part of a polygon inside a box (Sutherland-Hodgman), flat."""
    points = list(zip(flat[0::2], flat[1::2]))
    for axis, bound, sign in ((0, x1, 1), (0, x2, -1), (1, y1, 1), (1, y2, -1)):
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
