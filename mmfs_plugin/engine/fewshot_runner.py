"""FewShotRunner: a config's ``fewshot`` settings applied to its datasets and model.

``fewshot = dict(setting='gfsod', class_split='split1', shots=5, seed=0)`` at the top level of
a config reaches every ``FewShotDataset`` of its dataloaders (``setting``, ``class_split``,
``on_error``; the k-shot keys the training set only; any other key is an error), the box
head's ``num_classes`` (the label space, resolved from the config alone), a
``model.base_detector``'s (the classes of the base checkpoint, or those of the ``'base'``
setting: :func:`_resolve_base_detector`) and ``FewShotSurgeryHook`` (``base_checkpoint``);
mmdet's own ``tools/train.py`` builds it through ``runner_type='mmdet.FewShotRunner'``.
"""
import copy
import os.path as osp
from typing import Any, Dict, Iterator, MutableMapping, Optional

from mmdet.registry import DATASETS, RUNNERS
from mmengine.config import Config, ConfigDict
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from mmengine.registry import DefaultScope, init_default_scope
from mmengine.runner import CheckpointLoader, Runner

from ..compat import with_cpu_model_wrapper
from ..datasets import FewShotDataset, fewshot_label_space
from ..models.retentive_tfa import base_detector_config
from mmfs_data.fewshot.classes import near_match
from mmfs_data.fewshot.label_space import LabelSpace
from .label_order import check_coco_metric_file, check_coco_metric_labels, check_dataset_labels
from .surgery import load_surgery_source
from .surgery_hook import FewShotSurgeryHook

#: ``fewshot`` keys that every ``FewShotDataset`` of the config takes (beside ``setting``).
DATASET_KEYS = ('class_split', 'on_error')
TRAIN_ONLY_KEYS = ('shots', 'base_shots', 'seed', 'unselected', 'load_selection')
#: The k-shot keys, which base training (every instance of the base classes) does not take.
KSHOT_KEYS = ('shots', 'base_shots', 'load_selection')
#: Every key ``fewshot`` takes (``base_checkpoint``: the surgery's and the base branch's).
FEWSHOT_KEYS = ('setting',) + DATASET_KEYS + TRAIN_ONLY_KEYS + ('base_checkpoint',)
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _is_fewshot_dataset(cfg: Any) -> bool:
    """Whether a dataset config builds a :class:`FewShotDataset` (or a subclass)."""
    if not isinstance(cfg, MutableMapping) or 'type' not in cfg:
        return False
    dataset_type = cfg['type']
    if isinstance(dataset_type, str):
        dataset_type = DATASETS.get(dataset_type)
    return isinstance(dataset_type, type) and issubclass(dataset_type, FewShotDataset)


def iter_dataset_cfgs(cfg: Any) -> Iterator[MutableMapping]:
    """Yield the ``FewShotDataset`` configs inside a dataset config and its wrappers."""
    if _is_fewshot_dataset(cfg):
        yield cfg
    elif isinstance(cfg, MutableMapping):
        inner = cfg.get('datasets', cfg.get('dataset'))
        for item in inner if isinstance(inner, list) else [inner]:
            yield from iter_dataset_cfgs(item)


def check_evaluated_images_apart(cfg: Config) -> None:
    """Refuse a validation or test dataset that wraps several ``FewShotDataset``s (e.g.
    ``ConcatDataset(datasets=[...])``): each numbers its images on its own, so two COCO files
    numbering from 1 both hold an ``img_id`` 1, and the metrics pair ground truth and
    detections by ``img_id``.

    Args:
        cfg (Config): The config.

    Raises:
        ValueError: Naming the dataloader and the remedy (one ``FewShotDataset`` over the
            list of dataset configs, which numbers concatenated images apart).
    """
    for loader_key in ('val_dataloader', 'test_dataloader'):
        loader = cfg.get(loader_key)
        dataset = loader.get('dataset') if loader else None
        parts = list(iter_dataset_cfgs(dataset))
        if len(parts) > 1:
            wrapper = getattr(dataset['type'], '__name__', dataset['type'])  # a name or class
            raise ValueError(
                f'{loader_key}.dataset: a {wrapper} of {len(parts)} FewShotDatasets: each '
                'numbers its images on its own (two COCO files numbering from 1 both hold '
                'img_id 1), and the metrics tell images apart by img_id: concatenate inside '
                "one FewShotDataset, dict(type='FewShotDataset', dataset=[cfg_a, cfg_b], ...), "
                'which numbers them apart')


def config_label_space(cfg: Config) -> Optional[LabelSpace]:
    """The label space of a config's datasets, from the config alone.

    Args:
        cfg (Config): A config whose ``fewshot`` settings are applied
            (:func:`apply_fewshot_settings`).

    Returns:
        LabelSpace | None: The label space; None when no dataloader holds a
        ``FewShotDataset``.

    Raises:
        ValueError: Two datasets of the config have different label spaces.
    """
    found: Dict[str, LabelSpace] = {}
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmdet')):
        for loader_key in LOADERS:
            loader = cfg.get(loader_key)
            for dataset_cfg in iter_dataset_cfgs(loader.get('dataset') if loader else None):
                space = fewshot_label_space(dataset_cfg['dataset'],
                                            dataset_cfg.get('class_split'),
                                            dataset_cfg.get('setting', 'gfsod'))
                for other_key, other in found.items():
                    if other.classes != space.classes:
                        raise ValueError(
                            f'{other_key} and {loader_key} have different label spaces: '
                            f'{list(other.classes)} and {list(space.classes)}; give their '
                            'datasets the same metainfo.classes')
                found.setdefault(loader_key, space)
    return next(iter(found.values()), None)


def apply_fewshot_settings(cfg: Config) -> Config:
    """Return a copy of ``cfg`` with its ``fewshot`` settings applied (see the module doc).

    Args:
        cfg (Config): A config; without a ``fewshot`` key it is returned unchanged.

    Returns:
        Config: The resolved config.

    Raises:
        ValueError: ``fewshot`` holds a key it does not take (a typo would otherwise be
            ignored), or is set but no dataloader holds a ``FewShotDataset``, a dataset sets
            a key of ``fewshot`` to another value, an unknown setting, or datasets with
            different label spaces.
    """
    fewshot = cfg.get('fewshot')
    if not fewshot:
        return cfg
    for key in fewshot:
        if key not in FEWSHOT_KEYS + ('_delete_',):
            near = near_match(key, FEWSHOT_KEYS)
            raise ValueError(f'fewshot: unknown key {key!r}'
                             f'{f" (did you mean {near!r}?)" if near else ""}; fewshot takes '
                             f'{list(FEWSHOT_KEYS)}')
    cfg = copy.deepcopy(cfg)
    setting = fewshot.get('setting', 'gfsod')
    found = False
    for loader_key in LOADERS:
        loader = cfg.get(loader_key)
        for dataset_cfg in iter_dataset_cfgs(loader.get('dataset') if loader else None):
            found = True
            given = {'setting': setting}
            given.update((key, fewshot[key]) for key in DATASET_KEYS if key in fewshot)
            if loader_key == 'train_dataloader':
                given.update((key, fewshot[key]) for key in TRAIN_ONLY_KEYS
                             if key in fewshot and not (setting == 'base' and key in KSHOT_KEYS))
            for key, value in given.items():
                if key in dataset_cfg and dataset_cfg[key] != value:
                    raise ValueError(
                        f'{loader_key}.dataset: {key}={dataset_cfg[key]!r}, but fewshot.{key}='
                        f'{value!r}{"" if key in fewshot else " (its default)"} (the setting '
                        'of the whole config) would replace it: set it in one place, fewshot '
                        'or the dataset')
                dataset_cfg[key] = value
    if not found:
        raise ValueError('fewshot: the config sets few-shot settings but none of its '
                         "dataloaders holds a FewShotDataset: wrap the datasets, dict(type="
                         "'FewShotDataset', dataset=dict(type=..., ...), ...)")
    if 'base_checkpoint' in fewshot:
        for hook in cfg.get('custom_hooks') or []:
            if hook.get('type') in ('FewShotSurgeryHook', FewShotSurgeryHook):
                hook['checkpoint'] = fewshot['base_checkpoint']
    space = config_label_space(cfg)
    if space is not None:
        set_num_classes(cfg.model, space.num_classes)
        _resolve_base_detector(cfg)
    return cfg


def _resolve_base_detector(cfg: Config) -> None:
    """Give ``model.base_detector`` (a base training config file, or a model config), if the
    model has one, the size of the base detector it will hold:

    1. a trained model to be loaded (``load_from`` with ``base_labels``: testing one) keeps the
       size of its base branch;
    2. else the classes ``fewshot.base_checkpoint`` names (a path or URL mmengine loads; they
       may include classes outside this label space, whose detections are dropped);
    3. else the base classes of the split (the ``'base'`` setting's label space).
    """
    base_detector = cfg.model.get('base_detector')
    if base_detector is None:
        return
    base_detector = cfg.model['base_detector'] = base_detector_config(base_detector)
    dataset_cfg = next(dataset for key in LOADERS if cfg.get(key)
                       for dataset in iter_dataset_cfgs(cfg[key].get('dataset')))
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmdet')):
        space = fewshot_label_space(dataset_cfg['dataset'], dataset_cfg.get('class_split'),
                                    'gfsod')
    if not space.base_classes:  # every class novel: nothing to retain
        print_log('FewShotRunner: every class is novel: model.base_detector keeps its '
                  "config's num_classes and no class is retained", logger='current')
        return
    trained = _state(cfg.get('load_from')).get('base_labels')
    base_checkpoint = cfg.fewshot.get('base_checkpoint')
    if trained is not None:
        set_num_classes(base_detector, len(trained),
                        f"model.base_detector's: the base branch of {cfg.load_from}")
    elif named := _classes(base_checkpoint):
        set_num_classes(base_detector, len(named),
                        f"model.base_detector's: the classes of {base_checkpoint}")
    else:
        set_num_classes(base_detector, len(space.base_classes),
                        "model.base_detector's: the base classes of the split")


def _loadable(filename: Optional[str]) -> Optional[str]:
    """A checkpoint mmengine can load (a path, ``~`` expanded, or a URL), or None where there
    is none (a missing file is named later, by the hook that loads it)."""
    if filename and '://' not in filename:
        filename = osp.expanduser(filename)
        return filename if osp.isfile(filename) else None
    return filename or None


def _state(filename: Optional[str]) -> dict:
    """The ``state_dict`` of a checkpoint, or {} without one."""
    filename = _loadable(filename)
    if filename is None:
        return {}
    checkpoint = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
    return checkpoint.get('state_dict', checkpoint)


def _classes(filename: Optional[str]) -> tuple:
    """The class names a checkpoint's metadata gives, or () (see :func:`load_surgery_source`)."""
    filename = _loadable(filename)
    return () if filename is None else load_surgery_source(filename,
                                                           classes_required=False).classes


def set_num_classes(model_cfg: ConfigDict, num_classes: int, what: str = 'the label space of '
                    'the dataset') -> None:
    """Set ``num_classes`` of every box head in a detector config: a two-stage detector's
    ``roi_head.bbox_head`` (cascades included) or a one-stage detector's ``bbox_head``; the
    detector inside a test-time-augmentation model too."""
    if 'module' in model_cfg:  # DetTTAModel(module=detector)
        model_cfg = model_cfg['module']
    roi_head = model_cfg.get('roi_head')
    heads = roi_head.get('bbox_head') if roi_head is not None else model_cfg.get('bbox_head')
    for head in heads if isinstance(heads, list) else [heads]:
        if head is not None and head.get('num_classes') != num_classes:
            print_log(f'FewShotRunner: num_classes of {head.get("type")} set to '
                      f'{num_classes} ({what})', logger='current')
            head['num_classes'] = num_classes


def build_fewshot_dataset(config: str, split: str,
                          cfg_options: Optional[dict] = None) -> BaseDataset:
    """Build the plain (pipeline-less) dataset of a config's split, ``fewshot`` applied.

    What the tools that draw or analyse a config's data use: the same labels, k-shot selection
    and ignore flags as training and testing see, without loading images.

    Args:
        config (str): The config file.
        split (str): ``'train'``, ``'val'`` or ``'test'`` (the dataloader's name).
        cfg_options (dict, optional): Overrides merged into the config. Defaults to None.

    Returns:
        BaseDataset: The dataset (the few-shot one inside any wrapper), fully initialised.
    """
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    cfg = apply_fewshot_settings(cfg)
    dataset_cfg = cfg[f'{split}_dataloader'].dataset
    dataset_cfg = next(iter_dataset_cfgs(dataset_cfg), dataset_cfg)
    dataset_cfg.update(pipeline=[])
    dataset = DATASETS.build(dataset_cfg)
    dataset.full_init()
    return dataset


@RUNNERS.register_module()
class FewShotRunner(Runner):
    """An mmengine :class:`~mmengine.runner.Runner` that resolves ``cfg.fewshot`` first."""

    @classmethod
    def from_cfg(cls, cfg: Config) -> Runner:
        """Build a runner from a config whose ``fewshot`` settings are applied (and whose
        model wrapper suits a distributed run on CPU: :func:`with_cpu_model_wrapper`).

        Args:
            cfg (Config): The config.

        Returns:
            Runner: The runner.

        Raises:
            ValueError: A dataset outside ``FewShotDataset``, a ``CocoMetric`` with an
                ``ann_file`` that would label the classes otherwise than the label space or
                that is not the file of the dataset it evaluates (:mod:`.label_order`), or an
                evaluated dataset wrapping several ``FewShotDataset``s
                (:func:`check_evaluated_images_apart`).
        """
        cfg = apply_fewshot_settings(cfg)
        check_evaluated_images_apart(cfg)
        space = config_label_space(cfg)
        classes = None if space is None else space.classes
        for key in LOADERS:
            if cfg.get(key):
                check_dataset_labels(cfg[key].get('dataset'), classes, f'{key}.dataset',
                                     _is_fewshot_dataset)
        for key in ('val_evaluator', 'test_evaluator'):
            if classes is not None and cfg.get(key):
                check_coco_metric_labels(cfg[key], classes, key)
            loader_key = key.replace('evaluator', 'dataloader')
            if cfg.get(key) and cfg.get(loader_key):
                check_coco_metric_file(cfg[key], cfg[loader_key].get('dataset'), key,
                                       f'{loader_key}.dataset', _is_fewshot_dataset)
        return super().from_cfg(with_cpu_model_wrapper(cfg))
