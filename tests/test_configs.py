"""Every shipped config parses, states the label space its fewshot settings give, and builds."""
import logging
from pathlib import Path

import pytest
import torch
from mmdet.registry import DATA_SAMPLERS, DATASETS, HOOKS, MODELS
from mmengine.config import Config

import mmfs_plugin  # noqa: F401
from mmfs_plugin.engine import apply_fewshot_settings
from mmfs_plugin.engine.fewshot_runner import iter_dataset_cfgs
from mmfs_data.synthetic.generator import generate_synthetic_mvtecfs

from .format_trees import write_coco, write_voc
from .labelme_tree import write_flat_tree

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / 'configs').rglob('*.py')
                 if '_base_' not in p.parts and 'splits' not in p.parts)


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('demo')
    generate_synthetic_mvtecfs(str(root))
    return root


@pytest.fixture(scope='module')
def benchmark_roots(tmp_path_factory):
    """Miniature VOCdevkit and COCO trees with the benchmarks' class names."""
    from mmdet.datasets import CocoDataset, VOCDataset
    voc = str(tmp_path_factory.mktemp('VOCdevkit'))
    for year, split, seed in (('2007', 'trainval', 0), ('2012', 'trainval', 1),
                              ('2007', 'test', 2)):
        write_voc(voc, year, split, 16, seed, classes=VOCDataset.METAINFO['classes'])
    coco = str(tmp_path_factory.mktemp('coco'))
    for name, seed in (('train', 0), ('val', 1)):
        write_coco(coco, name, 12, seed, classes=CocoDataset.METAINFO['classes'])
    return voc, coco


@pytest.mark.parametrize('config', CONFIGS)
def test_config_states_the_label_space_of_its_fewshot_settings(config):
    """The box head of the config file (what mmdet's DetInferencer and init_detector build)
    has as many classes as the label space FewShotRunner resolves; no data is read."""
    cfg = Config.fromfile(str(ROOT / config))
    assert 'mmfs_plugin' in cfg.custom_imports['imports']
    stated = cfg.model.roi_head.bbox_head.num_classes
    assert apply_fewshot_settings(cfg).model.roi_head.bbox_head.num_classes == stated


@pytest.mark.parametrize('config', CONFIGS)
def test_evaluated_data_samples_carry_their_image_and_ground_truth(config):
    """FewShotCocoMetric scores the data samples' instances and refuses one img_id naming two
    images (img_path): PackDetInputs of every evaluation pipeline passes both."""
    cfg = Config.fromfile(str(ROOT / config))
    for loader in ('val_dataloader', 'test_dataloader'):
        for fewshot_dataset in iter_dataset_cfgs(cfg[loader].dataset):
            packs = [step for step in fewshot_dataset.pipeline
                     if step.type in ('PackDetInputs', 'mmdet.PackDetInputs')]
            assert len(packs) == 1, (loader, fewshot_dataset.pipeline)
            assert {'img_id', 'img_path', 'instances'} <= set(packs[0].meta_keys), loader


@pytest.mark.parametrize('config', CONFIGS)
def test_config_resolves_and_builds(config, demo_root, benchmark_roots, tmp_path):
    cfg = Config.fromfile(str(ROOT / config))
    voc_root, coco_root = benchmark_roots
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for fewshot_dataset in iter_dataset_cfgs(cfg[loader].dataset):
            inner = fewshot_dataset.dataset
            if isinstance(inner, list) or inner.type == 'VOCDataset':
                for part in inner if isinstance(inner, list) else [inner]:
                    part.data_root = f'{voc_root}/'
            elif inner.type == 'CocoDataset' and 'metainfo' in inner:  # a user's classes
                root = tmp_path / 'coco'
                write_coco(str(root), 'data', 12, 0, classes=inner.metainfo['classes'])
                inner.update(data_root=f'{root}/', ann_file='data.json',
                             data_prefix=dict(img='images/'))
            elif inner.type == 'CocoDataset':
                name = 'train' if loader == 'train_dataloader' else 'val'
                inner.update(data_root=f'{coco_root}/', ann_file=f'{name}.json',
                             data_prefix=dict(img='images/'))
            elif inner.type == 'LabelmeDataset':  # a generated tree with the config's classes
                root = tmp_path / 'labelme'
                write_flat_tree(str(root), inner.metainfo['classes'])
                inner.update(data_root=f'{root}/', ann_file='')
            else:
                inner.data_root = f'{demo_root}/'
                if 'demo' not in config:  # full MVTec-FS configs: the demo tree's categories
                    inner.categories = ['bottle', 'screw', 'wood']
    cfg = apply_fewshot_settings(cfg)
    train_set = DATASETS.build(cfg.train_dataloader.dataset)
    classes = train_set.metainfo['classes']
    assert cfg.model.roi_head.bbox_head.num_classes == len(classes)
    if cfg.fewshot.get('shots'):
        assert train_set.kshot_selection is not None
        assert train_set.metainfo['novel_classes']
    sampler = cfg.train_dataloader.sampler.copy()
    DATA_SAMPLERS.build(sampler, default_args=dict(dataset=train_set, seed=0))
    model_cfg = cfg.model.copy()
    model_cfg.backbone.init_cfg = None
    model = MODELS.build(model_cfg)
    assert model.roi_head.bbox_head.num_classes == len(classes)
    for hook in cfg.get('custom_hooks', []):
        HOOKS.build(hook)


RECIPE_CONFIGS = ['configs/fsdet_1shot.py', 'configs/fsdet_3shot.py', 'configs/fsdet_5shot.py',
                  'configs/demo/demo_5shot.py', 'configs/examples/my_coco_5shot.py',
                  'configs/examples/my_labelme_5shot.py'] + [
                      f'configs/retentive_tfa/retentive-tfa_r18-light-fpn_neu-det_{shots}shot.py'
                      for shots in (1, 3, 5, 10)]


@pytest.mark.parametrize('config', RECIPE_CONFIGS)
def test_shipped_finetuning_configs_use_the_default_recipe(config):
    """The fine-tuning configs train the recipe of configs/retentive_tfa/: the retentive
    detector with every layer trainable, the selected images with all their boxes, and the
    few shots augmented in size and orientation."""
    cfg = Config.fromfile(str(ROOT / config))
    assert cfg.model.type == 'RetentiveTFA'
    assert list(cfg.model.frozen_parameters) == []
    assert cfg.model.roi_head.bbox_head.type == 'CosineSimBBoxHead'
    assert cfg.fewshot.unselected == 'keep'
    hooks = [hook['type'] for hook in cfg.custom_hooks]
    assert 'FewShotSurgeryHook' in hooks
    transforms = {step['type']: step for step in cfg.train_dataloader.dataset.pipeline}
    assert transforms['RandomResize']['ratio_range'] == (0.84, 1.16)
    assert set(transforms['RandomFlip']['direction']) == {'horizontal', 'vertical', 'diagonal'}


RETENTIVE_CONFIGS = [config for config in CONFIGS
                     if isinstance(Config.fromfile(str(ROOT / config)).model.get('base_detector'),
                                   str)]


@pytest.mark.parametrize('config', RETENTIVE_CONFIGS)
def test_the_fine_tuned_detector_has_the_base_detectors_backbone_and_neck(config):
    """Both branches of the recipe start from one base checkpoint: the fine-tuned detector's
    backbone and neck have the parameters (names, shapes) and norm layers of the base training
    config it names, so every backbone and neck weight of the checkpoint loads into both."""
    cfg = Config.fromfile(str(ROOT / config))
    base = Config.fromfile(cfg.model.base_detector).model

    def layout(model_cfg):
        modules = [MODELS.build(model_cfg[part]) for part in ('backbone', 'neck')]
        return [{name: (type(module).__name__, tuple(p.shape) if p is not None else None)
                 for name, module in part.named_modules()
                 for p in [getattr(module, 'weight', None)]} for part in modules]

    assert layout(cfg.model) == layout(base)
    assert cfg.model.backbone.get('init_cfg') is None  # its weights come from the checkpoint


def test_a_nan_loss_stops_training_at_that_iteration():
    runtime = Config.fromfile(str(Path(__file__).resolve().parents[1] / 'configs' / '_base_' /
                                  'fewshot_runtime.py'))
    (hook_cfg, ) = [h for h in runtime.custom_hooks if h['type'] == 'CheckInvalidLossHook']
    hook = HOOKS.build(hook_cfg)

    class Runner:  # what the hook reads of mmengine's runner
        iter = 6
        logger = logging.getLogger('test')

    hook.after_train_iter(Runner(), 6, outputs=dict(loss=torch.tensor(0.7)))  # a finite loss
    for bad in (float('nan'), float('inf')):
        with pytest.raises(AssertionError):
            hook.after_train_iter(Runner(), 6, outputs=dict(loss=torch.tensor(bad)))
