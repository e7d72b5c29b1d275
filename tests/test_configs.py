"""Every shipped config parses, resolves its `fewshot` settings and builds its parts."""
from pathlib import Path

import pytest
from mmdet.registry import DATA_SAMPLERS, DATASETS, HOOKS, MODELS
from mmengine.config import Config

import mmfs_plugin  # noqa: F401
from mmfs_plugin.synthetic.generator import generate_synthetic_mvtecfs
from mmfs_plugin.engine import apply_fewshot_settings

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / 'configs').rglob('*.py')
                 if '_base_' not in p.parts)


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('demo')
    generate_synthetic_mvtecfs(str(root))
    return root


@pytest.mark.parametrize('config', CONFIGS)
def test_config_resolves_and_builds(config, demo_root, tmp_path):
    cfg = Config.fromfile(str(ROOT / config))
    assert 'mmfs_plugin' in cfg.custom_imports['imports']
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[loader].dataset
        dataset.data_root = f'{demo_root}/'
        dataset.cache_dir = str(tmp_path / 'cache')
        if dataset.type == 'LabelmeDataset':
            dataset.ann_file = 'image/bottle/'
            dataset.metainfo = dict(classes=('broken_large', 'broken_small', 'contamination'))
            dataset.class_split = None
        elif 'demo' not in config:  # full MVTec-FS configs: the demo tree's categories
            dataset.categories = ['bottle', 'screw', 'wood']
    if 'labelme' in config:
        cfg.fewshot.class_split = dict(novel=['contamination'])
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
