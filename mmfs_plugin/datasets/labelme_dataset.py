"""LabelmeDataset: any folder tree of labelme files as an mmdet dataset, with few-shot options."""
import functools
import gc
import os
import pickle
from typing import Any, Dict, List, Optional, Set, Tuple

import numpy as np

from mmdet.datasets.base_det_dataset import BaseDetDataset
from mmdet.registry import DATASETS
from mmengine.dist import is_main_process
from mmengine.logging import print_log

from ..fewshot.kshot import KShotSelection, Shots, instance_key, select_kshot, shots_per_class
from ..formats.labelme import check_labels, read_labelme, write_embedded_image
from ..formats.labelme_records import LabelmeInstance, LabelmeRecord, SkipSummary
from ..fewshot.splits import SplitSpec, get_split
from ..formats.tree_cache import BuildCache, list_json_files

#: What a built dataset is: the attributes :meth:`LabelmeDataset.full_init` sets, and caches.
_BUILT_STATE = ('data_list', 'data_bytes', 'data_address', '_metainfo', 'kshot_selection',
                'skip_summary', 'embedded_images')
BASE_HUES = [(31, 119, 180), (44, 160, 44), (23, 190, 207), (148, 103, 189), (127, 127, 127),
             (188, 189, 34), (140, 86, 75), (0, 0, 139)]
NOVEL_HUES = [(214, 39, 40), (255, 127, 14), (227, 119, 194), (255, 187, 120), (178, 34, 34),
              (255, 215, 0)]


def _hue(hues: List[Tuple[int, int, int]], index: int) -> Tuple[int, int, int]:
    """Pick a colour of one family (base or novel) for the class at ``index``."""
    return hues[index % len(hues)]


def default_cache_dir() -> str:
    """Where built datasets are cached: ``$MMFS_CACHE_DIR`` or ``~/.cache/mmfs_plugin``."""
    return os.environ.get('MMFS_CACHE_DIR',
                          os.path.join(os.path.expanduser('~'), '.cache', 'mmfs_plugin'))


@DATASETS.register_module()
class LabelmeDataset(BaseDetDataset):
    """Instances of a tree of labelme files, in mmdet's ``data_list`` schema, few-shot ready.

    Every ``*.json`` under ``ann_file`` (a folder, relative to ``data_root``; defaults to
    ``data_root`` itself) is read with :func:`~mmfs_plugin.formats.labelme.read_labelme`; or
    ``ann_file`` is a text file listing JSON paths (relative to ``data_root``), one per line.
    Images are found as labelme does (``imagePath`` beside the JSON, then ``imageData``, then
    the JSON's stem), so ``data_prefix`` is not used.

    Args:
        class_split (None | str | dict): The base/novel split (see
            :mod:`mmfs_plugin.fewshot.splits`). Defaults to None: every class is base.
        subset (str): The label space: ``'all'`` classes (G-FSOD fine-tuning, testing),
            ``'base'`` (base training) or ``'novel'`` (FSOD fine-tuning). Instances of classes
            outside it follow ``unselected``. Defaults to ``'all'``.
        shots (int, optional): k of the k-shot rule for the novel classes. None (default)
            keeps every instance.
        base_shots (int | str, optional): k for the base classes; None: the same as
            ``shots``; ``'all'``: every base instance.
        seed (int): Seed of the k-shot rule. Defaults to 0.
        unselected (str): What becomes of the instances on a kept image that are not selected
            (or outside the label space): ``'ignore'`` (ignore regions, ``ignore_flag=1``),
            ``'drop'`` or ``'keep'``. Defaults to ``'ignore'``.
        load_selection (str, optional): A selection file to use instead of drawing one.
        on_error (str): ``'raise'`` on bad input, or ``'skip'`` the bad shape or file and
            count it in :attr:`skip_summary`. Defaults to ``'raise'``.
        check_images (bool): Read each image's header and fail (or skip, with
            ``on_error='skip'``) where ``imageHeight``/``imageWidth`` disagree with it.
            Defaults to False: the sizes in the JSON are trusted, as mmdet's ``CocoDataset``
            trusts its JSON, and a build opens no image (a header is still read where the JSON
            lacks the size; each image's existence is checked). One open per image is slow on
            network storage; ``tools/dataset_stats.py`` checks every header of a tree.
        cache (bool): Cache the built dataset (see :meth:`full_init`), keyed on the
            annotation files' sizes and mtimes and on the arguments. Defaults to True.
        cache_dir (str, optional): Cache folder. Defaults to :func:`default_cache_dir`.
        **kwargs: Arguments of :class:`~mmdet.datasets.BaseDetDataset` (``data_root``,
            ``ann_file``, ``metainfo=dict(classes=...)``, ``filter_cfg``, ``indices``,
            ``serialize_data``, ``pipeline``, ``test_mode``...). Without ``classes`` in
            ``metainfo`` the classes are the sorted labels found.
    """

    METAINFO = {'classes': (), 'base_classes': (), 'novel_classes': (), 'palette': []}

    def __init__(self,
                 *args,
                 class_split: SplitSpec = None,
                 subset: str = 'all',
                 shots: Optional[int] = None,
                 base_shots: Shots = None,
                 seed: int = 0,
                 unselected: str = 'ignore',
                 load_selection: Optional[str] = None,
                 on_error: str = 'raise',
                 check_images: bool = False,
                 cache: bool = True,
                 cache_dir: Optional[str] = None,
                 **kwargs) -> None:
        for name, value, allowed in (('subset', subset, ('all', 'base', 'novel')),
                                     ('unselected', unselected, ('ignore', 'drop', 'keep')),
                                     ('on_error', on_error, ('raise', 'skip'))):
            if value not in allowed:
                raise ValueError(f'{type(self).__name__}: {name} must be one of {allowed}, '
                                 f'got {value!r}')
        self.class_split = class_split
        self.subset = subset
        self.shots = shots
        self.base_shots = base_shots
        self.seed = seed
        self.unselected = unselected
        self.load_selection = load_selection
        self.on_error = on_error
        self.check_images = check_images
        self.cache = cache
        self.cache_dir = cache_dir or default_cache_dir()
        self.kshot_selection: Optional[KShotSelection] = None
        self.skip_summary = SkipSummary()
        #: The image files written for embedded images (``imageData``) of the entries.
        self.embedded_images: List[str] = []
        super().__init__(*args, **kwargs)

    # -- the tree ---------------------------------------------------------------------------
    @property
    def tree_root(self) -> str:
        """The folder that instance keys and ``json_path`` are relative to."""
        if self.data_root:
            return self.data_root
        return self.ann_file if os.path.isdir(self.ann_file) else os.path.dirname(self.ann_file)

    def annotation_files(self, other_files: Optional[Set[str]] = None) -> List[str]:
        """Return the labelme files to read, relative to :attr:`tree_root`, sorted.

        Args:
            other_files (set[str], optional): Receives the other files a folder listing
                found (see :func:`~.tree_cache.list_json_files`); left as it is for a list
                file.

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
            return sorted(os.path.relpath(os.path.join(root, p), root).replace(os.sep, '/')
                          for p in listed)
        if not os.path.isdir(source):
            raise FileNotFoundError(f'{source}: ann_file: no such folder or list file')
        return list_json_files(source, root, other_files)

    @functools.cached_property
    def _listing(self) -> Tuple[List[str], Set[str]]:
        """:meth:`annotation_files` and the other files listed, once for the cache key and
        the build; :meth:`full_init` drops it when done."""
        other_files: Set[str] = set()
        return self.annotation_files(other_files), other_files

    def class_name(self, relpath: str, label: str) -> str:
        """Return the class name of an instance labelled ``label`` in file ``relpath``."""
        return label

    def default_classes(self, records: Dict[str, LabelmeRecord]) -> List[str]:
        """Return the classes when the config gives none: the sorted labels found."""
        return sorted({self.class_name(relpath, inst.label)
                       for relpath, record in records.items() for inst in record.instances
                       if not inst.ignore})

    # -- the cache ----------------------------------------------------------------------------
    def cache_args(self) -> Dict[str, Any]:
        """Return what the built dataset depends on besides the input files (the cache key).

        Subclasses whose own arguments change the data add them.

        Returns:
            dict: The dataset type and every argument that shapes ``data_list`` or metainfo.
        """
        return dict(type=f'{type(self).__module__}.{type(self).__qualname__}',
                    root=os.path.abspath(self.tree_root), ann_file=self.ann_file,
                    metainfo=self._metainfo, filter_cfg=self.filter_cfg, indices=self._indices,
                    serialize_data=self.serialize_data, test_mode=self.test_mode,
                    proposal_file=self.proposal_file, class_split=self.class_split,
                    subset=self.subset, shots=self.shots, base_shots=self.base_shots,
                    seed=self.seed, unselected=self.unselected,
                    load_selection=self.load_selection, on_error=self.on_error,
                    check_images=self.check_images)

    def _build_cache(self) -> BuildCache:
        """The cache entry of this dataset: its arguments, its files and their folders."""
        prefix = os.path.join(self.tree_root, '')
        paths = [prefix + relpath for relpath in self._listing[0]]
        paths += sorted({os.path.dirname(path) for path in paths})
        paths += [path for path in (self.load_selection, self.proposal_file) if path]
        return BuildCache(self.cache_dir, 'dataset', self.cache_args(), paths)

    def _image_path(self, record: LabelmeRecord) -> str:
        """Return an image file for a record, writing an embedded image out when needed."""
        if record.img_path is not None:
            return record.img_path
        path = write_embedded_image(record, os.path.join(self.cache_dir, 'embedded_images'))
        self.embedded_images.append(path)
        return path

    # -- building data_list -----------------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        """Read the tree and build the (k-shot) ``data_list``.

        Returns:
            list[dict]: One entry per image, in mmdet's schema (see docs/architecture.md).
        """
        files, listed_files = self._listing
        prefix = os.path.join(self.tree_root, '')  # + relpath: os.path.join(root, relpath)
        records = {}
        for relpath in files:
            record = records[relpath] = read_labelme(prefix + relpath, on_error=self.on_error,
                                                     check_image=self.check_images,
                                                     known_files=listed_files)
            self.skip_summary.add(record)

        all_classes = list(self._metainfo.get('classes') or self.default_classes(records))
        base, novel = get_split(self.class_split, all_classes)
        classes = {'all': all_classes, 'base': base, 'novel': novel}[self.subset]
        self._metainfo.update(
            classes=tuple(classes),
            base_classes=tuple(c for c in base if c in classes),
            novel_classes=tuple(c for c in novel if c in classes),
            palette=[_hue(NOVEL_HUES if c in novel else BASE_HUES, i)
                     for i, c in enumerate(classes)])
        label_of = {name: i for i, name in enumerate(classes)}
        known = set(all_classes)

        # Every instance with its key and class name (None: an __ignore__ region); unknown
        # labels fail.
        named = {
            relpath: [(instance_key(relpath, inst.shape_indices[0]), name, inst)
                      for name, inst in check_labels(
                          record, known, self.on_error, self.skip_summary,
                          class_name=functools.partial(self.class_name, relpath))]
            for relpath, record in records.items()
        }

        selected = self._select(named, classes, base, novel)
        data_list = []
        keep_unselected = self.unselected == 'keep'
        drop_unselected = self.unselected == 'drop'
        for relpath in files:
            record = records[relpath]
            keyed = named[relpath]
            if selected is not None and not any(key in selected for key, _, _ in keyed):
                continue
            if record.skipped and any(skip.shape_index is None for skip in record.skipped):
                continue  # a file skipped whole (on_error='skip')
            instances = []
            for key, name, inst in keyed:
                if name in label_of and (selected is None or keep_unselected
                                         or key in selected):
                    ignore_flag = 0
                elif name is not None and drop_unselected:
                    continue
                else:  # an __ignore__ region, or an instance the policy turns into one
                    ignore_flag = 1
                instances.append({'bbox': list(inst.bbox), 'bbox_label': label_of.get(name, -1),
                                  'ignore_flag': ignore_flag, 'mask': inst.segmentation,
                                  'instance_key': key})
            data_list.append({'img_path': self._image_path(record), 'img_id': len(data_list),
                              'json_path': relpath, 'height': record.height,
                              'width': record.width, 'seg_map_path': None,
                              'instances': instances})
        return data_list

    def _select(self, named: Dict[str, List[Tuple[str, Optional[str], LabelmeInstance]]],
                classes: List[str], base: List[str],
                novel: List[str]) -> Optional[Dict[str, str]]:
        """Draw or load the k-shot selection; None when every instance is used.

        ``named``: per file, its instances as ``(instance key, class name, instance)``.
        """
        if self.shots is None and self.base_shots is None and self.load_selection is None:
            return None
        if self.load_selection is not None:
            selection = KShotSelection.load(self.load_selection)
            if list(selection.classes) != list(classes):
                raise ValueError(f'{self.load_selection}: classes: the selection was made for '
                                 f'{selection.classes}, this dataset has {classes}')
        else:
            candidates: Dict[str, List[str]] = {name: [] for name in classes}
            for kept in named.values():
                for key, name, _ in kept:
                    if name in candidates:
                        candidates[name].append(key)
            shots = shots_per_class([c for c in base if c in classes],
                                    [c for c in novel if c in classes], self.shots,
                                    self.base_shots)
            selection = KShotSelection(
                seed=self.seed, shots=self.shots, base_shots=self.base_shots,
                classes=list(classes), selection=select_kshot(candidates, shots, self.seed))
        self.kshot_selection = selection
        return selection.selected_keys

    # -- mmdet dataset API --------------------------------------------------------------------
    def full_init(self) -> None:
        """Load, filter and serialize the data as mmdet does, or take it from the cache.

        With ``cache=True`` the built state (``data_list`` serialized or not, metainfo, k-shot
        selection, skip summary) is saved in one file, keyed on :meth:`cache_args` and on the
        size and ``mtime_ns`` of every annotation file, of the folders holding them (files
        added or removed) and of ``load_selection``. When they all match, a reload lists and
        stats the files and reads that one file; in a distributed run only the main process
        writes it. Image files replaced in place are not seen:
        pass ``cache=False`` (or touch the JSON files) after resizing images.

        The cyclic GC is paused meanwhile: the records accumulate thousands of surviving
        objects, and every automatic collection re-walks them (build time per file grew 1.6x
        from 1x to 16x the MVTec-FS tree). Nothing built here forms a cycle, so pausing the
        collector frees nothing later than before.
        """
        if self._fully_initialized:
            return
        enabled = gc.isenabled()
        gc.disable()
        try:
            cache = self._build_cache() if self.cache else None
            if cache is None or not self._restore(cache.load()):
                super().full_init()
                if cache is not None and is_main_process():  # ranks share one cache file
                    cache.save({name: getattr(self, name) for name in _BUILT_STATE
                                if hasattr(self, name)})
        finally:
            self.__dict__.pop('_listing', None)  # used up: the workers need not carry it
            if enabled:
                gc.enable()
        self._fully_initialized = True
        if self.skip_summary.num_skipped:
            print_log(f'{type(self).__name__}: skipped input:\n{self.skip_summary.format()}',
                      logger='current')

    def _restore(self, state: Optional[Dict[str, Any]]) -> bool:
        """Take a cached built state; False (nothing taken) if it is None or incomplete."""
        if state is None or not all(map(os.path.isfile, state['embedded_images'])):
            return False
        for name, value in state.items():
            setattr(self, name, value)
        return True

    def _serialize_data(self) -> Tuple[np.ndarray, np.ndarray]:
        """Serialize ``data_list`` as mmengine does, joining the entries once, with no GC pass.

        Each entry is pickled (protocol 4) as in mmengine, whose ``get_data_info`` reads them
        back; the bytes are joined at once instead of through one array per entry. mmengine's
        full-heap ``gc.collect()`` after clearing ``data_list`` is left out: it walks every
        object of the process (torch's included) and costs more than reading the whole tree,
        while the entries hold no reference cycles and are freed when cleared.

        Returns:
            tuple[np.ndarray, np.ndarray]: The serialized entries and their end offsets.
        """
        buffers = [pickle.dumps(info, protocol=4) for info in self.data_list]
        self.data_list.clear()
        data_address = np.cumsum([len(buffer) for buffer in buffers], dtype=np.int64)
        return np.frombuffer(b''.join(buffers), dtype=np.uint8), data_address

    def filter_data(self) -> List[dict]:
        """Filter images by ``filter_cfg`` (``filter_empty_gt``, ``min_size``), as mmdet does.

        Returns:
            list[dict]: The kept entries.
        """
        if self.test_mode or self.filter_cfg is None:
            return self.data_list
        filter_empty_gt = self.filter_cfg.get('filter_empty_gt', False)
        min_size = self.filter_cfg.get('min_size', 0)
        return [
            info for info in self.data_list
            if min(info['width'], info['height']) >= min_size and not (
                filter_empty_gt and all(inst['ignore_flag'] for inst in info['instances']))
        ]

    def get_cat_ids(self, idx: int) -> List[int]:
        """Return the labels of the non-ignored instances of image ``idx``.

        Args:
            idx (int): Index into the dataset.

        Returns:
            list[int]: The labels (with repeats, as mmdet's CocoDataset).
        """
        return [inst['bbox_label'] for inst in self.get_data_info(idx)['instances']
                if not inst['ignore_flag']]
