"""mmdet's ``CocoDataset`` and ``XMLDataset`` read with the checks of :mod:`mmfs_data.formats`
(labels by class name, faults naming file and field, a :attr:`read_report`) and instance keys;
docs/architecture.md, "Instance keys"."""
import os
from collections import Counter, defaultdict
from typing import Any, Dict, List, Optional, Type

from mmdet.datasets import BaseDetDataset, CocoDataset, XMLDataset
from mmengine.fileio import get_local_path

from mmfs_data.errors import FieldError
from mmfs_data.fewshot.classes import not_a_class
from mmfs_data.fewshot.kshot import instance_key
from mmfs_data.formats.boxes import clip_box
from mmfs_data.formats.coco import ON_ERROR_MODES, load_coco_json, read_coco
from mmfs_data.formats.image_files import ImageFileError, loaded_size
from mmfs_data.formats.read_report import Finding, ReadReport
from mmfs_data.formats.voc import find_voc_image, read_image_set, read_voc_xml
from .instance_keys import relpath


class _CheckedReading:
    """What both readers share: ``on_error`` and the report of what was skipped or fixed.

    Args:
        on_error (str): ``'raise'`` a :class:`~mmfs_data.errors.FieldError` on a faulty
            object or image, or ``'skip'`` it (counted in :attr:`read_report`).
            Defaults to ``'raise'``.
    """

    def __init__(self, *args: Any, on_error: str = 'raise', **kwargs: Any) -> None:
        if on_error not in ON_ERROR_MODES:
            raise ValueError(f'{type(self).__name__}: on_error must be one of '
                             f'{ON_ERROR_MODES}, got {on_error!r}')
        self.on_error = on_error
        self.read_report = ReadReport()
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]

    def _fault(self, file: str, item: Optional[str], field_name: str, reason: str,
               detail: str, unit: str = 'object', value: str = '') -> None:
        """Raise a fault as an error, or count it as a skip (``on_error='skip'``)."""
        if self.on_error == 'raise':
            raise FieldError(file, field_name, f'{reason} ({detail})' if detail else reason)
        self.read_report.add(Finding(file, item, field_name, reason, unit=unit, detail=value))


class _CheckedCoco(_CheckedReading):
    """``CocoDataset.load_data_list`` over a checked file
    (:func:`~mmfs_data.formats.coco.read_coco`)."""

    def load_data_list(self) -> List[dict]:
        """Read the checked file; mmdet's ``parse_data_info`` makes each entry.

        Returns:
            list[dict]: One entry per image, in file order; instances keyed;
            ``left_out_instances``: the image's annotations that are in no instance (left out
            by the checks or by mmdet's ``parse_data_info``).
        """
        prefix = self.data_prefix  # type: ignore[attr-defined]
        if 'img' not in prefix:  # mmdet's parse_data_info: data_prefix['img'] + file_name
            raise ValueError(f"data_prefix {dict(prefix)} has no 'img' "
                             "(mmdet's CocoDataset reads an image at data_prefix['img'] + its "
                             "file_name): set data_prefix=dict(img='images/'), or img='' for "
                             'file names relative to data_root')
        with get_local_path(self.ann_file, backend_args=self.backend_args) as local:  # type: ignore
            data = load_coco_json(local, self.ann_file)  # type: ignore[attr-defined]
        index = read_coco(data, self.metainfo['classes'], self.ann_file,  # type: ignore
                          self.on_error)
        annotated = Counter(ann.get('image_id') for ann in data.get('annotations') or ()
                            if isinstance(ann, dict))
        self.read_report = index.report
        self.cat2label = index.cat2label
        self.cat_ids = list(index.cat2label)
        # mmdet's filter_data reads pycocotools' catToImgs: the images of every annotation of
        # each category, those left out (crowd, ignore, skipped) too
        self.cat_img_map: Dict[Any, List[Any]] = defaultdict(list)
        for ann in data.get('annotations') or ():
            if isinstance(ann, dict):
                self.cat_img_map[ann.get('category_id')].append(ann.get('image_id'))
        source = relpath(self.ann_file, self.data_root)  # type: ignore[attr-defined]
        parse = self.parse_data_info  # type: ignore[attr-defined]
        data_list = []
        for image in index.images:
            raw_img_info = dict(image, img_id=image['id'])
            data_info = parse({'raw_img_info': raw_img_info, 'raw_ann_info': []})
            instances: List[dict] = []
            for ann in index.annotations[image['id']]:
                parsed = parse({'raw_img_info': raw_img_info, 'raw_ann_info': [ann]})
                if not parsed['instances']:
                    self.read_report.add(Finding(
                        self.ann_file, str(ann['id']), 'annotations',  # type: ignore
                        f'left out by {type(self).__name__}.parse_data_info'))
                for instance in parsed['instances']:
                    instance['instance_key'] = instance_key(source, ann['id'])
                    instances.append(instance)
            data_info['instances'] = instances
            data_info['left_out_instances'] = annotated[image['id']] - len(instances)
            data_list.append(data_info)
        return data_list


class _CheckedXML(_CheckedReading):
    """``XMLDataset.load_data_list`` with the checks of :mod:`mmfs_data.formats.voc`."""

    def load_data_list(self) -> List[dict]:
        """Read every listed XML file (see :mod:`mmfs_data.formats.voc`).

        Returns:
            list[dict]: One entry per image (mmdet's keys: ``img_path``, ``img_id``,
            ``xml_path``, ``height``, ``width``, ``instances``); instances keyed;
            ``left_out_instances``: the file's objects that are in no instance (malformed,
            or skipped with ``on_error='skip'``).
        """
        classes = self._metainfo.get('classes')  # type: ignore[attr-defined]
        if not classes:
            raise ValueError(f'{type(self).__name__}: metainfo.classes must be set')
        self.cat2label = {name: i for i, name in enumerate(classes)}
        sub_root = self.sub_data_root  # type: ignore[attr-defined]
        image_dir = os.path.join(sub_root, self.img_subdir)  # type: ignore[attr-defined]
        data_list = []
        for img_id in read_image_set(self.ann_file):  # type: ignore[attr-defined]
            xml_path = os.path.join(sub_root, self.ann_subdir,  # type: ignore[attr-defined]
                                    f'{img_id}.xml')
            try:
                record = read_voc_xml(xml_path)
            except FieldError as err:
                if self.on_error == 'raise':
                    raise
                self.read_report.add(Finding(xml_path, img_id, err.field,
                                             err.reason.split(' (')[0], unit='image'))
                continue
            try:
                img_path = find_voc_image(image_dir, img_id, record.filename)
                height, width = record.size or loaded_size(img_path)
            except FileNotFoundError as err:
                self._fault(xml_path, img_id, 'filename', 'image not found', str(err),
                            unit='image')
                continue
            except ImageFileError as err:
                self._fault(xml_path, img_id, 'filename', err.reason, err.detail, unit='image')
                continue
            for fault in record.faults:
                if self.on_error == 'raise':
                    raise FieldError(xml_path, fault.field, fault.reason)
                self.read_report.add(Finding(xml_path, str(fault.index), fault.field,
                                             'malformed object', detail=fault.reason[:40]))
            instances = self._instances(record, height, width)
            data_list.append(dict(img_path=img_path, img_id=img_id, xml_path=xml_path,
                                  height=height, width=width, instances=instances,
                                  left_out_instances=(len(record.objects) + len(record.faults)
                                                      - len(instances))))
        return data_list

    def _instances(self, record: Any, height: int, width: int) -> List[dict]:
        """mmdet's instances of one file, boxes held to the image, each keyed."""
        source = relpath(record.xml_path, self.data_root)  # type: ignore[attr-defined]
        min_size = self.bbox_min_size  # type: ignore[attr-defined]
        instances = []
        for obj in record.objects:
            field_name = f'object[{obj.index}]'
            if obj.name not in self.cat2label:
                self._fault(record.xml_path, str(obj.index), f'{field_name}/name',
                            'label not in classes', not_a_class(obj.name, self.cat2label)
                            + "; on_error='skip' leaves such objects out, counted",
                            value=repr(obj.name))
                continue
            # mmdet's VOC box of the whole image is [0, 0, W - 1, H - 1] (VOC's last pixel,
            # 1-based, minus one): held there, a box drawn past the border reads as one drawn to it
            box, change = clip_box(obj.bbox, width - 1, height - 1)
            if change:
                self.read_report.add(Finding(record.xml_path, str(obj.index),
                                             f'{field_name}/bndbox', change,
                                             'skipped' if box is None else 'fixed'))
            if box is None:
                continue
            small = min_size is not None and min(box[2] - box[0], box[3] - box[1]) < min_size
            instances.append(dict(ignore_flag=int(obj.difficult or small), bbox=box,
                                  bbox_label=self.cat2label[obj.name],
                                  instance_key=instance_key(source, obj.index)))
        return instances


_COCO_HOOKS = ('load_data_list',)
_XML_HOOKS = ('load_data_list', 'parse_data_info', '_parse_instance_info')


def _keeps(cls: type, base: type, hooks: tuple) -> bool:
    """Whether ``cls`` leaves ``base``'s loading methods as they are."""
    return all(getattr(cls, hook) is getattr(base, hook) for hook in hooks)


def reader_class(cls: Type[BaseDetDataset]) -> Type[BaseDetDataset]:
    """Return a class that builds like ``cls`` and reads its files with checks and keys.

    Args:
        cls (type): A detection dataset class (registered in mmdet's ``DATASETS``).

    Returns:
        type: A subclass taking ``on_error`` for COCO and VOC datasets that use mmdet's
        loading; ``cls`` itself otherwise (the labelme datasets check and key their files
        already; other datasets are keyed by :func:`~.instance_keys.add_fallback_keys`).
    """
    for base, mixin, hooks in ((CocoDataset, _CheckedCoco, _COCO_HOOKS),
                               (XMLDataset, _CheckedXML, _XML_HOOKS)):
        if issubclass(cls, base) and _keeps(cls, base, hooks):
            return type(f'Checked{cls.__name__}', (mixin, cls), {'__module__': __name__})
    return cls


def checks_input(cls: type) -> bool:
    """Whether instances of ``cls`` take ``on_error`` and fill ``read_report``."""
    return issubclass(cls, _CheckedReading)

