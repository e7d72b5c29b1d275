"""FewShotRunner: apply a config's ``fewshot`` settings to its datasets and model.

A config states the few-shot protocol once, at the top level::

    runner_type = 'mmdet.FewShotRunner'
    fewshot = dict(setting='gfsod', class_split='split1', shots=5, seed=0)

and every part that depends on it follows: the datasets of the train/val/test dataloaders
(``class_split`` everywhere; ``subset`` from the setting; ``shots``, ``base_shots``, ``seed``,
``unselected`` on the training set), the box head's ``num_classes`` (the size of the label
space) and the checkpoint of :class:`FewShotSurgeryHook` (``base_checkpoint``). So
``--cfg-options fewshot.seed=3 fewshot.class_split=split2`` changes one value, and mmdet's own
``tools/train.py`` gets the same behaviour (it builds ``runner_type`` configs through the
``RUNNERS`` registry).
"""
import copy
from typing import Any, Iterator, MutableMapping, Optional

from mmdet.registry import DATASETS, RUNNERS
from mmengine.config import Config, ConfigDict
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from ..datasets import LabelmeDataset
from .surgery_hook import FewShotSurgeryHook

#: setting -> the label space (``subset``) of the training and evaluation datasets.
SETTINGS = {
    'base': 'base',  # base training: base classes, all their instances
    'gfsod': 'all',  # generalized FSOD (TFA): k shots of every base and novel class
    'fsod': 'novel',  # FSOD: k shots of the novel classes only
}
TRAIN_ONLY_KEYS = ('shots', 'base_shots', 'seed', 'unselected', 'load_selection')


def _is_fewshot_dataset(cfg: Any) -> bool:
    """Whether a dataset config builds a :class:`LabelmeDataset` (or a subclass)."""
    if not isinstance(cfg, MutableMapping) or 'type' not in cfg:
        return False
    dataset_type = cfg['type']
    if isinstance(dataset_type, str):
        dataset_type = DATASETS.get(dataset_type)
    return isinstance(dataset_type, type) and issubclass(dataset_type, LabelmeDataset)


def iter_dataset_cfgs(cfg: Any) -> Iterator[MutableMapping]:
    """Yield the few-shot dataset configs inside a dataset config and its wrappers."""
    if _is_fewshot_dataset(cfg):
        yield cfg
    elif isinstance(cfg, MutableMapping):
        inner = cfg.get('datasets', cfg.get('dataset'))
        for item in inner if isinstance(inner, list) else [inner]:
            yield from iter_dataset_cfgs(item)


def apply_fewshot_settings(cfg: Config) -> Config:
    """Return a copy of ``cfg`` with its ``fewshot`` settings applied (see the module doc).

    Args:
        cfg (Config): A config; without a ``fewshot`` key it is returned unchanged.

    Returns:
        Config: The resolved config.
    """
    fewshot = cfg.get('fewshot')
    if not fewshot:
        return cfg
    cfg = copy.deepcopy(cfg)
    setting = fewshot.get('setting', 'gfsod')
    if setting not in SETTINGS:
        raise ValueError(f'fewshot.setting must be one of {sorted(SETTINGS)}, got {setting!r}')
    for loader_key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(loader_key)
        if not loader:
            continue
        for dataset_cfg in iter_dataset_cfgs(loader.get('dataset')):
            dataset_cfg['subset'] = SETTINGS[setting]
            if 'class_split' in fewshot:
                dataset_cfg['class_split'] = fewshot['class_split']
            if loader_key == 'train_dataloader':
                for key in TRAIN_ONLY_KEYS:
                    if key in fewshot:
                        dataset_cfg[key] = fewshot[key]
    if 'base_checkpoint' in fewshot:
        for hook in cfg.get('custom_hooks') or []:
            if hook.get('type') in ('FewShotSurgeryHook', FewShotSurgeryHook):
                hook['checkpoint'] = fewshot['base_checkpoint']
    num_classes = label_space_size(cfg)
    if num_classes is not None:
        set_num_classes(cfg.model, num_classes)
    return cfg


def label_space_size(cfg: Config) -> Optional[int]:
    """Build the training (else the test) dataset and return its number of classes."""
    for loader_key in ('train_dataloader', 'test_dataloader'):
        loader = cfg.get(loader_key)
        dataset_cfgs = list(iter_dataset_cfgs(loader.get('dataset'))) if loader else []
        if dataset_cfgs:
            dataset_cfg = copy.deepcopy(dataset_cfgs[0])
            dataset_cfg.update(pipeline=[], serialize_data=False)
            dataset_cfg.pop('_scope_', None)
            return len(DATASETS.build(dataset_cfg).metainfo['classes'])
    return None


def set_num_classes(model_cfg: ConfigDict, num_classes: int) -> None:
    """Set ``num_classes`` of every box head in a detector config (cascades included)."""
    roi_head = model_cfg.get('roi_head')
    if roi_head is None:
        return
    heads = roi_head.get('bbox_head')
    for head in heads if isinstance(heads, list) else [heads]:
        if head is not None and head.get('num_classes') != num_classes:
            print_log(f'FewShotRunner: num_classes of {head.get("type")} set to '
                      f'{num_classes} (the label space of the dataset)', logger='current')
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
        """Build a runner from a config whose ``fewshot`` settings are applied.

        Args:
            cfg (Config): The config.

        Returns:
            Runner: The runner.
        """
        return super().from_cfg(apply_fewshot_settings(cfg))
