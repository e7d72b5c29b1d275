"""The pure labelme reader: one JSON file -> an image record and its instances.

Reads labelme 3.x to 5.x files (DESIGN §2). Region shapes (``polygon``, ``rectangle``,
``circle``, ``mask``) become instances; shapes with the same ``label`` and the same non-null
``group_id`` merge into one instance; ``__ignore__`` shapes become ignore regions; the non-region
shapes (``point``, ``points``, ``line``, ``linestrip``) are skipped and counted as skips.

Box rule: the exact min/max of a polygon's vertices (rectangle: its two corners; circle:
centre +- radius; mask: the bitmap's nonzero pixel extent, its top-left pixel at
``floor(points[0])``, its size its own), clipped to ``[0, width] x [0, height]``; the union of
the parts' boxes for a group. Segmentations are not clipped: flat polygons (a circle becomes
labelme's polygon approximation), or a COCO RLE in the image frame when a part is a mask.
Area (computed on first use): the shoelace area of the polygons, summed over a group's parts,
or the pixel count of the RLE. Points are checked in pure Python at C speed (``min``/``max``/
``sum`` over the point list): JSON ``true``/``false`` coordinates pass as 1/0; anything else
that is not a number within +-``MAX_COORDINATE`` is an error.

Bad input raises :class:`LabelmeError` (``'<file>: <field>: <reason>'``) or, with
``on_error='skip'``, becomes a :class:`SkippedShape` (the shape, or the whole file).

Imports neither torch nor mmdet; numpy and pycocotools load only when a mask is read.
"""
import base64
import binascii
import hashlib
import io
import json
import math
import os
import struct
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from operator import mul
from typing import (Any, Callable, Collection, Dict, Iterable, List, NamedTuple, Optional, Tuple,
                    Union)

from PIL import Image

from ..fileio import atomic_write

IGNORE_LABEL = '__ignore__'
REGION_TYPES = frozenset({'polygon', 'rectangle', 'circle', 'mask'})
NON_REGION_TYPES = frozenset({'point', 'points', 'line', 'linestrip'})
IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')
_STEM_SUFFIXES = IMAGE_SUFFIXES + tuple(suffix.upper() for suffix in IMAGE_SUFFIXES)
ON_ERROR_MODES = ('raise', 'skip')
#: Most vertices of a circle's polygon approximation (labelme's rule, capped for huge radii).
MAX_CIRCLE_VERTICES = 1000
#: Largest coordinate magnitude accepted: beyond any image, small enough for finite areas.
MAX_COORDINATE = 1e12

_PAIR = {2}
_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
_HEAD_BYTES = 24  # a PNG's signature and IHDR chunk, with the size
_TYPE_NAMES = {str: 'not a string', int: 'not an integer'}
_EXIF_ORIENTATION = 0x0112
_TRANSPOSED_ORIENTATIONS = {5, 6, 7, 8}  # EXIF rotations by 90 degrees: width <-> height


class LabelmeError(ValueError):
    """Bad labelme input; ``str(e) == f'{file}: {field}: {reason}'``.

    Args:
        file (str): The JSON file.
        field (str): The offending field, e.g. ``'shapes[3].points'`` or ``'imageHeight'``.
        reason (str): What is wrong with it.
    """

    def __init__(self, file: str, field: str, reason: str) -> None:
        super().__init__(f'{file}: {field}: {reason}')
        self.file = file
        self.field = field
        self.reason = reason

    def __reduce__(self) -> Tuple[type, Tuple[str, str, str]]:
        return type(self), (self.file, self.field, self.reason)


@dataclass(frozen=True)
class LabelmeInstance:
    """One object (or ignore region) of a labelme file; see docs/architecture.md."""
    label: str
    bbox: Tuple[float, float, float, float]
    segmentation: Union[List[List[float]], Dict[str, Any]]
    shape_indices: Tuple[int, ...]
    shape_type: str
    group_id: Optional[int]
    ignore: bool

    @cached_property
    def area(self) -> float:
        """The polygons' shoelace areas summed, or the RLE's pixel count."""
        if isinstance(self.segmentation, dict):
            from pycocotools import mask as mask_utils
            return float(mask_utils.area(self.segmentation))
        total = 0.0
        for flat in self.segmentation:
            xs, ys = flat[0::2], flat[1::2]
            total += abs(sum(map(mul, xs, ys[1:] + ys[:1])) - sum(map(mul, xs[1:] + xs[:1], ys)))
        return total / 2


@dataclass(frozen=True)
class SkippedShape:
    """A shape (``shape_index`` set) or a whole file (``shape_index`` None) left out."""
    file: str
    shape_index: Optional[int]
    field: str
    reason: str


@dataclass
class LabelmeRecord:
    """One labelme file: its image and its instances; see docs/architecture.md."""
    json_path: str
    img_path: Optional[str]
    image_data: Optional[str]
    height: int
    width: int
    instances: List[LabelmeInstance]
    skipped: List[SkippedShape]
    num_shapes: int


class _Invalid(Exception):
    """A problem found while reading: ``reason`` is the canonical (countable) part."""

    def __init__(self, field: str, reason: str, detail: str = '') -> None:
        super().__init__(field, reason, detail)
        self.field = field
        self.reason = reason
        self.message = f'{reason} ({detail})' if detail else reason


class _Part(NamedTuple):
    """One valid region shape, before ``group_id`` parts merge."""
    index: int
    label: str
    group_id: Optional[int]
    shape_type: str
    bbox: Tuple[float, float, float, float]
    polygon: Optional[List[float]]
    rle: Optional[Dict[str, Any]]


def read_labelme(json_path: Union[str, 'os.PathLike[str]'],
                 on_error: str = 'raise',
                 check_image: bool = True) -> LabelmeRecord:
    """Read one labelme file.

    The image is ``imagePath`` (relative to the JSON's folder), else the embedded
    ``imageData``, else the image with the JSON's stem beside it.

    Args:
        json_path (str | PathLike): The labelme JSON file.
        on_error (str): ``'raise'`` a :class:`LabelmeError` on bad input, or ``'skip'`` the bad
            shape (or the whole file, returned with no instances and one skip entry).
            Defaults to ``'raise'``.
        check_image (bool): Read the image header and check ``imageHeight``/``imageWidth``
            against it. The header is read anyway when the JSON lacks them. Defaults to True.

    Returns:
        LabelmeRecord: The image and its instances, in order of their first shape.
    """
    _check_on_error(on_error)
    path = os.fspath(json_path)
    num_shapes = 0
    try:
        data = _load_json(path)
        shapes = data.get('shapes')
        if type(shapes) is not list:
            raise _Invalid('shapes', 'missing field' if shapes is None else 'not a list')
        num_shapes = len(shapes)
        img_path, image_data, height, width = _resolve_image(path, data, check_image)
    except _Invalid as err:
        if on_error == 'raise':
            raise LabelmeError(path, err.field, err.message) from None
        return LabelmeRecord(path, None, None, 0, 0, [],
                             [SkippedShape(path, None, err.field, err.reason)], num_shapes)
    groups: Dict[Any, List[_Part]] = {}
    skipped = []
    for index, shape in enumerate(shapes):
        try:
            part = _parse_shape(shape, index, height, width)
        except _Invalid as err:
            if on_error == 'raise':
                raise LabelmeError(path, err.field, err.message) from None
            skipped.append(SkippedShape(path, index, err.field, err.reason))
            continue
        if part is None:
            skipped.append(SkippedShape(path, index, f'shapes[{index}].shape_type',
                                        'non-region shape'))
        elif part.group_id is None:
            groups[index] = [part]
        else:
            groups.setdefault((part.label, part.group_id), []).append(part)
    instances = [_merge(parts, height, width) for parts in groups.values()]
    return LabelmeRecord(path, img_path, image_data, height, width, instances, skipped,
                         num_shapes)


def _check_on_error(on_error: str) -> None:
    if on_error not in ON_ERROR_MODES:
        raise ValueError(f'on_error must be one of {ON_ERROR_MODES}, got {on_error!r}')


def _load_json(path: str) -> Dict[str, Any]:
    """Read and parse the file; it must hold a JSON object."""
    try:
        with open(path, 'rb') as f:
            raw = f.read()
    except OSError as err:
        raise _Invalid('file', 'unreadable file', err.strerror or type(err).__name__)
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        raise _Invalid('json', 'invalid JSON', 'not UTF-8 text')
    except ValueError as err:  # json.JSONDecodeError: truncated or malformed
        raise _Invalid('json', 'invalid JSON', str(err))
    except RecursionError:
        raise _Invalid('json', 'invalid JSON', 'nested too deeply')
    if type(data) is not dict:
        raise _Invalid('json', 'not a JSON object', type(data).__name__)
    return data


def _optional(data: Dict[str, Any], key: str, kind: type) -> Any:
    """Return ``data[key]`` if it is a ``kind`` (None when absent or null)."""
    value = data.get(key)
    if value is not None and type(value) is not kind:
        raise _Invalid(key, _TYPE_NAMES[kind], f'got {type(value).__name__} {value!r:.40}')
    return value


def _resolve_image(path: str, data: Dict[str, Any],
                   check_image: bool) -> Tuple[Optional[str], Optional[str], int, int]:
    """Find the image and its size: ``(img_path, image_data, height, width)``."""
    image_path = _optional(data, 'imagePath', str)
    image_data = _optional(data, 'imageData', str) or None
    height = _optional(data, 'imageHeight', int)
    width = _optional(data, 'imageWidth', int)
    for key, value in (('imageHeight', height), ('imageWidth', width)):
        if value is not None and value <= 0:
            raise _Invalid(key, 'not a positive integer', str(value))
    folder = os.path.dirname(path)
    read_size = check_image or height is None or width is None
    img_path = head = None
    if image_path:
        candidate = os.path.normpath(os.path.join(folder, image_path.replace('\\', '/')))
        if read_size:  # one open both finds the file and reads its header
            head = _read_head(candidate)
            img_path = None if head is None else candidate
        elif os.path.isfile(candidate):
            img_path = candidate
    if img_path is None and image_data is None:
        stem = os.path.splitext(path)[0]
        img_path = next((stem + suffix for suffix in _STEM_SUFFIXES
                         if os.path.isfile(stem + suffix)), None)
        if img_path is None:
            raise _Invalid('imagePath', 'image not found',
                           f'no file {image_path!r} in {folder or "."}, no imageData, no '
                           f'{os.path.basename(stem)}{"/".join(IMAGE_SUFFIXES)}')
    if read_size:
        true_height, true_width = _image_size(img_path, image_data, head)
        for key, value, truth in (('imageHeight', height, true_height),
                                  ('imageWidth', width, true_width)):
            if value is not None and value != truth:
                raise _Invalid(key, 'disagrees with the image',
                               f'{value} in the JSON, {truth} in {img_path or "imageData"}')
        height, width = true_height, true_width
    return img_path, None if img_path else image_data, height, width


def _read_head(path: str) -> Optional[bytes]:
    """Return the first bytes of a file (a PNG's size lies in them); None if it is no file.

    A bare ``os.open``/``os.read`` costs less than ``os.path.isfile`` plus a buffered
    ``open``; other errors (e.g. permissions) make the image unreadable.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            return os.read(fd, _HEAD_BYTES)
        finally:
            os.close(fd)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None  # a folder opens read-only on POSIX; reading it fails
    except OSError as err:
        raise _Invalid('imagePath', 'unreadable image', f'{type(err).__name__}: {err}')


def _image_size(img_path: Optional[str], image_data: Optional[str],
                head: Optional[bytes] = None) -> Tuple[int, int]:
    """Read ``(height, width)`` from the image header, as displayed (EXIF rotation applied).

    ``head``: the image file's first bytes when the caller has read them already.
    """
    field_name = 'imagePath' if img_path else 'imageData'
    try:
        if img_path:
            if head is None:
                with open(img_path, 'rb', buffering=0) as f:
                    head = f.read(_HEAD_BYTES)
            if head[:8] == _PNG_SIGNATURE and head[12:16] == b'IHDR':  # PIL's open is 4x slower
                width, height = struct.unpack('>II', head[16:24])
                if width and height:
                    return height, width
        source = img_path or io.BytesIO(base64.b64decode(image_data))
        with Image.open(source) as image:
            width, height = image.size
            # labelme and OpenCV show JPEGs rotated by their EXIF orientation.
            if image.format == 'JPEG' and (image.getexif().get(_EXIF_ORIENTATION)
                                           in _TRANSPOSED_ORIENTATIONS):
                width, height = height, width
    except Exception as err:  # PIL raises many kinds on truncated or foreign bytes
        raise _Invalid(field_name, 'unreadable image', f'{type(err).__name__}: {err}')
    if not (height > 0 and width > 0):
        raise _Invalid(field_name, 'unreadable image', f'size {width}x{height}')
    return height, width


def _parse_shape(shape: Any, index: int, height: int, width: int) -> Optional[_Part]:
    """Validate one shape; None for a non-region shape."""
    prefix = f'shapes[{index}]'
    if type(shape) is not dict:
        raise _Invalid(prefix, 'not an object', type(shape).__name__)
    shape_type = shape.get('shape_type')
    if shape_type is None:  # labelme 3.x
        shape_type = 'polygon'
    elif type(shape_type) is not str:
        raise _Invalid(f'{prefix}.shape_type', 'not a string', repr(shape_type))
    if shape_type in NON_REGION_TYPES:
        return None
    if shape_type not in REGION_TYPES:
        raise _Invalid(f'{prefix}.shape_type', 'unknown shape_type', repr(shape_type))
    label = shape.get('label')
    if type(label) is not str or not label:
        raise _Invalid(f'{prefix}.label', 'not a non-empty string', repr(label))
    group_id = shape.get('group_id')
    if group_id is not None and type(group_id) is not int:
        raise _Invalid(f'{prefix}.group_id', 'not an integer or null', repr(group_id))
    field_name = f'{prefix}.points'
    flat = _flat_points(shape.get('points'), field_name)
    num_points = len(flat) // 2
    if shape_type == 'polygon':
        if num_points < 3:
            raise _Invalid(field_name, 'fewer than 3 points', f'polygon with {num_points}')
        xs, ys = flat[0::2], flat[1::2]
        bbox = _clip_box(min(xs), min(ys), max(xs), max(ys), height, width, field_name)
        return _Part(index, label, group_id, shape_type, bbox, flat, None)
    if num_points != 2:
        raise _Invalid(field_name, 'not 2 points', f'{shape_type} with {num_points}')
    if shape_type == 'mask':
        bbox, rle = _mask_part(shape.get('mask'), flat, height, width, prefix)
        return _Part(index, label, group_id, shape_type, bbox, None, rle)
    if shape_type == 'rectangle':
        x1, x2 = sorted(flat[0::2])
        y1, y2 = sorted(flat[1::2])
        bbox = _clip_box(x1, y1, x2, y2, height, width, field_name)
        polygon = [x1, y1, x2, y1, x2, y2, x1, y2]
    else:
        x, y = flat[0], flat[1]
        radius = math.hypot(flat[2] - x, flat[3] - y)
        bbox = _clip_box(x - radius, y - radius, x + radius, y + radius, height, width,
                         field_name)
        polygon = _circle_polygon(x, y, radius)
    return _Part(index, label, group_id, shape_type, bbox, polygon, None)


def _flat_points(points: Any, field_name: str) -> List[float]:
    """Return ``[x1, y1, x2, y2, ...]`` of a list of finite ``[x, y]`` pairs."""
    if type(points) is not list:
        raise _Invalid(field_name, 'not a list of [x, y] points', type(points).__name__)
    try:
        if points and set(map(len, points)) != _PAIR:
            raise _Invalid(field_name, 'not a list of [x, y] points', 'a point without 2 values')
        flat = list(chain.from_iterable(points))
        finite = math.isfinite(sum(flat))  # NaN and inf propagate through the sum
    except TypeError:
        raise _Invalid(field_name, 'not a list of [x, y] points', 'a non-numeric coordinate')
    except OverflowError:
        finite = False
    if not finite:
        raise _Invalid(field_name, 'non-finite coordinate', 'NaN, infinite or out of range')
    return flat


def _clip_box(x1: float, y1: float, x2: float, y2: float, height: int, width: int,
              field_name: str) -> Tuple[float, float, float, float]:
    """Clip a box to the image; a box with no area, or none inside the image, is invalid."""
    if x1 >= x2 or y1 >= y2:
        raise _Invalid(field_name, 'zero-area box', f'[{x1}, {y1}, {x2}, {y2}]')
    if x1 < -MAX_COORDINATE or y1 < -MAX_COORDINATE or x2 > MAX_COORDINATE or y2 > MAX_COORDINATE:
        raise _Invalid(field_name, 'coordinate out of range',
                       f'[{x1}, {y1}, {x2}, {y2}] beyond +-{MAX_COORDINATE:g}')
    box = (float(max(x1, 0)), float(max(y1, 0)), float(min(x2, width)), float(min(y2, height)))
    if box[0] >= box[2] or box[1] >= box[3]:
        raise _Invalid(field_name, 'outside the image',
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
               prefix: str) -> Tuple[Tuple[float, float, float, float], Dict[str, Any]]:
    """Place a mask shape's bitmap at its first point: ``(bbox, rle)`` in the image."""
    import numpy as np
    from pycocotools import mask as mask_utils

    field_name = f'{prefix}.mask'
    if type(mask) is not str:
        raise _Invalid(field_name, 'not a base64 PNG', type(mask).__name__)
    try:
        with Image.open(io.BytesIO(base64.b64decode(mask))) as image:
            bitmap = np.asarray(image)
    except Exception as err:  # PIL raises many kinds on truncated or foreign bytes
        raise _Invalid(field_name, 'not a base64 PNG', f'{type(err).__name__}: {err}')
    bitmap = bitmap.any(axis=2) if bitmap.ndim == 3 else bitmap != 0
    if not bitmap.any():
        raise _Invalid(field_name, 'zero-area box', 'no pixel set')
    x0, y0 = math.floor(flat[0]), math.floor(flat[1])
    canvas = np.zeros((height, width), dtype=np.uint8, order='F')
    top, left = max(y0, 0), max(x0, 0)
    bottom = min(y0 + bitmap.shape[0], height)
    right = min(x0 + bitmap.shape[1], width)
    if top < bottom and left < right:
        canvas[top:bottom, left:right] = bitmap[top - y0:bottom - y0, left - x0:right - x0]
    rows, cols = np.flatnonzero(canvas.any(axis=1)), np.flatnonzero(canvas.any(axis=0))
    if not rows.size:
        raise _Invalid(f'{prefix}.points', 'outside the image',
                       f'a {bitmap.shape[1]}x{bitmap.shape[0]} bitmap at ({x0}, {y0}) in a '
                       f'{width}x{height} image')
    bbox = (float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1))
    return bbox, _rle_to_json(mask_utils.encode(canvas))


def _rle_to_json(rle: Dict[str, Any]) -> Dict[str, Any]:
    return {'size': [int(v) for v in rle['size']], 'counts': rle['counts'].decode('ascii')}


def _merge(parts: List[_Part], height: int, width: int) -> LabelmeInstance:
    """Make one instance of a shape, or of the parts of one ``group_id``."""
    first = parts[0]
    if len(parts) == 1:
        bbox = first.bbox
        segmentation = [first.polygon] if first.rle is None else first.rle
    else:
        boxes = [part.bbox for part in parts]
        bbox = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                max(b[3] for b in boxes))
        if all(part.rle is None for part in parts):
            segmentation = [part.polygon for part in parts]
        else:
            from pycocotools import mask as mask_utils
            rles = [part.rle for part in parts if part.rle is not None]
            # Rasterise the polygons clipped to (just beyond) the image: pycocotools' cost grows
            # with the polygon's extent and its integer coordinates overflow far outside.
            polygons = [_clip_polygon(part.polygon, -1, -1, width + 1, height + 1)
                        for part in parts if part.rle is None]
            rles += mask_utils.frPyObjects([p for p in polygons if len(p) >= 6], height, width)
            segmentation = _rle_to_json(mask_utils.merge(rles))
    return LabelmeInstance(first.label, bbox, segmentation, tuple(part.index for part in parts),
                           first.shape_type, first.group_id, first.label == IGNORE_LABEL)


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


def check_labels(record: LabelmeRecord,
                 classes: Collection[str],
                 on_error: str = 'raise',
                 summary: Optional['SkipSummary'] = None,
                 class_name: Optional[Callable[[str], str]] = None
                 ) -> List[Tuple[Optional[str], LabelmeInstance]]:
    """Pair a record's instances with their class names; a label not in ``classes`` is bad.

    Args:
        record (LabelmeRecord): A record from :func:`read_labelme`.
        classes (Collection[str]): The known class names.
        on_error (str): ``'raise'`` a :class:`LabelmeError` (field ``shapes[i].label``) on an
            unknown class, or ``'skip'`` the instance. Defaults to ``'raise'``.
        summary (SkipSummary, optional): Where skipped instances are counted (reason
            ``'label not in classes'``); ``record`` must already be added to it.
        class_name (Callable[[str], str], optional): Maps a JSON label to its class name.
            Defaults to None: the label itself.

    Returns:
        list[tuple[str | None, LabelmeInstance]]: The kept instances with their class names;
        None for the ``__ignore__`` regions, which are always kept.
    """
    _check_on_error(on_error)
    named = []
    for inst in record.instances:
        if inst.ignore:
            named.append((None, inst))
            continue
        name = inst.label if class_name is None else class_name(inst.label)
        if name in classes:
            named.append((name, inst))
            continue
        field_name = f'shapes[{inst.shape_indices[0]}].label'
        if on_error == 'raise':
            raise LabelmeError(record.json_path, field_name,
                               f'label not in classes ({inst.label!r} is class {name!r}, not '
                               f'one of the {len(classes)} classes)')
        if summary is not None:
            summary.add([SkippedShape(record.json_path, index, field_name, 'label not in classes')
                         for index in inst.shape_indices])
    return named


@dataclass
class SkipSummary:
    """Counts of the shapes read, parsed into instances and skipped, over many files.

    ``num_parsed + num_skipped == num_read`` always holds. A whole-file skip counts every
    shape the file had (0 when the file could not be parsed at all) and one file.
    """
    num_files: int = 0
    num_read: int = 0
    num_parsed: int = 0
    num_skipped: int = 0
    by_reason: Counter = field(default_factory=Counter)
    by_file: Counter = field(default_factory=Counter)
    files_by_reason: Dict[str, set] = field(default_factory=lambda: defaultdict(set))
    entries: List[SkippedShape] = field(default_factory=list)

    def add(self, record_or_skips: Union[LabelmeRecord, Iterable[SkippedShape]]) -> None:
        """Count a record, or further skips of shapes of records already added.

        Args:
            record_or_skips (LabelmeRecord | Iterable[SkippedShape]): A record (its shapes are
                read, and parsed or skipped), or shape-level skips of shapes that an added
                record counted as parsed (e.g. from :func:`check_labels`).
        """
        if isinstance(record_or_skips, LabelmeRecord):
            record = record_or_skips
            self.num_files += 1
            self.num_read += record.num_shapes
            self.num_parsed += sum(len(inst.shape_indices) for inst in record.instances)
            for skip in record.skipped:
                self._count(skip, record.num_shapes if skip.shape_index is None else 1)
            return
        for skip in record_or_skips:
            if skip.shape_index is None:
                raise ValueError(f'{skip.file}: a whole-file skip must come with its record')
            self.num_parsed -= 1
            self._count(skip, 1)

    def _count(self, skip: SkippedShape, num_shapes: int) -> None:
        self.num_skipped += num_shapes
        self.by_reason[skip.reason] += num_shapes
        self.by_file[skip.file] += num_shapes
        self.files_by_reason[skip.reason].add(skip.file)
        self.entries.append(skip)

    def format(self, max_files: int = 20) -> str:
        """Return a printable table: per reason, then the files with the most skips.

        Args:
            max_files (int): How many files to list. Defaults to 20.

        Returns:
            str: The table.
        """
        width = max([len('reason')] + [len(reason) for reason in self.files_by_reason])
        lines = [f'{"reason":<{width}}  shapes  files']
        for reason in sorted(self.files_by_reason, key=lambda r: (-self.by_reason[r], r)):
            lines.append(f'{reason:<{width}}  {self.by_reason[reason]:>6}  '
                         f'{len(self.files_by_reason[reason]):>5}')
        skipped_files = {skip.file for skip in self.entries}
        lines.append(f'{self.num_skipped} of {self.num_read} shapes skipped '
                     f'({self.num_parsed} parsed) in {len(skipped_files)} of {self.num_files} '
                     'files')
        ranked = sorted(skipped_files, key=lambda f: (-self.by_file[f], f))
        lines += [f'  {self.by_file[file]:>6}  {file}' for file in ranked[:max_files]]
        if len(ranked) > max_files:
            lines.append(f'  ... and {len(ranked) - max_files} more files')
        return '\n'.join(lines)


def write_embedded_image(record: LabelmeRecord, out_dir: str) -> str:
    """Write a record's embedded image (``imageData``) to a file, named by its content.

    The file is ``<json stem>_<sha1 prefix>.<format>`` in ``out_dir``; an existing one is
    reused, so repeated calls are cheap and files of equal stems do not collide.

    Args:
        record (LabelmeRecord): A record whose ``image_data`` is set.
        out_dir (str): The folder to write to (created if needed).

    Returns:
        str: The image file's path.
    """
    if record.image_data is None:
        raise ValueError(f'{record.json_path}: imageData: the record has no embedded image')
    try:
        raw = base64.b64decode(record.image_data)
        with Image.open(io.BytesIO(raw)) as image:
            image_format = image.format
    except (binascii.Error, ValueError, OSError) as err:
        raise LabelmeError(record.json_path, 'imageData', f'not a base64 image ({err})')
    suffix = '.jpg' if image_format == 'JPEG' else f'.{image_format.lower()}'
    stem = os.path.splitext(os.path.basename(record.json_path))[0]
    out_path = os.path.join(out_dir, f'{stem}_{hashlib.sha1(raw).hexdigest()[:12]}{suffix}')
    if not os.path.isfile(out_path):
        os.makedirs(out_dir, exist_ok=True)
        with atomic_write(out_path, 'wb') as f:
            f.write(raw)
    return out_path
