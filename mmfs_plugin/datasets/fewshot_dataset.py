"""FewShotDataset: the protocol of :mod:`mmfs_data.fewshot.protocol` over any mmdet detection
dataset config, read by its own parser; itself a ``BaseDetDataset`` whose metainfo names
``classes`` (the label space), ``base_classes`` and ``novel_classes``."""
import inspect
import logging
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from mmdet.datasets import BaseDetDataset
from mmdet.registry import DATASETS
from mmengine.logging import print_log

from mmfs_data.errors import FieldError
from mmfs_data.fewshot.kshot import KShotSelection, ObjectRef, Shots, check_seed, shots_per_class
from mmfs_data.fewshot.label_space import SETTINGS
from mmfs_data.fewshot.palette import split_palette
from mmfs_data.fewshot.protocol import (POLICIES, apply_selection, draw_selection, kshot_candidates,
                                resolve_selection)
from mmfs_data.fewshot.splits import SplitSpec
from mmfs_data.fewshot.summary import class_table, shortfalls
from mmfs_data.fewshot.tfa_files import read_tfa_selection
from mmfs_data.formats.coco import ON_ERROR_MODES
from mmfs_data.formats.read_report import ReadReport
from .dataset_configs import (DatasetCfg, as_cfg_list, build_dataset, dataset_class,
                              fewshot_label_space)
from .det_entries import DetEntriesMixin
from .entry_checks import check_entry_images, check_unique_images
from .format_readers import checks_input, reader_class
from .instance_keys import add_fallback_keys, key_root, qualify_shared_sources, relpath


def _object_refs(entries: List[dict], data_root: str) -> Dict[str, ObjectRef]:
    """Instance key -> its image (relative to ``data_root``) and box: what names a shot in a
    selection file."""
    refs = {}
    for entry in entries:
        image = relpath(str(entry['img_path']), data_root)
        if os.path.isabs(image) and entry.get('json_path'):
            image = str(entry['json_path'])  # a labelme file's embedded image
        for instance in entry['instances']:
            refs[instance['instance_key']] = ObjectRef(image, tuple(instance['bbox']))
    return refs


@DATASETS.register_module()
class FewShotDataset(DetEntriesMixin, BaseDetDataset):
    """The few-shot protocol over any mmdet detection dataset: the label space (known from the
    config alone), the k-shot selection and the ``unselected`` policy.

    The wrapped dataset's ``filter_cfg`` applies before the protocol, this one's after it; in
    ``test_mode`` the wrapped datasets are read in test mode too (unless their config sets
    ``test_mode``), so that no filter drops an evaluation image (mmdet's rule). With
    ``FewShotRunner``, the config's ``fewshot`` dict sets these arguments.

    Args:
        dataset (dict | list[dict]): The dataset config, or several (concatenated, same
            classes; e.g. VOC2007 and VOC2012 trainval).
        setting (str): ``'base'`` (base classes), ``'gfsod'`` (every class) or ``'fsod'``
            (novel classes). Defaults to ``'gfsod'``.
        class_split (None | str | dict): The base/novel split
            (:mod:`mmfs_data.fewshot.splits`). Defaults to None: every class is base.
        shots (int, optional): k of the k-shot rule for the novel classes; None (default)
            keeps every instance.
        base_shots (int | str, optional): k for the base classes; None: ``shots``;
            ``'all'``: every base instance.
        seed (int): Seed of the k-shot rule; an int (``1.0``, ``True`` or ``'1'`` is an
            error). Defaults to 0.
        unselected (str): What becomes of the other instances of a kept training image:
            ``'ignore'`` (ignore regions), ``'drop'`` or ``'keep'``; in ``test_mode``
            instances outside the label space are removed. Defaults to ``'ignore'``.
        load_selection (str, optional): A selection file (``kshot_selection.json``) or a
            folder of TFA's files for one seed (read with ``shots``) to apply instead of
            drawing one; its shots are found by image and box when keys changed, else it is
            refused naming the shot.
        on_error (str): ``'raise'`` (default) a :class:`~mmfs_data.errors.FieldError`
            naming the file and the field on bad input, or ``'skip'`` the object or image and
            count it. Passed to the wrapped datasets that take it unless their config sets it.
        check_images (bool): Check at build that every image file exists, is complete and
            has the annotated size as mmdet loads it (EXIF applied). Defaults to True.
        **kwargs: :class:`~mmdet.datasets.BaseDetDataset`'s arguments of this dataset:
            ``filter_cfg``, ``pipeline``, ``test_mode``, ``lazy_init``, ``indices``,
            ``serialize_data``, ``max_refetch``.
    """

    METAINFO = {'classes': (), 'base_classes': (), 'novel_classes': (), 'palette': []}

    def __init__(self,
                 dataset: Union[DatasetCfg, Sequence[DatasetCfg]],
                 setting: str = 'gfsod',
                 class_split: SplitSpec = None,
                 shots: Optional[int] = None,
                 base_shots: Shots = None,
                 seed: int = 0,
                 unselected: str = 'ignore',
                 load_selection: Optional[str] = None,
                 on_error: str = 'raise',
                 check_images: bool = True,
                 **kwargs: Any) -> None:
        if on_error not in ON_ERROR_MODES:
            raise ValueError(f'FewShotDataset: on_error must be one of {ON_ERROR_MODES}, '
                             f'got {on_error!r}')
        if setting not in SETTINGS:
            raise ValueError(f'FewShotDataset: setting must be one of {sorted(SETTINGS)}, '
                             f'got {setting!r}')
        if unselected not in POLICIES:
            raise ValueError(f'FewShotDataset: unselected must be one of {POLICIES}, '
                             f'got {unselected!r}')
        for name in ('metainfo', 'data_root', 'ann_file', 'data_prefix'):
            if kwargs.get(name):
                raise TypeError(f'FewShotDataset: {name} belongs to the wrapped dataset '
                                f'config (dataset=dict(..., {name}=...))')
        self.dataset_cfgs = as_cfg_list(dataset)
        self.setting = setting
        self.class_split = class_split
        self.shots = shots
        self.base_shots = base_shots
        self.seed = check_seed(seed, 'FewShotDataset: seed')
        self.unselected = unselected
        self.load_selection = load_selection
        self.on_error = on_error
        self.check_images = check_images
        #: What reading left out or changed, per wrapped dataset (its ann_file).
        self.read_reports: Dict[str, ReadReport] = {}
        self.label_space = fewshot_label_space(self.dataset_cfgs, class_split, setting)
        self.kshot_selection: Optional[KShotSelection] = None
        space = self.label_space
        first = self.dataset_cfgs[0]
        metainfo = {key: value for key, value in build_dataset(
            first, dataset_class(first), lazy_init=True, pipeline=[]).metainfo.items()
                    if key not in ('classes', 'palette')}  # e.g. VOC's dataset_type
        metainfo.update(
            classes=space.classes, base_classes=space.base_classes,
            novel_classes=space.novel_classes,
            palette=split_palette(space.classes, space.novel_classes))
        super().__init__(metainfo=metainfo, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the wrapped dataset(s) and apply the protocol; log what reading skipped or
        fixed and the images and instances per class that the data offers and the run uses.

        Returns:
            list[dict]: The entries, labels in the label space.
        """
        images: Dict[str, Tuple[str, str]] = {}
        parts, key_roots, data_roots = zip(*(self._read(cfg, images)
                                             for cfg in self.dataset_cfgs))
        qualify_shared_sources(parts, key_roots)
        entries: List[dict] = [entry for part in parts for entry in part]
        refs: Dict[str, ObjectRef] = {}
        for part, data_root in zip(parts, data_roots) if self._makes_selection else ():
            refs.update(_object_refs(part, data_root))
        ids = [entry['img_id'] for entry in entries]
        kinds = sorted({type(img_id).__name__ for img_id in ids})
        shared = len(set(ids)) < len(ids)  # concatenated files numbering their images alike
        if shared or (len(parts) > 1 and len(kinds) > 1):  # COCO's int ids beside VOC's str
            why = 'share image ids' if shared else f'number images by {" and ".join(kinds)}'
            print_log(f'FewShotDataset: the {len(parts)} concatenated datasets {why}: images '
                      'are numbered 0..n-1 in reading order, so that evaluation keeps them '
                      'apart and can sort them', logger='current')
            entries = [dict(entry, img_id=i) for i, entry in enumerate(entries)]
        space = self.label_space
        if not self.test_mode:
            # images mmdet's filter would drop provide no shot (the selection stays true)
            min_size = (self.filter_cfg or {}).get('min_size', 0)
            entries = [e for e in entries if min(e['width'], e['height']) >= min_size]
        selected = None
        if not self.test_mode:
            candidates = kshot_candidates(entries, space)
            missing = [name for name, keys in candidates.items() if not keys]
            if missing:
                print_log(f'FewShotDataset: classes {missing} have no (non-ignored) training '
                          'instance: they get no shot and are never trained', logger='current',
                          level=logging.WARNING)
            if self._makes_selection:
                self.kshot_selection = self._selection(candidates, entries, refs,
                                                       data_roots)
                selected = self.kshot_selection.selected_keys
        policy = 'drop' if self.test_mode else self.unselected
        kept = apply_selection(entries, space, selected, policy)
        shots = None if self.kshot_selection is None else {
            name: len(keys) for name, keys in self.kshot_selection.selection.items()}
        used = [entry for entry in kept if self.passes_filter(entry)]  # as filter_data will
        print_log(class_table(entries, used, space, self._describe(), shots), logger='current')
        return kept

    def _describe(self) -> str:
        """The title of the class table: what this dataset is."""
        sources = ', '.join(str(cfg.get('ann_file') or cfg.get('data_root'))
                            for cfg in self.dataset_cfgs)
        if self.test_mode:
            return f'FewShotDataset ({sources}; test, setting {self.setting!r}):'
        draw = ('' if self.kshot_selection is None else
                f', {self.shots} shots, seed {self.seed}' if self.load_selection is None
                else f', selection {self.load_selection}')
        return (f'FewShotDataset ({sources}; training, setting {self.setting!r}{draw}, '
                f'unselected {self.unselected!r}):')

    def _read(self, cfg: Dict[str, Any],
              images: Dict[str, Tuple[str, str]]) -> Tuple[List[dict], str, str]:
        """Read one wrapped dataset's entries with their instance keys.

        Args:
            cfg (dict): The wrapped dataset's config.
            images (dict): The images read so far (:func:`~.entry_checks.check_unique_images`),
                shared by the concatenated datasets.

        Returns:
            tuple[list[dict], str, str]: The entries, the folder their keys are relative to
            (:func:`~.instance_keys.key_root`) and the wrapped dataset's ``data_root``.

        Raises:
            FieldError: The wrapped parser failed on a file, or (``on_error='raise'``) bad
                input was found; the message names the file.
            RuntimeError: A checked reader (:func:`~.format_readers.checks_input`) failed
                otherwise than on a fault of the file (a config or plugin error).
        """
        cls = dataset_class(cfg)
        reader = reader_class(cls)
        overrides: Dict[str, Any] = dict(
            pipeline=[], serialize_data=False,
            metainfo=dict(cfg.get('metainfo') or {}, classes=self.label_space.all_classes))
        if 'on_error' not in cfg and 'on_error' in inspect.signature(reader).parameters:
            overrides['on_error'] = self.on_error
        if self.test_mode and 'test_mode' not in cfg:
            overrides['test_mode'] = True  # its filter_cfg (training's) keeps every image
        source = os.path.join(cfg.get('data_root') or '', cfg.get('ann_file') or '')
        try:
            inner = build_dataset(cfg, reader, **overrides)
        except FieldError:
            raise
        except Exception as err:
            if checks_input(reader):  # its faults of a file are FieldErrors: not the file's
                raise RuntimeError(f'FewShotDataset: {reader.__name__} failed on {source} '
                                   f'({type(err).__name__}: {err}), not on a fault of the file '
                                   '(those name file and field): a config or plugin error '
                                   '(see the traceback above)') from err
            # mmdet's parsers name no file: name it here
            raise FieldError(source, 'ann_file',
                             f'{cls.__name__} cannot read it: {type(err).__name__}: {err}') \
                from err
        report = getattr(inner, 'read_report', None) or ReadReport()
        part = [inner.get_data_info(i) for i in range(len(inner))]
        for entry in part:
            entry.pop('sample_idx', None)  # mmengine's, re-added by this dataset
        add_fallback_keys(part, inner.data_root)
        part = check_unique_images(part, source, self.on_error, report, images)
        if self.check_images:
            part = check_entry_images(part, source, self.on_error, report)
        if report:
            print_log(f'FewShotDataset: {cls.__name__} {source}: read with changes or '
                      f'warnings:\n{report.format()}', logger='current', level=logging.WARNING)
        self.read_reports[source] = report
        return part, key_root(inner), inner.data_root

    @property
    def _makes_selection(self) -> bool:
        """Whether this dataset draws or loads a k-shot selection (training with shots)."""
        return not self.test_mode and (self.shots is not None or self.base_shots is not None
                                       or self.load_selection is not None)

    def filter_data(self) -> List[dict]:
        """mmdet's image filters (:class:`DetEntriesMixin`); an empty training set is an error.

        Raises:
            ValueError: No training image is left, naming the settings that emptied it.
        """
        kept = super().filter_data()
        if not kept and not self.test_mode:
            raise ValueError(
                f'FewShotDataset: no training image is left (setting {self.setting!r}, label '
                f'space {list(self.label_space.classes)}, shots {self.shots!r}, '
                f'filter_cfg {self.filter_cfg}, after the wrapped datasets\' own filter_cfg): '
                'the label space has no instance to train on')
        return kept

    def _selection(self, candidates: Dict[str, List[str]], entries: List[dict],
                   refs: Dict[str, ObjectRef], data_roots: Sequence[str]) -> KShotSelection:
        """Load (and apply to the same objects) or draw the k-shot selection (``refs``
        relative to ``data_roots``, named in errors)."""
        space = self.label_space
        path = self.load_selection
        if path is None:
            asked = shots_per_class(space.base_classes, space.novel_classes, self.shots,
                                    self.base_shots)
            for name, k, have in shortfalls(candidates, asked):
                print_log(f'FewShotDataset: class {name!r}: {k} shots asked, {have} '
                          f'available: all {have} are used', logger='current',
                          level=logging.WARNING)
            selection = draw_selection(candidates, space, self.shots, self.base_shots,
                                       self.seed)
        elif os.path.isdir(path):
            if not isinstance(self.shots, int):
                raise ValueError(f'{path}: load_selection: a folder of TFA files is read for '
                                 f'a number of shots; set shots (got {self.shots!r})')
            selection = read_tfa_selection(path, self.shots, space, entries, self.seed,
                                           self.base_shots)
        else:
            selection = KShotSelection.load(path)
            if self.shots is not None and selection.shots != self.shots:
                print_log(f'FewShotDataset: {path} holds a {selection.shots}-shot selection; '
                          f'it is used as it is (shots={self.shots} is not applied)',
                          logger='current', level=logging.WARNING)
            selection, moved = resolve_selection(selection, candidates, refs, space, path,
                                                 data_roots)
            if moved:
                print_log(f'FewShotDataset: {path}: {len(moved)} shots found under new keys '
                          f'(same image and box; the annotation ids changed), e.g. '
                          f'{dict(list(moved.items())[:3])}', logger='current',
                          level=logging.WARNING)
        if path is not None:
            print_log(f'FewShotDataset: k-shot selection loaded from {path}', logger='current')
        selection.objects = {key: refs[key] for key in selection.selected_keys}
        return selection
