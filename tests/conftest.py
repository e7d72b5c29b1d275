"""Shared pytest fixtures and markers."""
from pathlib import Path

import pytest
from mmengine.registry import init_default_scope

from mmfs_data.synthetic.generator import generate_synthetic_mvtecfs

from .tiny_coco import make_tiny_coco, write_tiny_config


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers of this test suite.

    Args:
        config (pytest.Config): The pytest config.
    """
    config.addinivalue_line(
        'markers', 'slow: takes more than 30 s on 2 CPU cores; runs by '
        'default, deselect with -m "not slow"')


@pytest.fixture(scope='session')
def tiny_coco_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Faster R-CNN config over a generated 4-image COCO dataset.

    Args:
        tmp_path_factory (pytest.TempPathFactory): pytest's factory.

    Returns:
        Path: The config file (training: 2 iterations, one checkpoint).
    """
    data_root = tmp_path_factory.mktemp('tiny_coco')
    make_tiny_coco(data_root)
    return write_tiny_config(data_root / 'tiny_faster_rcnn.py', data_root)


@pytest.fixture(scope='session')
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic demo set (tools/dataset_converters/make_synthetic_mvtecfs.py's default),
    made once a session.

    Tests read it and must not change it.

    Args:
        tmp_path_factory (pytest.TempPathFactory): pytest's factory.

    Returns:
        Path: The data root (an MVTec-FS labelme tree).
    """
    data_root = tmp_path_factory.mktemp('demo_mvtec_fs')
    generate_synthetic_mvtecfs(str(data_root))
    return data_root


@pytest.fixture(autouse=True)
def mmdet_default_scope() -> None:
    """Start every test in mmdet's default scope, as mmdet's tools do.

    A Runner built by an earlier test leaves its own scope (e.g. ``mmengine``) as the current
    one, and registries resolve names through the current scope.
    """
    init_default_scope('mmdet')
