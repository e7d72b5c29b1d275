"""Pascal VOC XML read exactly: mmdet 3.3's ``XMLDataset`` rules, with the checks it lacks (a
malformed object or coordinate is an error naming file and element: ``object[2]/bndbox/xmin``)."""
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from ..errors import FieldError

#: Image suffixes tried after ``.jpg`` and ``<filename>`` (LabelImg saves any of them).
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.JPG', '.JPEG', '.PNG')
_COORDS = ('xmin', 'ymin', 'xmax', 'ymax')


@dataclass(frozen=True)
class VocObject:
    """One ``<object>`` of a VOC file.

    Args:
        index (int): Its index among the file's ``<object>`` elements.
        name (str): ``<name>``.
        difficult (bool): ``<difficult>`` is 1.
        bbox (tuple[int, int, int, int]): mmdet's box (``int(float(v)) - 1``), not clipped.
    """
    index: int
    name: str
    difficult: bool
    bbox: Tuple[int, int, int, int]


@dataclass(frozen=True)
class VocRecord:
    """One VOC annotation file.

    Args:
        xml_path (str): The file.
        filename (str | None): ``<filename>``, if given.
        size (tuple[int, int] | None): ``(height, width)`` from ``<size>``; None when absent
            or zero (LabelImg writes 0 when it could not read the image).
        objects (list[VocObject]): Its well-formed objects, in file order.
        faults (list[ObjectFault]): Its malformed objects.
    """
    xml_path: str
    filename: Optional[str]
    size: Optional[Tuple[int, int]]
    objects: List[VocObject]
    faults: List['ObjectFault']


@dataclass(frozen=True)
class ObjectFault:
    """An ``<object>`` that cannot be read: its index, the element at fault and why."""
    index: int
    field: str
    reason: str


def read_image_set(path: str) -> List[str]:
    """Read an ``ImageSets/Main/*.txt`` list, one image id a line, skipping blank lines and a
    byte-order mark (Windows Notepad's).

    Raises:
        FieldError: The file cannot be read, or a line is not one image id: an id listed
            twice, a line of two words (VOC's per-class lists, ``<id> <1|-1|0>``), an id with
            an image suffix; the message names the line.
    """
    try:
        with open(path, encoding='utf-8-sig') as f:
            lines = [line.strip() for line in f]
    except (OSError, UnicodeDecodeError) as err:
        raise FieldError(path, 'ann_file', f'unreadable file ({err})') from None
    ids: List[str] = []
    first: Dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        if not line:
            continue
        if len(line.split()) > 1:
            raise FieldError(path, f'line {number}', f'{line!r} is not one image id (VOC\'s '
                             "per-class lists hold '<id> <1|-1|0>': use the list of the split, "
                             'ImageSets/Main/<split>.txt)')
        if os.path.splitext(line)[1] in IMAGE_SUFFIXES:
            raise FieldError(path, f'line {number}', f'{line!r}: list image ids without their '
                             f'suffix ({os.path.splitext(line)[0]!r})')
        if line in first:
            raise FieldError(path, f'line {number}', f'image id {line!r} is listed twice '
                             f'(line {first[line]} too)')
        first[line] = number
        ids.append(line)
    return ids


def _number(element: Optional[ET.Element], xml_path: str, where: str) -> float:
    text = None if element is None else (element.text or '').strip()
    if not text:
        raise FieldError(xml_path, where, 'missing')
    try:
        return float(text)
    except ValueError:
        raise FieldError(xml_path, where, f'not a number: {text!r:.40}') from None


def read_voc_xml(xml_path: str, name: Optional[str] = None) -> VocRecord:
    """Read one VOC annotation file; a box is mmdet's ``[int(float(v)) - 1 for v in (xmin,
    ymin, xmax, ymax)]`` (``XMLDataset._parse_instance_info``: 1-based pixels to 0-based).

    Args:
        xml_path (str): The file to open.
        name (str, optional): How errors name it. Defaults to ``xml_path``.

    Returns:
        VocRecord: Its filename, size and objects.

    Raises:
        FieldError: The file is unreadable or not XML, its elements are in an XML namespace
            (none would be found), or its ``<size>`` is not numbers; the message names the file
            and the element. Malformed objects are
            :attr:`VocRecord.faults`.
    """
    name = name or xml_path
    try:
        root = ET.parse(xml_path).getroot()
    except OSError as err:
        raise FieldError(name, 'file', f'unreadable file ({err.strerror or err})') from None
    except ET.ParseError as err:
        raise FieldError(name, 'xml', f'invalid XML ({err})') from None
    if root.tag.startswith('{'):  # xmlns="...": every element named '{namespace}object'
        raise FieldError(name, root.tag.split('}')[-1],
                         f'in the XML namespace {root.tag[1:].split("}")[0]!r}: mmdet reads '
                         '<object>, <size> and <filename> without one and would find no '
                         'object (remove xmlns="..." from the root element)')
    size = root.find('size')
    dims = None
    if size is not None:
        height = int(_number(size.find('height'), name, 'size/height'))
        width = int(_number(size.find('width'), name, 'size/width'))
        dims = (height, width) if height > 0 and width > 0 else None
    objects, faults = [], []
    for index, obj in enumerate(root.findall('object')):
        try:
            objects.append(_read_object(obj, index, name))
        except FieldError as err:
            faults.append(ObjectFault(index, err.field, err.reason))
    filename = (root.findtext('filename') or '').strip() or None
    return VocRecord(xml_path, filename, dims, objects, faults)


def _read_object(obj: ET.Element, index: int, name: str) -> VocObject:
    """One ``<object>`` by mmdet's rules; a :class:`FieldError` names a malformed element."""
    where = f'object[{index}]'
    label = obj.findtext('name')  # as mmdet reads it: not stripped
    if label is None or not label.strip():
        raise FieldError(name, f'{where}/name', 'missing or empty')
    box = obj.find('bndbox')
    if box is None:
        raise FieldError(name, f'{where}/bndbox', f'missing (object {label!r})')
    coords = [_number(box.find(c), name, f'{where}/bndbox/{c}') for c in _COORDS]
    difficult = obj.find('difficult')
    flag = 0 if difficult is None or not (difficult.text or '').strip() else int(
        _number(difficult, name, f'{where}/difficult'))
    return VocObject(index, label, bool(flag), tuple(int(v) - 1 for v in coords))  # mmdet's


def find_voc_image(image_dir: str, image_id: str, filename: Optional[str],
                   exists: Callable[[str], bool] = os.path.isfile) -> str:
    """Find the image of a VOC file: ``<id>.jpg`` (mmdet's), else the XML's ``<filename>``, else
    ``<id>`` with another suffix (LabelImg folders of PNG images).

    Args:
        image_dir (str): ``<sub_data_root>/<img_subdir>``.
        image_id (str): The id listed in ``ImageSets``.
        filename (str | None): The XML's ``<filename>``.
        exists (Callable[[str], bool]): Tests a path. Defaults to :func:`os.path.isfile`.

    Returns:
        str: The image path.

    Raises:
        FileNotFoundError: No candidate exists; the message lists what was tried.
    """
    tried: List[str] = [os.path.join(image_dir, f'{image_id}.jpg')]
    if filename:
        tried.append(os.path.join(image_dir, os.path.basename(filename.replace('\\', '/'))))
    tried += [os.path.join(image_dir, image_id + suffix) for suffix in IMAGE_SUFFIXES[1:]]
    for path in dict.fromkeys(tried):
        if exists(path):
            return path
    raise FileNotFoundError(f'tried {", ".join(dict.fromkeys(tried))}')

