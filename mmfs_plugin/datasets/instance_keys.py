"""Stable instance keys for the entries of any mmdet detection dataset.

The k-shot rule and selection files name instances by keys that do not change when the class
list, the split or the machine does (docs/architecture.md):

- :class:`~mmfs_plugin.datasets.LabelmeDataset` (and MVTec-FS): ``'<json path>#<first shape
  index>'``, the JSON path relative to the tree root (set by the dataset itself);
- mmdet's ``CocoDataset``: ``'<ann_file>#<annotation id>'``, and ``XMLDataset``
  (``VOCDataset``): ``'<xml path>#<object index>'``, paths relative to ``data_root`` (set by
  :mod:`.format_readers`);
- any other dataset: ``'<img_path>#<index>'``, the image path relative to ``data_root`` and
  the instance's index in its ``data_list`` entry (stable for a fixed class list), set by
  :func:`add_fallback_keys`.
"""
import os
from typing import List

from mmfs_data.fewshot.kshot import instance_key


def relpath(path: str, root: str) -> str:
    """``path`` relative to ``root`` (when inside it), with ``/`` separators."""
    if root:
        relative = os.path.relpath(path, root)
        if not relative.startswith(os.pardir):
            path = relative
    return path.replace(os.sep, '/')


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
                source = source or relpath(str(entry['img_path']), data_root)
                instance['instance_key'] = instance_key(source, index)
