"""Image files of ``data_list`` entries checked at build, for every format: each annotated by
one record only (else each copy trains the other's objects as background), present, readable,
complete, and of the annotated size (else every box is silently in the wrong place); an image
that mmdet loads turned by its EXIF orientation at the annotated size is named."""
import os
from typing import Dict, List, Tuple

from mmfs_data.errors import FieldError
from mmfs_data.formats.image_files import (TRANSPOSED_ORIENTATIONS, ImageFileError,
                                           check_image_file)
from mmfs_data.formats.labelme import DUPLICATE_IMAGE
from mmfs_data.formats.read_report import Finding, ReadReport

#: The reason counted for an image whose size is not the annotated one.
SIZE_MISMATCH = 'image size is not the annotated size'
#: The reason counted (kept) for an image that loads turned at its annotated size.
EXIF_TURNED = ('mmdet loads the image turned by its EXIF Orientation, at the annotated size: '
               'the boxes must be drawn on the turned image (where they were drawn on the '
               'stored pixels, as LabelImg draws them, re-save the images with '
               'PIL.ImageOps.exif_transpose and the boxes in that frame)')


def _where(entry: dict, source: str, what: str = 'size') -> Tuple[str, str]:
    """The file and field that state an entry's image ``what``: ``'size'`` or ``'name'``
    (the image file), in the format's own terms where known."""
    if entry.get('json_path'):
        return str(entry['json_path']), 'imagePath'
    if entry.get('xml_path'):
        return str(entry['xml_path']), 'size' if what == 'size' else 'filename'
    image = f'images[id={entry.get("img_id")!r}]'
    return source, image if what == 'size' else f'{image}.file_name'


def check_unique_images(entries: List[dict], source: str, on_error: str, report: ReadReport,
                        seen: Dict[str, Tuple[str, str]]) -> List[dict]:
    """Refuse an image file that a second entry names: the same file reached by another path
    (``./a.png`` and ``a.png``), a VOC file whose ``<filename>`` names another file's image,
    or concatenated datasets holding the same images. Each copy would be trained with the
    other's objects as background, and counted twice in evaluation and in the k-shot draw.

    Args:
        entries (list[dict]): ``data_list`` entries of one dataset.
        source (str): Their annotation file (named for COCO entries).
        on_error (str): ``'raise'`` a :class:`~mmfs_data.errors.FieldError`, or ``'skip'``
            every entry after the first of an image (counted in ``report``).
        report (ReadReport): Where skips are counted: the entry's image, and each of its
            instances (reason ``'on a skipped image'``).
        seen (dict): Image (its real path; a URL as it is) -> the file and field that named it
            first; filled, and shared across the datasets of one concatenation.

    Returns:
        list[dict]: The entries whose image no earlier entry names.

    Raises:
        FieldError: With ``on_error='raise'``: naming the second record's file and field, the
            image and the first record.
    """
    kept = []
    for entry in entries:
        img_path = str(entry['img_path'])
        image = img_path if '://' in img_path else os.path.realpath(img_path)
        file, field_name = _where(entry, source, 'name')
        if image not in seen:
            seen[image] = (file, field_name)
            kept.append(entry)
            continue
        first = seen[image]
        if on_error == 'raise':
            raise FieldError(file, field_name, f'{DUPLICATE_IMAGE} ({img_path} is also the image '
                             f'of {first[0]}, {first[1]}: annotate each image in one record, '
                             'or list it once)')
        name = os.path.basename(img_path)
        report.add(Finding(file, name, field_name, DUPLICATE_IMAGE, unit='image',
                           detail=f'(also {first[0]})'))
        for instance in entry['instances']:
            report.add(Finding(file, instance.get('instance_key'), field_name,
                               'on a skipped image', detail=repr(name)))
    return kept


def check_entry_images(entries: List[dict], source: str, on_error: str,
                       report: ReadReport) -> List[dict]:
    """Check each entry's image file (:func:`~mmfs_data.formats.image_files.check_image_file`)
    and that it loads at the entry's ``height`` x ``width``.

    An image with an EXIF orientation that keeps its size (2-4, or 5-8 on a square image) loads
    turned at the annotated size: boxes drawn on its stored pixels would land elsewhere, and
    no size tells which frame they were drawn in. It is kept and counted (``'kept'``, field
    ``EXIF Orientation``), except in labelme entries (``json_path``): labelme shows the image
    turned, so its shapes are drawn in mmdet's frame.

    Args:
        entries (list[dict]): ``data_list`` entries.
        source (str): The annotation file they were read from (named for COCO and other
            formats whose entries do not name their own file).
        on_error (str): ``'raise'`` a :class:`~mmfs_data.errors.FieldError`, or ``'skip'``
            the image (counted in ``report``).
        report (ReadReport): Where skips are counted: the image, and each of its instances
            (reason ``'on a skipped image'``); and the images kept turned (:data:`EXIF_TURNED`).

    Returns:
        list[dict]: The entries whose images are usable.

    Raises:
        FieldError: With ``on_error='raise'``: the first bad image, naming its annotation
            file, the field and the image file.
    """
    kept = []
    for entry in entries:
        img_path = str(entry['img_path'])
        file, field_name = _where(entry, source)
        try:
            height, width, orientation = check_image_file(img_path)
            problem = None
            if (height, width) != (entry['height'], entry['width']):
                turned = (f' (EXIF orientation {orientation}: mmdet\'s loader turns it; the '
                          'boxes were most likely drawn on the unturned image: save it '
                          'without the orientation tag, or annotate the turned image)'
                          if orientation in TRANSPOSED_ORIENTATIONS else
                          ' (the image changed after annotation?)')
                problem = (SIZE_MISMATCH, f'{entry["height"]}x{entry["width"]} (height x '
                           f'width) in the annotation, {img_path} loads as '
                           f'{height}x{width}{turned}')
        except ImageFileError as err:
            problem = (err.reason, err.detail)
        if problem is None:
            if (orientation != 1 and not entry.get('json_path')
                    and (orientation not in TRANSPOSED_ORIENTATIONS or height == width)):
                report.add(Finding(img_path, None, 'EXIF Orientation', EXIF_TURNED,
                                   action='kept', unit='image', detail=str(orientation)))
            kept.append(entry)
            continue
        if on_error == 'raise':
            raise FieldError(file, field_name, f'{problem[0]} ({problem[1]})')
        image = os.path.basename(img_path)
        report.add(Finding(file, image, field_name, problem[0], unit='image'))
        for instance in entry['instances']:
            report.add(Finding(file, instance.get('instance_key'), field_name,
                               'on a skipped image', detail=repr(image)))
    return kept
