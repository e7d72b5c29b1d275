"""Stable instance keys for the entries of any mmdet detection dataset.

The k-shot rule and selection files name instances by keys that do not change when the class
list, the split or the machine does:

- :class:`~mmfs_plugin.datasets.LabelmeDataset` (and MVTec-FS): ``'<json path>#<first shape
  index>'``, the JSON path relative to the tree root (set by the dataset itself);
- mmdet's ``CocoDataset`` and its subclasses: the annotation id, ``'42'``;
- mmdet's ``XMLDataset`` (``VOCDataset``): ``'<xml path>#<object index>'``, the XML path
  relative to ``data_root`` and the object's index among all ``<object>`` elements of the file;
- any other dataset: ``'<img_path>#<index>'``, the image path relative to ``data_root`` and
  the instance's index in its ``data_list`` entry (stable for a fixed class list).

COCO and VOC keys come from mmdet's own parsing: :func:`keyed_dataset_class` derives a subclass
whose ``parse_data_info`` runs mmdet's rules on one annotation (one ``<object>``) at a time and
attaches the key of each instance they keep, so every skip rule of mmdet applies unchanged.
"""
import os
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Any, Dict, List, Type

from mmdet.datasets import BaseDetDataset, CocoDataset, XMLDataset

from ..errors import FieldError
from ..fewshot.kshot import instance_key


def _relpath(path: str, root: str) -> str:
    """``path`` relative to ``root`` (when inside it), with ``/`` separators."""
    if root:
        relative = os.path.relpath(path, root)
        if not relative.startswith(os.pardir):
            path = relative
    return path.replace(os.sep, '/')


class _CocoKeys:
    """Mixin for ``CocoDataset`` subclasses: instance keys are the annotation ids.

    ``labels_left_out`` counts the annotations mmdet skips because their category is not
    among the classes.
    """

    labels_left_out: Counter

    def parse_data_info(self, raw_data_info: dict) -> Dict[str, Any]:
        """mmdet's parsing, one annotation at a time, each kept instance keyed by its id."""
        parse = super().parse_data_info  # type: ignore[misc]
        left_out = self.__dict__.setdefault('labels_left_out', Counter())
        data_info = parse(dict(raw_data_info, raw_ann_info=[]))
        instances: List[dict] = []
        for ann in raw_data_info['raw_ann_info']:
            if ann.get('category_id') not in self.cat_ids:  # type: ignore[attr-defined]
                category = self.coco.cats.get(ann.get('category_id'), {})  # type: ignore
                left_out[category.get('name', f"category_id {ann.get('category_id')}")] += 1
                continue
            for instance in parse(dict(raw_data_info, raw_ann_info=[ann]))['instances']:
                instance['instance_key'] = str(ann['id'])
                instances.append(instance)
        data_info['instances'] = instances
        return data_info


class _XMLKeys:
    """Mixin for ``XMLDataset`` subclasses: keys are ``'<xml path>#<object index>'``.

    ``labels_left_out`` counts the objects mmdet skips because their name is not among the
    classes; a file mmdet cannot parse raises :class:`~mmfs_plugin.errors.FieldError` naming it.
    """

    labels_left_out: Counter

    def parse_data_info(self, img_info: dict) -> Dict[str, Any]:
        """mmdet's parsing; remembers the XML file whose objects are parsed next."""
        self._keyed_xml = _relpath(img_info['xml_path'], self.data_root)  # type: ignore
        try:
            return super().parse_data_info(img_info)  # type: ignore[misc]
        except Exception as err:  # ParseError, a missing or non-numeric field...
            raise FieldError(img_info['xml_path'], 'annotation',
                             f'{type(err).__name__}: {err}') from err

    def _parse_instance_info(self, raw_ann_info: Any, minus_one: bool = True) -> List[dict]:
        """mmdet's rules on each ``<object>`` alone, each kept instance keyed by its index."""
        parse = super()._parse_instance_info  # type: ignore[misc]
        left_out = self.__dict__.setdefault('labels_left_out', Counter())
        classes = self._metainfo['classes']  # type: ignore[attr-defined]
        instances: List[dict] = []
        for index, obj in enumerate(raw_ann_info.findall('object')):
            name = obj.findtext('name')
            if name not in classes:
                left_out[name] += 1
                continue
            single = ET.Element('annotation')
            single.append(obj)
            for instance in parse(single, minus_one=minus_one):
                instance['instance_key'] = instance_key(self._keyed_xml, index)
                instances.append(instance)
        return instances


def keyed_dataset_class(cls: Type[BaseDetDataset]) -> Type[BaseDetDataset]:
    """Return a class that builds like ``cls`` and keys the instances of its entries.

    Args:
        cls (type): A detection dataset class (registered in mmdet's ``DATASETS``).

    Returns:
        type: A subclass with keyed parsing for COCO and XML datasets; ``cls`` itself for
        the labelme datasets (keyed already) and any other dataset (keyed afterwards by
        :func:`add_fallback_keys`).
    """
    for base, mixin in ((CocoDataset, _CocoKeys), (XMLDataset, _XMLKeys)):
        if issubclass(cls, base):
            return type(f'Keyed{cls.__name__}', (mixin, cls), {'__module__': __name__})
    return cls


def add_fallback_keys(entries: List[dict], data_root: str) -> None:
    """Key the instances that have no key yet: ``'<img_path>#<index in its entry>'``.

    Args:
        entries (list[dict]): ``data_list`` entries, changed in place.
        data_root (str): What image paths are made relative to.
    """
    for entry in entries:
        source = None
        for index, instance in enumerate(entry['instances']):
            if 'instance_key' not in instance:
                source = source or _relpath(str(entry['img_path']), data_root)
                instance['instance_key'] = instance_key(source, index)

