"""The labelme reader: one JSON file (labelme 3.x to 6.x) -> an image record and its instances,
read as labelme's ``LabelFile`` reads it (docs/architecture.md, "The labelme reader contract")."""
import base64
import binascii
import hashlib
import io
import json
import os
from typing import (Any, Callable, Collection, Dict, Iterable, List, Optional, Sequence,
                    Tuple, Union)

from PIL import Image

from ..fewshot.classes import not_a_class
from ..fileio import atomic_write
from .image_files import IMAGE_NOT_FOUND, ImageFileError, loaded_size
from .labelme_records import (FieldWarning, InvalidInput, LabelmeError, LabelmeInstance,
                              LabelmeRecord, SkippedShape, SkipSummary)
from .labelme_shapes import merge_parts, parse_shape

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')
_STEM_SUFFIXES = IMAGE_SUFFIXES + tuple(suffix.upper() for suffix in IMAGE_SUFFIXES)
ON_ERROR_MODES = ('raise', 'skip')
#: The skip reason of a labelme file whose image an earlier file annotates.
DUPLICATE_IMAGE = 'image annotated twice'


def read_labelme(json_path: Union[str, 'os.PathLike[str]'],
                 on_error: str = 'raise') -> LabelmeRecord:
    """Read one labelme file; shapes of one ``label`` and non-null ``group_id`` make one
    instance, ``__ignore__`` shapes ignore regions, non-region shapes counted skips.

    Args:
        json_path (str | PathLike): The labelme JSON file.
        on_error (str): ``'raise'`` a :class:`LabelmeError` on bad input, or ``'skip'`` the bad
            shape (or the whole file, returned with no instances and one skip entry).
            Defaults to ``'raise'``.

    Returns:
        LabelmeRecord: The image, its size (the image's own), its instances in order of their
        first shape, the skips and the warnings.
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
        img_path, image_data, height, width = _find_image(path, data)
    except InvalidInput as err:
        if on_error == 'raise':
            raise LabelmeError(path, err.field, err.message) from None
        return LabelmeRecord(path, None, None, 0, 0, [],
                             [SkippedShape(path, None, err.field, err.reason)], num_shapes)
    warnings = []
    for key, actual in (('imageHeight', height), ('imageWidth', width)):
        declared = data.get(key)  # labelme logs a size that is not the image's, and goes on
        if declared is not None and declared != actual:
            warnings.append(FieldWarning(
                path, key, 'disagrees with the image',
                f'{declared!r:.40} in the JSON, {actual} in {img_path or "imageData"}; the '
                "image's is used"))
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
                         num_shapes, warnings)


def _check_on_error(on_error: str) -> None:
    if on_error not in ON_ERROR_MODES:
        raise ValueError(f'on_error must be one of {ON_ERROR_MODES}, got {on_error!r}')


def _load_json(path: str) -> Dict[str, Any]:
    """Read and parse the file (UTF-8, -16 or -32, as ``json`` detects); it must hold an object."""
    try:
        with open(path, 'rb') as f:
            data = json.load(f)
    except OSError as err:
        raise InvalidInput('file', 'unreadable file', err.strerror or type(err).__name__)
    except UnicodeDecodeError:
        raise InvalidInput('json', 'invalid JSON', 'not UTF-8, -16 or -32 text')
    except ValueError as err:  # json.JSONDecodeError: truncated or malformed
        raise InvalidInput('json', 'invalid JSON', str(err))
    except RecursionError:
        raise InvalidInput('json', 'invalid JSON', 'nested too deeply')
    if type(data) is not dict:
        raise InvalidInput('json', 'not a JSON object', type(data).__name__)
    return data


def _find_image(path: str, data: Dict[str, Any]) -> Tuple[Optional[str], Optional[str], int, int]:
    """Find the image as labelme does (``imageData``, else ``imagePath``, else the JSON's stem)
    and read its size: ``(img_path, image_data, h, w)``."""
    image_data = data.get('imageData')
    if image_data is not None and type(image_data) is not str:
        raise InvalidInput('imageData', 'not a string',
                           f'got {type(image_data).__name__} {image_data!r:.40}')
    if image_data:
        try:
            with Image.open(io.BytesIO(base64.b64decode(image_data))) as image:
                width, height = image.size  # labelme shows embedded data unturned
        except Exception as err:  # binascii.Error, and the many kinds PIL raises
            raise InvalidInput('imageData', 'unreadable image', f'{type(err).__name__}: {err}')
        img_path = None
    else:
        image_data = None
        img_path, height, width = _image_file(path, data.get('imagePath'))
    return img_path, image_data, height, width  # PIL opens no image of size 0


def _image_file(path: str, image_path: Any) -> Tuple[str, int, int]:
    """Find a labelme file's image file, ``imagePath`` (relative, ``\\`` or ``/``) then the JSON's
    stem, passing over missing files: ``(path, height, width)``, sized as labelme shows it."""
    if image_path is not None and type(image_path) is not str:
        raise InvalidInput('imagePath', 'not a string',
                           f'got {type(image_path).__name__} {image_path!r:.40}')
    stem = os.path.splitext(path)[0]
    candidates = [stem + suffix for suffix in _STEM_SUFFIXES]
    if image_path:
        candidates.insert(0, os.path.normpath(os.path.join(os.path.dirname(path),
                                                           image_path.replace('\\', '/'))))
    for candidate in candidates:
        try:
            # labelme turns an image file by its EXIF orientation (apply_exif_orientation),
            # as mmdet's cv2 loader does; the size is read from the header only.
            height, width = loaded_size(candidate)
        except ImageFileError as err:
            if err.reason == IMAGE_NOT_FOUND:
                continue
            raise InvalidInput('imagePath', 'unreadable image', err.detail)
        return candidate, height, width
    raise InvalidInput('imagePath', 'image not found',
                       f'no file {image_path!r} in {os.path.dirname(path) or "."}, no '
                       f'imageData, no {os.path.basename(stem)}{"/".join(IMAGE_SUFFIXES)}')


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
                               f'label not in classes ({not_a_class(inst.label, classes, name)})')
        if summary is not None:
            summary.add([SkippedShape(record.json_path, index, field_name, 'label not in classes')
                         for index in inst.shape_indices])
    return named


def write_embedded_image(record: LabelmeRecord, out_dir: str) -> str:
    """Write a record's embedded image (``imageData``) to ``<json stem>_<sha1 prefix>.<format>``
    in ``out_dir``, reusing an existing one.

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


def find_duplicate_images(records: Iterable[LabelmeRecord]) -> List[Tuple[str, List[str]]]:
    """Find the images that more than one labelme file annotates (e.g. ``a - Copy.json``), known
    by real path or, embedded, by SHA-1; records skipped whole are passed over.

    Args:
        records (Iterable[LabelmeRecord]): Records from :func:`read_labelme`.

    Returns:
        list[tuple[str, list[str]]]: Per image annotated more than once, in the order of its
        first record: the image (its real path, or ``'imageData sha1:<hex>'``) and the JSON
        files that annotate it, in record order.
    """
    by_image: Dict[str, List[str]] = {}
    for record in records:
        if record.img_path is not None:
            image = os.path.realpath(record.img_path)
        elif record.image_data is not None:
            digest = hashlib.sha1(base64.b64decode(record.image_data)).hexdigest()
            image = f'imageData sha1:{digest}'
        else:
            continue
        by_image.setdefault(image, []).append(record.json_path)
    return [(image, files) for image, files in by_image.items() if len(files) > 1]


def check_duplicate_images(records: Sequence[LabelmeRecord],
                           on_error: str = 'raise') -> List[LabelmeRecord]:
    """Refuse a second labelme file of one image (see :func:`find_duplicate_images`).

    Args:
        records (Sequence[LabelmeRecord]): Records from :func:`read_labelme`, in reading order.
        on_error (str): ``'raise'`` a :class:`LabelmeError` naming the second file (field
            ``imagePath`` or ``imageData``) and the first, or ``'skip'`` every file after the
            first of an image: its record becomes a whole-file skip (reason
            :data:`DUPLICATE_IMAGE`), to be counted by :class:`SkipSummary`. Defaults to
            ``'raise'``.

    Returns:
        list[LabelmeRecord]: The records, the later files of an image skipped whole.
    """
    _check_on_error(on_error)
    later: Dict[str, str] = {}  # a later file of an image -> the field that names the image
    for image, files in find_duplicate_images(records):
        field_name = 'imageData' if image.startswith('imageData ') else 'imagePath'
        if on_error == 'raise':
            raise LabelmeError(files[1], field_name,
                               f'{DUPLICATE_IMAGE} ({image} is also annotated by {files[0]})')
        later.update(dict.fromkeys(files[1:], field_name))
    return [LabelmeRecord(record.json_path, None, None, 0, 0, [],
                          [SkippedShape(record.json_path, None, later[record.json_path],
                                        DUPLICATE_IMAGE)], record.num_shapes, record.warnings)
            if record.json_path in later else record for record in records]
