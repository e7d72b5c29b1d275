"""LabelmeDataset: any folder tree of labelme files as an mmdet detection dataset."""
import logging
import os
from typing import Any, Dict, List, Optional

from mmdet.datasets.base_det_dataset import BaseDetDataset
from mmdet.registry import DATASETS
from mmengine.logging import print_log

from mmfs_data.fewshot.classes import check_class_names, near_duplicate_labels
from mmfs_data.fewshot.kshot import instance_key
from mmfs_data.formats.labelme import (check_duplicate_images, check_labels, read_labelme,
                               write_embedded_image)
from mmfs_data.formats.labelme_records import FieldWarning, LabelmeRecord, SkipSummary
from mmfs_data.formats.tree_listing import list_json_files
from .det_entries import DetEntriesMixin

#: The few-shot arguments of earlier versions, now :class:`FewShotDataset`'s.
_FEWSHOT_ARGS = ('class_split', 'subset', 'shots', 'base_shots', 'seed', 'unselected',
                 'load_selection')


def default_cache_dir() -> str:
    """Where embedded images are written: ``$MMFS_CACHE_DIR`` or ``~/.cache/mmfs_plugin``."""
    return os.environ.get('MMFS_CACHE_DIR',
                          os.path.join(os.path.expanduser('~'), '.cache', 'mmfs_plugin'))


@DATASETS.register_module()
class LabelmeDataset(DetEntriesMixin, BaseDetDataset):
    """The instances of a tree of labelme files in mmdet's ``data_list`` schema; wrap it in
    ``FewShotDataset`` for few-shot training.

    Files are read as labelme reads them (docs/architecture.md, "The labelme reader contract"),
    so ``data_prefix`` is not used; instance keys are ``'<json path>#<first shape index>'``.

    Args:
        on_error (str): ``'raise'`` on bad input, or ``'skip'`` the bad shape or file and
            count it in :attr:`skip_summary`. Defaults to ``'raise'``.
        cache_dir (str, optional): Where embedded images are written. Defaults to
            :func:`default_cache_dir`.
        **kwargs: Arguments of :class:`~mmdet.datasets.BaseDetDataset` (``data_root``,
            ``ann_file``, ``metainfo=dict(classes=...)``, ``filter_cfg``, ``pipeline``...).
            ``ann_file`` is a folder of ``*.json`` relative to ``data_root`` (default:
            ``data_root``), or a text file of JSON paths, one per line (``<line>.json`` where
            ``.json`` is missing: a VOC ``ImageSets`` list works). Without ``classes`` the
            classes are the sorted labels found: set them where datasets share a label space.

    Raises:
        LabelmeError: Bad input with ``on_error='raise'``: unreadable files, bad fields, a
            label not in ``classes``, two annotation files naming one image (with ``'skip'``:
            the later file is skipped and counted).
    """

    METAINFO = {'classes': ()}

    def __init__(self,
                 *args: Any,
                 on_error: str = 'raise',
                 cache_dir: Optional[str] = None,
                 **kwargs: Any) -> None:
        moved = sorted(set(kwargs) & set(_FEWSHOT_ARGS))
        if moved:
            raise TypeError(f'{type(self).__name__}: {moved} are arguments of FewShotDataset: '
                            f"wrap the dataset, dict(type='FewShotDataset', dataset=dict("
                            f"type='{type(self).__name__}', ...), ...)")
        if on_error not in ('raise', 'skip'):
            raise ValueError(f"{type(self).__name__}: on_error must be 'raise' or 'skip', "
                             f'got {on_error!r}')
        metainfo = kwargs.get('metainfo') or {}
        if metainfo.get('classes') is not None:
            check_class_names(metainfo['classes'], f'{type(self).__name__}: metainfo.classes')
        self.on_error = on_error
        self.cache_dir = cache_dir or default_cache_dir()
        self.skip_summary = SkipSummary()
        #: What was read despite a fault (e.g. a declared image size that is not the image's).
        self.warnings: List[FieldWarning] = []
        super().__init__(*args, **kwargs)

    # -- the tree ---------------------------------------------------------------------------
    @property
    def tree_root(self) -> str:
        """The folder that instance keys and ``json_path`` are relative to."""
        if self.data_root:
            return self.data_root
        return self.ann_file if os.path.isdir(self.ann_file) else os.path.dirname(self.ann_file)

    def annotation_files(self) -> List[str]:
        """Return the labelme files to read, relative to :attr:`tree_root`, sorted.

        Returns:
            list[str]: The files' paths with ``/`` separators.
        """
        source = self.ann_file or self.data_root
        if not source:
            raise ValueError(f'{type(self).__name__}: set data_root and/or ann_file')
        root = self.tree_root
        if os.path.isfile(source):
            with open(source, encoding='utf-8') as f:
                listed = [line.strip() for line in f if line.strip()]
            listed = [p if p.endswith('.json') else f'{p}.json' for p in listed]
            return sorted(os.path.relpath(os.path.join(root, p), root).replace(os.sep, '/')
                          for p in listed)
        if not os.path.isdir(source):
            raise FileNotFoundError(f'{source}: ann_file: no such folder or list file')
        return list_json_files(source, root)

    def class_name(self, relpath: str, label: str) -> str:
        """Return the class name of an instance labelled ``label`` in file ``relpath``."""
        return label

    def _default_classes(self, records: Dict[str, LabelmeRecord]) -> List[str]:
        """The classes when the config gives none: the sorted labels found (logged)."""
        names = sorted({self.class_name(relpath, inst.label)
                        for relpath, record in records.items() for inst in record.instances
                        if not inst.ignore})
        print_log(f'{type(self).__name__}: no classes given, {len(names)} inferred from the '
                  f'labels under {self.ann_file or self.data_root}: {names}. Another folder '
                  'may infer others: set metainfo=dict(classes=...) so that every dataset of '
                  'a config numbers its classes alike.', logger='current', level=logging.WARNING)
        for group in near_duplicate_labels(names):
            print_log(f'{type(self).__name__}: labels {group} differ only in case or '
                      'surrounding spaces and count as different classes', logger='current',
                      level=logging.WARNING)
        return names

    def _image_path(self, record: LabelmeRecord) -> str:
        """Return an image file for a record, writing an embedded image out when needed."""
        if record.img_path is not None:
            return record.img_path
        return write_embedded_image(record, os.path.join(self.cache_dir, 'embedded_images'))

    # -- building data_list -----------------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        """Read the tree into ``data_list`` (see docs/architecture.md for the schema).

        Returns:
            list[dict]: One entry per image.
        """
        prefix = os.path.join(self.tree_root, '')
        relpaths = self.annotation_files()
        records = dict(zip(relpaths, check_duplicate_images(
            [read_labelme(prefix + relpath, on_error=self.on_error) for relpath in relpaths],
            self.on_error)))
        for record in records.values():
            self.skip_summary.add(record)
            self.warnings += record.warnings
            for warning in record.warnings:
                print_log(f'{type(self).__name__}: {warning}', logger='current',
                          level=logging.WARNING)
        classes = list(self._metainfo.get('classes') or self._default_classes(records))
        self._metainfo['classes'] = tuple(classes)
        label_of = {name: i for i, name in enumerate(classes)}
        data_list = []
        for relpath, record in records.items():
            if any(skip.shape_index is None for skip in record.skipped):
                continue  # a file skipped whole (on_error='skip')
            named = check_labels(record, label_of, self.on_error, self.skip_summary,
                                 class_name=lambda label, path=relpath: self.class_name(
                                     path, label))
            instances = [{'bbox': list(inst.bbox), 'bbox_label': label_of.get(name, -1),
                          'ignore_flag': int(name is None), 'mask': inst.segmentation,
                          'instance_key': instance_key(relpath, inst.shape_indices[0])}
                         for name, inst in named]
            read = sum(len(inst.shape_indices) for _, inst in named)
            data_list.append({'img_path': self._image_path(record), 'img_id': len(data_list),
                              'json_path': relpath, 'height': record.height,
                              'width': record.width, 'seg_map_path': None,
                              'instances': instances,
                              'left_out_instances': record.num_shapes - read})
        if self.skip_summary.anything_skipped:  # shapes, or files without any
            print_log(f'{type(self).__name__}: skipped input:\n{self.skip_summary.format()}',
                      logger='current', level=logging.WARNING)
        return data_list
