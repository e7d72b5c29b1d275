"""Stable instance keys, the same whatever the class list, split or machine (docs/architecture.md,
"Instance keys"); :func:`add_fallback_keys` keys any other dataset by ``'<img_path>#<index>'``."""
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
