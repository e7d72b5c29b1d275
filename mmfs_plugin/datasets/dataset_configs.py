"""The configs of the datasets a :class:`~.FewShotDataset` wraps: building them with the
remedy named on a wrong key, and their classes and label space, known from the config alone."""
import copy
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from mmdet.datasets import BaseDetDataset, XMLDataset
from mmdet.registry import DATASETS
from mmengine.config import ConfigDict

from mmfs_data.fewshot.classes import check_class_names
from mmfs_data.fewshot.label_space import LabelSpace, resolve_label_space
from mmfs_data.fewshot.splits import SplitSpec

DatasetCfg = Union[dict, ConfigDict]
#: Dataset keys of mmdet 2.x -> what mmdet 3 takes instead.
MMDET2_KEYS = {'classes': 'metainfo=dict(classes=...)', 'img_prefix': 'data_prefix=dict(img=...)',
               'seg_prefix': 'data_prefix=dict(seg=...)',
               'filter_empty_gt': 'filter_cfg=dict(filter_empty_gt=...)'}


def dataset_class(cfg: Mapping[str, Any]) -> type:
    """The class a dataset config builds (a registered name or a class)."""
    dataset_type = cfg.get('type')
    cls = DATASETS.get(dataset_type) if isinstance(dataset_type, str) else dataset_type
    if not isinstance(cls, type) or not issubclass(cls, BaseDetDataset):
        raise TypeError(f'FewShotDataset: dataset.type: {dataset_type!r} is not a registered '
                        'mmdet detection dataset (a BaseDetDataset)')
    return cls


def build_dataset(cfg: Mapping[str, Any], cls: type, **overrides: Any) -> BaseDetDataset:
    """Instantiate ``cls`` with a config's arguments and ``overrides``.

    Raises:
        TypeError: A key of the config that ``cls`` does not take, or a ``data_prefix`` that
            is not a dict (mmengine's bare ``AttributeError``), named with the remedy.
    """
    args = {key: value for key, value in dict(cfg).items() if key not in ('type', '_scope_')}
    args.update(overrides)
    prefix = args.get('data_prefix', {})
    if not isinstance(prefix, Mapping):
        folder = repr(prefix) if isinstance(prefix, str) else "'...'"
        key, what = (('sub_data_root', 'the folder of Annotations/ and JPEGImages/')
                     if issubclass(cls, XMLDataset) else ('img', 'the folder of the images'))
        raise TypeError(f'FewShotDataset: dataset: data_prefix must be a dict, got '
                        f'{prefix!r:.80}: {cls.__name__} takes data_prefix=dict({key}='
                        f'{folder:.80}) ({what}, relative to data_root)')
    try:
        return cls(**args)
    except TypeError as err:
        if 'unexpected keyword argument' not in str(err):
            raise
        old = [key for key in MMDET2_KEYS if f"argument '{key}'" in str(err)]
        if old:
            raise TypeError(f'FewShotDataset: dataset: {cls.__name__} does not take {old[0]}= '
                            f'(mmdet 2.x\'s): mmdet 3 takes {MMDET2_KEYS[old[0]]}') from err
        if '_delete_' in cfg:  # mmengine consumes it only where a dict merges into a dict
            raise TypeError(f'FewShotDataset: dataset: a _delete_ key reached {cls.__name__} '
                            '(in a list of datasets, or with no base dict to replace): remove '
                            'it there; a list replaces the base config\'s dataset whole') from err
        raise TypeError(f'FewShotDataset: dataset: {cls.__name__} does not take one of the '
                        f'keys {sorted(cfg)} ({err}); a key inherited from a base '
                        "config's dataset? Set _delete_=True in the dataset dict") from err


def as_cfg_list(dataset: Union[DatasetCfg, Sequence[DatasetCfg]]) -> List[Dict[str, Any]]:
    """One dataset config or a list of them (concatenated), as plain dict copies."""
    cfgs = list(dataset) if isinstance(dataset, (list, tuple)) else [dataset]
    if not cfgs or not all(isinstance(cfg, Mapping) and 'type' in cfg for cfg in cfgs):
        raise TypeError('FewShotDataset: dataset must be a dataset config (a dict with "type") '
                        f'or a list of them, got {dataset!r:.200}')
    return [copy.deepcopy(dict(cfg)) for cfg in cfgs]


def dataset_classes(dataset: Union[DatasetCfg, Sequence[DatasetCfg]]) -> Tuple[str, ...]:
    """Every class of a dataset config, without reading annotations: ``metainfo.classes``, else
    the type's default (COCO's 80, VOC's 20, MVTec-FS's Table 1); concatenated configs agree.

    Args:
        dataset (dict | list[dict]): The wrapped dataset config(s).

    Returns:
        tuple[str, ...]: The class names, in label order.

    Raises:
        ValueError: No class list is known from the config (a ``LabelmeDataset`` without
            ``classes``: the message lists the labels found), ``metainfo`` spells ``classes``
            in another case (mmdet 2.x's ``CLASSES``), or the configs disagree.
    """
    found: Optional[Tuple[str, ...]] = None
    for cfg in as_cfg_list(dataset):
        cls = dataset_class(cfg)
        where = f'{cls.__name__}: metainfo.classes'
        metainfo = cfg.get('metainfo') or {}
        given = metainfo.get('classes')
        variant = [key for key in metainfo if key != 'classes' and str(key).lower() == 'classes']
        if given is None and variant:  # mmdet would use the type's default classes
            raise ValueError(f'FewShotDataset: dataset: {cls.__name__}: metainfo has '
                             f'{variant[0]!r} but no \'classes\': mmdet 3 reads '
                             f'{MMDET2_KEYS["classes"]}')
        names = check_class_names(given, where) if given is not None else tuple(
            build_dataset(cfg, cls, lazy_init=True, pipeline=[]).metainfo.get('classes') or ())
        if not names:
            raise ValueError(
                f'FewShotDataset: the class list of {cls.__name__} (data_root '
                f'{cfg.get("data_root")!r}, ann_file {cfg.get("ann_file")!r}) is not known from '
                'the config: set metainfo=dict(classes=(...)) on it, so that training, '
                'validation, testing and inference share one label space'
                + _labels_found_hint(cfg, cls))
        names = check_class_names(names, where)
        if found is not None and names != found:
            raise ValueError(f'FewShotDataset: the concatenated datasets have different classes: '
                             f'{list(found)} and {list(names)}')
        found = names
    assert found is not None
    return found


def _labels_found_hint(cfg: Mapping[str, Any], cls: type) -> str:
    """``' (labels found: [...])'`` for a dataset that infers its classes, else ''."""
    try:
        names = build_dataset(cfg, cls, pipeline=[], serialize_data=False).metainfo.get('classes')
    except Exception:  # the hint is best effort; the error above stands on its own
        return ''
    return f' (labels found there: {list(names)})' if names else ''


def fewshot_label_space(dataset: Union[DatasetCfg, Sequence[DatasetCfg]],
                        class_split: SplitSpec = None, setting: str = 'gfsod') -> LabelSpace:
    """The label space of a :class:`FewShotDataset` config, from the config alone.

    Args:
        dataset (dict | list[dict]): The wrapped dataset config(s).
        class_split (None | str | dict): The base/novel split. Defaults to None.
        setting (str): ``'base'``, ``'gfsod'`` or ``'fsod'``. Defaults to ``'gfsod'``.

    Returns:
        LabelSpace: The label space.
    """
    return resolve_label_space(dataset_classes(dataset), class_split, setting)
