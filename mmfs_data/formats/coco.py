"""COCO JSON read exactly: the checks that mmdet 3.3's ``CocoDataset`` lacks, where
pycocotools' index and ``parse_data_info`` lose or change data in silence (:func:`read_coco`)."""
import json
import math
import numbers
import posixpath
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..errors import FieldError
from ..fewshot.classes import did_you_mean, not_a_class
from .boxes import clip_box
from .read_report import Finding, ReadReport

#: The change counted for a category whose name an earlier category of the file has.
SAME_NAME = 'categories of one name read as one class'

ON_ERROR_MODES = ('raise', 'skip')


@dataclass
class CocoIndex:
    """A checked COCO file: its images in file order and their annotations, ready for mmdet.

    Args:
        images (list[dict]): The image records, in file order.
        annotations (dict): Image id -> its annotations (copies, boxes clipped, ``area`` set),
            in file order.
        cat2label (dict[int, int]): Category id -> label (position of its name in the classes).
        report (ReadReport): What was skipped or fixed.
    """
    images: List[dict]
    annotations: Dict[Any, List[dict]]
    cat2label: Dict[Any, int]
    report: ReadReport = field(default_factory=ReadReport)


def load_coco_json(path: str, name: Optional[str] = None) -> Dict[str, Any]:
    """Read a COCO file: a JSON object whose ``images``, ``annotations`` and ``categories`` are
    lists (``annotations`` may be absent: a test file without ground truth).

    Args:
        path (str): The file to open.
        name (str, optional): How errors name it (e.g. the configured ``ann_file`` when
            ``path`` is a local copy). Defaults to ``path``.

    Raises:
        FieldError: The file is unreadable, not JSON, or a field is not a list.
    """
    name = name or path
    try:
        with open(path, 'rb') as f:
            data = json.load(f)
    except OSError as err:
        raise FieldError(name, 'file', f'unreadable file ({err.strerror or err})') from None
    except ValueError as err:  # JSONDecodeError, UnicodeDecodeError
        raise FieldError(name, 'json', f'invalid JSON ({err})') from None
    if not isinstance(data, dict):
        raise FieldError(name, 'json', f'not a COCO file: a {type(data).__name__}, not an object')
    for key in ('images', 'annotations', 'categories'):
        if key == 'annotations' and key not in data:
            continue
        if not isinstance(data.get(key), list):
            raise FieldError(name, key, 'missing' if key not in data else
                             f'must be a list, got {type(data[key]).__name__}')
    return data


def _is_id(value: Any) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _id_fault(record: Any) -> str:
    """Why a record's ``id`` is not an id: missing, or its value not an integer or a string
    (``true`` included: JSON's booleans are no ids)."""
    if not isinstance(record, dict) or 'id' not in record:
        return 'missing (an int or a string)'
    return f"not an integer or a string: {json.dumps(record['id'])[:40]}"


def _id_kind(value: Any) -> str:
    """``'an integer'`` or ``'a string'``: the kind of a checked id, as errors name it."""
    return 'a string' if isinstance(value, str) else 'an integer'


def _other_kind(value: Any, ids: Mapping[Any, Any]) -> str:
    """Where ``value`` names no id of ``ids`` but its other spelling does (``1`` for ``'1'``),
    a hint saying so; else ''."""
    other: Any = None
    if isinstance(value, str):
        try:
            other = int(value)
        except ValueError:
            return ''
    elif isinstance(value, int) and not isinstance(value, bool):
        other = str(value)
    if other is None or other not in ids:
        return ''
    return (f'; the file has the id {other!r}, {_id_kind(other)}: ids match with their type, '
            'as in pycocotools')


def category_labels(categories: Sequence[Mapping[str, Any]], classes: Sequence[str],
                    path: str) -> Dict[Any, int]:
    """Map category ids to labels by name: the position of the category's name in ``classes``.

    Args:
        categories (Sequence[dict]): The file's ``categories`` (``id``, ``name``).
        classes (Sequence[str]): The configured classes, in label order.
        path (str): The file, named in errors.

    Returns:
        dict: Category id -> label, for the categories whose name is a class (several ids may
        share a name, e.g. in merged files: they share its label).

    Raises:
        FieldError: A category lacks an id or a name, an id is listed twice, or a class is
            named by no category (naming it, the file's categories and a near match).
    """
    names: Dict[Any, str] = {}
    for i, category in enumerate(categories):
        if not isinstance(category, dict) or not _is_id(category.get('id')):
            raise FieldError(path, f'categories[{i}].id', _id_fault(category))
        if not isinstance(category.get('name'), str):
            raise FieldError(path, f'categories[{i}].name', 'missing or not a string')
        cat_id, name = category['id'], category['name']
        if cat_id in names:
            raise FieldError(path, f'categories[{i}].id',
                             f'id {cat_id!r} is listed twice ({names[cat_id]!r} and {name!r})')
        names[cat_id] = name
    found = set(names.values())
    absent = [name for name in classes if name not in found]
    if absent:
        hints = [f'{name!r} ({did_you_mean(name, found)})'
                 if did_you_mean(name, found) else repr(name) for name in absent]
        unmatched = [name for name in absent if not did_you_mean(name, found)]
        remedy = ('set metainfo=dict(classes=...) to names of the file (labels follow '
                  'class names, never the file\'s category order)')
        if unmatched:  # a class this export has no instance of, not a typo
            remedy = (f'{remedy}; a class the file holds no object of (a base-only export, '
                      'a test split without it) stays in classes, the label space of every '
                      'dataset of the config: add it to the file\'s categories, e.g. '
                      f'{{"id": <unused id>, "name": {json.dumps(unmatched[0])}}}, with no '
                      'annotations')
        raise FieldError(path, 'categories',
                         f'the configured classes {", ".join(hints)} are not categories of '
                         f'this file, whose categories are {sorted(found)}: {remedy}')
    label_of = {name: i for i, name in enumerate(classes)}
    return {cat_id: label_of[name] for cat_id, name in names.items() if name in label_of}


def _check_images(images: Sequence[Any], path: str, on_error: str,
                  report: ReadReport) -> Tuple[List[dict], Dict[Any, str]]:
    """Check the image records: fields present, ids of one kind (integers or strings) and
    unique, file names unique.

    Returns:
        tuple: The usable image records, and the ids of the records skipped (with
        ``on_error='skip'``: no size, a bad file name) -> their file names.
    """
    by_id: Dict[Any, Tuple[int, str]] = {}
    by_name: Dict[str, Tuple[int, Any, str]] = {}
    kept, skipped = [], {}
    first_id: Optional[Tuple[int, Any]] = None
    for i, image in enumerate(images):
        if not isinstance(image, dict) or not _is_id(image.get('id')):
            raise FieldError(path, f'images[{i}].id', _id_fault(image))
        image_id = image['id']
        if first_id is None:
            first_id = (i, image_id)
        elif isinstance(image_id, str) != isinstance(first_id[1], str):
            raise FieldError(path, f'images[{i}].id',
                             f'{image_id!r} is {_id_kind(image_id)}, images[{first_id[0]}].id '
                             f'{first_id[1]!r} {_id_kind(first_id[1])}: the image ids of one '
                             "file are all integers or all strings (pycocotools' COCOeval "
                             'sorts them and fails on a mix, after training)')
        file_name = image.get('file_name')
        fault = None
        if not isinstance(file_name, str) or not file_name:
            fault = ('file_name', 'missing or empty')
        for key in ('height', 'width'):
            value = image.get(key)
            if not isinstance(value, numbers.Real) or isinstance(value, bool) or value <= 0:
                fault = fault or (key, f'must be a positive number of pixels, got {value!r:.20}')
        if fault is not None:
            if on_error == 'raise':
                raise FieldError(path, f'images[{i}].{fault[0]}', fault[1])
            report.add(Finding(path, str(image_id), f'images[{i}].{fault[0]}',
                               f'bad image {fault[0]}', unit='image'))
            skipped[image_id] = str(file_name)
            continue
        if image_id in by_id:
            first, first_name = by_id[image_id]
            raise FieldError(path, f'images[{i}].id',
                             f'id {image_id!r} names two images: {first_name!r} (images['
                             f'{first}]) and {file_name!r} (pycocotools would keep the last '
                             'and move the annotations of both onto it)')
        same = posixpath.normpath(file_name.replace('\\', '/'))  # ./a.png is a.png
        if same in by_name:
            first, first_id, first_name = by_name[same]
            also = '' if first_name == file_name else f', the first as {first_name!r}'
            raise FieldError(path, f'images[{i}].file_name',
                             f'{file_name!r} is listed twice (ids {first_id!r} and '
                             f'{image_id!r}{also}): one image annotated twice')
        by_id[image_id] = (i, file_name)
        by_name[same] = (i, image_id, file_name)
        kept.append(image)
    return kept, skipped


def coco_area(ann: Mapping[str, Any], height: int, width: int) -> float:
    """COCO's ``area`` of an annotation: its segmentation's pixel area as pycocotools'
    ``COCO.annToRLE`` reads it, else ``w * h`` of its box (as ``COCO.loadRes`` sets it).

    Raises:
        ValueError: The segmentation cannot be read (pycocotools' message).
    """
    segmentation = ann.get('segmentation')
    if not segmentation or segmentation == [[]]:
        return float(ann['bbox'][2] * ann['bbox'][3])
    from pycocotools import mask as mask_utils
    try:
        if isinstance(segmentation, dict) and isinstance(segmentation.get('counts'), str):
            rle = dict(segmentation, counts=segmentation['counts'].encode())
        else:
            rles = mask_utils.frPyObjects(segmentation, int(height), int(width))
            rle = mask_utils.merge(rles) if isinstance(rles, list) else rles
        return float(mask_utils.area(rle))
    except Exception as err:  # pycocotools raises bare Exceptions and TypeErrors
        raise ValueError(f'{type(err).__name__}: {err}') from None


class _Skip(Exception):
    """An annotation left out: a fault (an error unless skipping) or one of mmdet's rules.

    ``value`` is the short value at fault shown in the summary (e.g. the label).
    """

    def __init__(self, field_name: str, reason: str, detail: str = '',
                 fault: bool = True, value: str = '') -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason
        self.detail = detail
        self.fault = fault
        self.value = value


def _check_annotation(ann: Any, where: str, images: Mapping[Any, dict],
                      names: Mapping[Any, str], cat2label: Mapping[Any, int],
                      classes: Sequence[str]) -> Tuple[dict, List[str]]:
    """Check one annotation; return its copy as mmdet should read it, and what was fixed.

    Raises:
        _Skip: The annotation is left out (a fault, or one of mmdet's rules).
    """
    if not isinstance(ann, dict) or not isinstance(ann.get('id'), int) or isinstance(
            ann.get('id'), bool):
        raise _Skip(f'{where}.id', 'bad annotation id', 'missing or not an int (COCO '
                    'annotation ids are integers; they name the instance in selection files)',
                    value=repr(ann.get('id') if isinstance(ann, dict) else ann)[:20])
    if ann.get('image_id') not in images:
        raise _Skip(f'{where}.image_id', 'image_id not in images',
                    f'{ann.get("image_id")!r} names no image of the file'
                    + _other_kind(ann.get('image_id'), images),
                    value=repr(ann.get('image_id'))[:20])
    cat_id = ann.get('category_id')
    if cat_id not in names:
        raise _Skip(f'{where}.category_id', 'category_id not in categories',
                    f'{cat_id!r} names no category of the file' + _other_kind(cat_id, names),
                    value=repr(cat_id)[:20])
    if cat_id not in cat2label:
        raise _Skip(f'{where}.category_id', 'label not in classes',
                    not_a_class(names[cat_id], classes) + "; on_error='skip' leaves such "
                    'objects out, counted', value=repr(names[cat_id]))
    bbox = ann.get('bbox')
    if (not isinstance(bbox, (list, tuple)) or len(bbox) != 4
            or not all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                       and math.isfinite(v) for v in bbox)):
        detail = f'must be [x, y, w, h] numbers, got {bbox!r:.60}'
        if bbox is None and ann.get('segmentation') not in (None, [], [[]]):
            detail = ("the annotation has a segmentation and no bbox: give its box [x, y, w, h] "
                      "(mmdet's CocoDataset reads only bbox; pycocotools computes boxes from "
                      'segmentations for results only), e.g. from a polygon segmentation with '
                      'pycocotools: mask.toBbox(mask.merge(mask.frPyObjects(segmentation, '
                      'height, width)))')
        raise _Skip(f'{where}.bbox', 'bad bbox', detail, value=repr(bbox)[:40])
    if ann.get('ignore', False):  # mmdet's test; COCOeval overwrites ignore with iscrowd
        raise _Skip(f'{where}.ignore', 'ignore: true (mmdet and COCOeval disagree)',
                    f"ignore={ann['ignore']!r:.20}: mmdet's CocoDataset leaves the object out "
                    "of training as background, pycocotools and mmdet's CocoMetric score it as "
                    'an object; set iscrowd: 1 for a region neither trained nor scored, or '
                    'remove the key to train and score it as an object',
                    value=repr(ann['ignore'])[:20])
    crowd = ann.get('iscrowd', 0)
    if not isinstance(crowd, int) or crowd not in (0, 1):  # bool is an int
        raise _Skip(f'{where}.iscrowd', 'bad iscrowd',
                    f'must be 0 or 1, got {crowd!r:.20} (pycocotools and mmdet read any true '
                    'value, e.g. the string "0", as 1: a crowd region, neither trained nor '
                    'scored)', value=repr(crowd)[:20])
    image = images[ann['image_id']]
    width, height = image['width'], image['height']
    x, y, w, h = bbox
    box, change = clip_box([x, y, x + w, y + h], width, height)
    if box is None:
        raise _Skip(f'{where}.bbox', change, fault=False)
    x1, y1, x2, y2 = box
    fixed = [change] if change else []
    area = ann.get('area')
    if area is None:
        try:
            area = coco_area(ann, height, width)
        except ValueError as err:
            raise _Skip(f'{where}.segmentation', 'bad segmentation',
                        f'its area cannot be computed: {err}') from None
        fixed.append('area missing: computed as COCO does')
    elif not isinstance(area, numbers.Real) or isinstance(area, bool):
        raise _Skip(f'{where}.area', 'bad area', f'not a number: {area!r:.40}')
    if area <= 0:
        raise _Skip(f'{where}.area', 'area <= 0 (mmdet skips it)', fault=False)
    if x2 - x1 < 1 or y2 - y1 < 1:
        raise _Skip(f'{where}.bbox', 'box under 1 px inside the image (mmdet skips it)',
                    fault=False)
    return dict(ann, bbox=[x1, y1, x2 - x1, y2 - y1], area=area), fixed


def read_coco(data: Mapping[str, Any], classes: Sequence[str], path: str,
              on_error: str = 'raise') -> CocoIndex:
    """Check a loaded COCO file and index it for mmdet's ``CocoDataset.parse_data_info``.

    Labels follow class *names*, whatever the file's category order (mmdet numbers categories
    in file order); categories of one name share its label, each after the first counted
    (pycocotools keeps them apart). mmdet's skips (``area`` <= 0, a side under 1 px, a box
    outside the image) and boxes clipped to the image are counted; a missing ``area`` is
    computed.

    Args:
        data (Mapping): From :func:`load_coco_json`.
        classes (Sequence[str]): The configured classes, in label order.
        path (str): The file, named in errors and in the report.
        on_error (str): ``'raise'`` a :class:`FieldError` on a faulty annotation or image
            record, or ``'skip'`` it (counted; the annotations of a skipped image too).
            File-level faults (duplicate ids or file names, a class no category names) are
            errors either way. Defaults to ``'raise'``.

    Returns:
        CocoIndex: The images, their checked annotations, the labels, the report.

    Raises:
        FieldError: Naming the file and the field: a class no category names, duplicate
            image ids (pycocotools would keep the last), image ids mixing integers and
            strings, duplicate file names, annotation or category ids; with
            ``on_error='raise'`` also an annotation of no class, of an unknown
            ``image_id``/``category_id``, whose ``bbox`` is not four numbers, whose
            ``iscrowd`` is not 0 or 1, or with a true ``ignore`` (mmdet's ``CocoDataset``
            leaves it out of training, pycocotools' ``COCOeval`` scores it as an object).
    """
    if on_error not in ON_ERROR_MODES:
        raise ValueError(f'on_error must be one of {ON_ERROR_MODES}, got {on_error!r}')
    report = ReadReport()
    images, skipped_images = _check_images(data['images'], path, on_error, report)
    cat2label = category_labels(data['categories'], classes, path)
    names = {category['id']: category['name'] for category in data['categories']}
    first_of: Dict[str, Any] = {}
    for i, category in enumerate(data['categories']):
        cat_id, name = category['id'], category['name']
        if cat_id in cat2label and first_of.setdefault(name, cat_id) != cat_id:
            report.add(Finding(path, f'id {cat_id!r}', f'categories[{i}].name', SAME_NAME,
                               'fixed', unit='category', detail=f'= id {first_of[name]!r}'))
    by_id = {image['id']: image for image in images}
    index = CocoIndex(images, {image['id']: [] for image in images}, cat2label, report)
    seen: Dict[int, int] = {}
    for i, ann in enumerate(data.get('annotations') or []):
        where = f'annotations[{i}]'
        item = str(ann.get('id')) if isinstance(ann, dict) else where
        if isinstance(ann, dict) and ann.get('image_id') in skipped_images:
            report.add(Finding(path, item, f'{where}.image_id', 'on a skipped image',
                               detail=repr(skipped_images[ann['image_id']])))
            continue
        try:
            checked, fixed = _check_annotation(ann, where, by_id, names, cat2label, classes)
        except _Skip as skip:
            if skip.fault and on_error == 'raise':
                message = f'{skip.reason} ({skip.detail})' if skip.detail else skip.reason
                raise FieldError(path, skip.field, message) from None
            report.add(Finding(path, item, skip.field, skip.reason, detail=skip.value))
            continue
        if checked['id'] in seen:
            raise FieldError(path, f'{where}.id',
                             f'id {checked["id"]} is used twice (annotations[{seen[checked["id"]]}]'
                             ' too): instance ids must be unique within a file')
        seen[checked['id']] = i
        for reason in fixed:
            report.add(Finding(path, item, f'{where}.bbox' if 'box' in reason
                               else f'{where}.area', reason, 'fixed'))
        index.annotations[checked['image_id']].append(checked)
    return index
