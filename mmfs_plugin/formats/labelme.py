"""The pure labelme reader: one JSON file -> an image record and its instances.

Reads labelme 3.x to 5.x files (DESIGN §2). Region shapes (``polygon``, ``rectangle``,
``circle``, ``mask``) become instances; shapes with the same ``label`` and the same non-null
``group_id`` merge into one instance; ``__ignore__`` shapes become ignore regions; the non-region
shapes (``point``, ``points``, ``line``, ``linestrip``) are skipped and counted as skips. The
geometry (boxes, segmentations, areas) is :mod:`~mmfs_plugin.formats.labelme_shapes`'s; the
record types are :mod:`~mmfs_plugin.formats.labelme_records`'.

Bad input raises :class:`LabelmeError` (``'<file>: <field>: <reason>'``) or, with
``on_error='skip'``, becomes a :class:`SkippedShape` (the shape, or the whole file).

Imports neither torch nor mmdet; numpy and pycocotools load only when a mask is read.
"""
import base64
import binascii
import hashlib
import io
import json
import os
import struct
from functools import lru_cache
from typing import Any, Callable, Collection, Container, Dict, List, Optional, Tuple, Union

from PIL import Image

from ..fileio import atomic_write
from .labelme_records import (InvalidInput, LabelmeError, LabelmeInstance, LabelmeRecord,
                              SkippedShape, SkipSummary)
from .labelme_shapes import merge_parts, parse_shape

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')
_STEM_SUFFIXES = IMAGE_SUFFIXES + tuple(suffix.upper() for suffix in IMAGE_SUFFIXES)
ON_ERROR_MODES = ('raise', 'skip')

_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
_HEAD_BYTES = 24  # a PNG's signature and IHDR chunk, with the size
_TYPE_NAMES = {str: 'not a string', int: 'not an integer'}
_IMAGE_FIELDS = (('imagePath', str), ('imageData', str), ('imageHeight', int),
                 ('imageWidth', int))
_STR_OR_NONE = (str, type(None))
_EXIF_ORIENTATION = 0x0112
_TRANSPOSED_ORIENTATIONS = {5, 6, 7, 8}  # EXIF rotations by 90 degrees: width <-> height


def read_labelme(json_path: Union[str, 'os.PathLike[str]'],
                 on_error: str = 'raise',
                 check_image: bool = True,
                 known_files: Container[str] = frozenset()) -> LabelmeRecord:
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
        known_files (Container[str]): Paths known to be files (e.g. from a listing of the
            tree): an image path found in it is not checked on disk. Paths are compared as
            the reader forms them: the JSON's folder, normalised, joined with ``imagePath``.
            Defaults to none.

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
            raise InvalidInput('shapes', 'missing field' if shapes is None else 'not a list')
        num_shapes = len(shapes)
        img_path, image_data, height, width = _resolve_image(path, data, check_image, known_files)
    except InvalidInput as err:
        if on_error == 'raise':
            raise LabelmeError(path, err.field, err.message) from None
        return LabelmeRecord(path, None, None, 0, 0, [],
                             [SkippedShape(path, None, err.field, err.reason)], num_shapes)
    groups: Dict[Any, List[LabelmeInstance]] = {}  # by first shape: its index, or group
    skipped = []
    for index, shape in enumerate(shapes):
        try:
            part = parse_shape(shape, index, height, width)
        except InvalidInput as err:
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
    instances = [parts[0] if len(parts) == 1 else merge_parts(parts, height, width)
                 for parts in groups.values()]
    return LabelmeRecord(path, img_path, image_data, height, width, instances, skipped,
                         num_shapes)


def _check_on_error(on_error: str) -> None:
    if on_error not in ON_ERROR_MODES:
        raise ValueError(f'on_error must be one of {ON_ERROR_MODES}, got {on_error!r}')


def _load_json(path: str) -> Dict[str, Any]:
    """Read and parse the file; it must hold a JSON object.

    One ``os.read`` of the file's size costs less than a buffered ``open().read()`` does
    (no buffer objects, no ``isatty`` probe, no read of the end). A read of other than the
    size ``fstat`` gave (a file that changed meanwhile, or no regular file) goes on to the end.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            raw = os.read(fd, size + 1)
            if len(raw) != size:
                chunks = [raw]
                while chunks[-1]:
                    chunks.append(os.read(fd, max(size, 1 << 16)))
                raw = b''.join(chunks)
        finally:
            os.close(fd)
    except OSError as err:
        raise InvalidInput('file', 'unreadable file', err.strerror or type(err).__name__)
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        raise InvalidInput('json', 'invalid JSON', 'not UTF-8 text')
    except ValueError as err:  # json.JSONDecodeError: truncated or malformed
        raise InvalidInput('json', 'invalid JSON', str(err))
    except RecursionError:
        raise InvalidInput('json', 'invalid JSON', 'nested too deeply')
    if type(data) is not dict:
        raise InvalidInput('json', 'not a JSON object', type(data).__name__)
    return data


def _check_image_fields(data: Dict[str, Any]) -> None:
    """Raise on the first image field of the wrong type, or a size that is not positive."""
    for key, kind in _IMAGE_FIELDS:
        value = data.get(key)
        if value is not None and type(value) is not kind:
            raise InvalidInput(key, _TYPE_NAMES[kind],
                               f'got {type(value).__name__} {value!r:.40}')
        if kind is int and value is not None and value <= 0:
            raise InvalidInput(key, 'not a positive integer', str(value))


def _image_beside(path: str, image_path: str) -> str:
    """The file ``imagePath`` names (relative to the JSON's folder, ``\\`` or ``/``), normalised.

    A bare name (as labelme writes it) is appended to the folder, normalised once per folder.
    """
    image_path = image_path.replace('\\', '/')
    folder = os.path.dirname(path)
    if '/' in image_path or image_path in (os.curdir, os.pardir):
        return os.path.normpath(os.path.join(folder, image_path))
    return _folder_prefix(folder) + image_path


@lru_cache(maxsize=256)
def _folder_prefix(folder: str) -> str:
    """``os.path.normpath(folder)`` with a separator appended ('' for the current folder)."""
    folder = os.path.normpath(folder)
    return '' if folder == os.curdir else os.path.join(folder, '')


def _resolve_image(path: str, data: Dict[str, Any], check_image: bool,
                   known_files: Container[str]) -> Tuple[Optional[str], Optional[str], int, int]:
    """Find the image and its size: ``(img_path, image_data, height, width)``."""
    image_path = data.get('imagePath')
    image_data = data.get('imageData')
    height = data.get('imageHeight')
    width = data.get('imageWidth')
    if not (type(image_path) in _STR_OR_NONE and type(image_data) in _STR_OR_NONE
            and type(height) is int and type(width) is int and height > 0 and width > 0):
        _check_image_fields(data)  # raises, unless only a size is missing
    image_data = image_data or None
    read_size = check_image or height is None or width is None
    img_path = head = None
    if image_path:
        candidate = _image_beside(path, image_path)
        if read_size:  # one open both finds the file and reads its header
            head = _read_head(candidate)
            img_path = None if head is None else candidate
        elif candidate in known_files or os.path.isfile(candidate):
            img_path = candidate
    if img_path is None and image_data is None:
        stem = os.path.splitext(path)[0]
        img_path = next((stem + suffix for suffix in _STEM_SUFFIXES
                         if os.path.isfile(stem + suffix)), None)
        if img_path is None:
            raise InvalidInput('imagePath', 'image not found',
                               f'no file {image_path!r} in {os.path.dirname(path) or "."}, no '
                               f'imageData, no {os.path.basename(stem)}'
                               f'{"/".join(IMAGE_SUFFIXES)}')
    if read_size:
        true_size = _image_size(img_path, image_data, head)
        if (height, width) != true_size:
            for key, value, truth in zip(('imageHeight', 'imageWidth'), (height, width),
                                         true_size):
                if value is not None and value != truth:
                    raise InvalidInput(key, 'disagrees with the image',
                                       f'{value} in the JSON, {truth} in '
                                       f'{img_path or "imageData"}')
            height, width = true_size
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
        raise InvalidInput('imagePath', 'unreadable image', f'{type(err).__name__}: {err}')


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
        raise InvalidInput(field_name, 'unreadable image', f'{type(err).__name__}: {err}')
    if not (height > 0 and width > 0):
        raise InvalidInput(field_name, 'unreadable image', f'size {width}x{height}')
    return height, width


def check_labels(record: LabelmeRecord,
                 classes: Collection[str],
                 on_error: str = 'raise',
                 summary: Optional[SkipSummary] = None,
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
