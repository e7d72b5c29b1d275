"""Stable instance keys, the same whatever the class list, split or machine (docs/architecture.md,
"Instance keys"); :func:`add_fallback_keys` keys any other dataset by ``'<img_path>#<index>'``;
:func:`qualify_shared_sources` keeps the keys of concatenated datasets apart."""
import os
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Set

from mmdet.datasets import BaseDetDataset

from mmfs_data.fewshot.kshot import instance_key
from .labelme_dataset import LabelmeDataset


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


def key_root(dataset: BaseDetDataset) -> str:
    """The folder a dataset's instance keys are relative to: a labelme tree's root
    (:attr:`~.LabelmeDataset.tree_root`), else ``data_root``."""
    return dataset.tree_root if isinstance(dataset, LabelmeDataset) else dataset.data_root


def _suffix(folders: Sequence[List[str]], index: int, sharing: Set[int]) -> Optional[str]:
    """The fewest last folders of ``folders[index]`` that no other folder of ``sharing`` ends
    with; None when one of them is the same folder."""
    own = folders[index]
    others = [folders[i] for i in sharing if i != index]
    if own in others:
        return None
    n = next(n for n in range(1, len(own) + 1) if all(other[-n:] != own[-n:]
                                                       for other in others))
    return '/'.join(own[-n:])


def qualify_shared_sources(parts: Sequence[List[dict]], roots: Sequence[str]) -> None:
    """Keep the keys of concatenated datasets apart: a source that several of them key by
    (``train.json`` of ``lineA/train.json`` and of ``lineB/train.json``, each its own
    ``data_root``) is prefixed in each by the fewest last folders of its root that tell the
    roots apart (``lineA/train.json#1``, ``lineB/train.json#1``). The other keys stay as they
    are; so do those of a source read twice from one root, or named by an absolute path (the
    same file: :func:`~mmfs_data.fewshot.protocol.kshot_candidates` refuses them).

    Args:
        parts (Sequence[list[dict]]): The ``data_list`` entries of each dataset, keyed; changed
            in place.
        roots (Sequence[str]): The folder each dataset's keys are relative to.
    """
    folders = [os.path.abspath(root or '').replace(os.sep, '/').split('/') for root in roots]
    sharing: Dict[str, Set[int]] = defaultdict(set)  # key source -> the parts keyed by it
    for index, part in enumerate(parts):
        for entry in part:
            for instance in entry['instances']:
                sharing[instance['instance_key'].rpartition('#')[0]].add(index)
    for index, part in enumerate(parts):
        for entry in part:
            for instance in entry['instances']:
                key = instance['instance_key']
                source = key.rpartition('#')[0]
                if len(sharing[source]) > 1 and not os.path.isabs(source):
                    prefix = _suffix(folders, index, sharing[source])
                    if prefix is not None:
                        instance['instance_key'] = f'{prefix}/{key}'
