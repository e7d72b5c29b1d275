"""The README's one-file user config, configs/examples/my_coco_5shot.py, on a user's COCO data."""
from pathlib import Path

import pytest
from mmdet.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmfs_plugin  # noqa: F401
from mmfs_plugin.engine import apply_fewshot_settings

from .format_trees import write_coco

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ('scratch', 'dent', 'stain', 'crack')  # the config's classes; 'crack' is novel


def users_config(config: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 train_images: int) -> Config:
    """A user's COCO data where the example configs' `data_root` points (data/my_parts/,
    train.json and test.json with images/), and the example config over it, resolved."""
    data = tmp_path / 'data' / 'my_parts'
    write_coco(str(data), 'train', train_images, 0, classes=CLASSES)
    write_coco(str(data), 'test', 8, 1, classes=CLASSES)
    monkeypatch.chdir(tmp_path)
    init_default_scope('mmdet')
    return apply_fewshot_settings(Config.fromfile(str(ROOT / 'configs/examples' / config)))


def test_one_file_config_builds_on_the_users_coco_data(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's data builds as the config states it: their classes, their base/novel split,
    5 shots of every class, and a box head of as many classes."""
    cfg = users_config('my_coco_5shot.py', tmp_path, monkeypatch, train_images=24)

    train_set = DATASETS.build(cfg.train_dataloader.dataset)
    test_set = DATASETS.build(cfg.test_dataloader.dataset)
    for dataset in (train_set, test_set):
        assert dataset.metainfo['classes'] == CLASSES
        assert dataset.metainfo['base_classes'] == CLASSES[:3]
        assert dataset.metainfo['novel_classes'] == ('crack',)
    assert len(test_set) == 8  # every test image, none drawn
    selection = train_set.kshot_selection.selection
    assert sorted(selection) == sorted(CLASSES)
    assert all(len(keys) == 5 for keys in selection.values())

    model_cfg = cfg.model.copy()
    model_cfg.backbone.init_cfg = None  # no download in a test
    model = MODELS.build(model_cfg)
    assert cfg.model.roi_head.bbox_head.num_classes == len(CLASSES)
    assert model.roi_head.bbox_head.num_classes == len(CLASSES)
    # the frozen base branch is the base training's detector, sized to the 3 base classes
    assert cfg.model.base_detector.roi_head.bbox_head.num_classes == 3
    assert model.base_detector.roi_head.bbox_head.num_classes == 3


def test_base_training_config_on_the_users_coco_data(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Step 1, configs/examples/my_coco_base.py: every instance of the 3 base classes."""
    cfg = users_config('my_coco_base.py', tmp_path, monkeypatch, train_images=12)
    train_set = DATASETS.build(cfg.train_dataloader.dataset)
    assert train_set.metainfo['classes'] == CLASSES[:3]
    assert cfg.model.roi_head.bbox_head.num_classes == 3
    labels = {instance['bbox_label'] for index in range(len(train_set))
              for instance in train_set.get_data_info(index)['instances']
              if not instance['ignore_flag']}
    assert labels == {0, 1, 2}  # cracks in these images are ignore regions (label -1)
