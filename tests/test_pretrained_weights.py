"""The pretrained weights of the shipped configs' ``init_cfg``: found in torch's hub cache and
loaded, never downloaded when they are there; when they cannot be had, one line that names them,
the config key holding them and the option pointing it at a local file (tools/train.py, before
anything is built).

The weights are made here: random ResNet weights under the file names of torchvision's releases,
in a hub cache of ``tmp_path`` (``TORCH_HOME``), so that nothing is downloaded.
"""
import subprocess
import sys
from pathlib import Path
from typing import Dict, Tuple
from urllib.error import URLError

import pytest
import torch
from mmdet.models.backbones import ResNet
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import checkpoint as mmengine_checkpoint

import mmfs_plugin  # noqa: F401
from mmfs_plugin.engine.pretrained import (PretrainedWeightsError, checkpoint_url,
                                           iter_pretrained_init_cfgs, resolve_pretrained)

from .tool_runs import TOOLS, free_port, tool_env

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / 'configs').rglob('*.py')
                 if '_base_' not in p.parts and 'splits' not in p.parts)
#: The pretrained weights the shipped configs start from: file name (torchvision's) and depth.
WEIGHTS = {
    'torchvision://resnet50': ('resnet50-0676ba61.pth', 50),
    'torchvision://resnet101': ('resnet101-63fe2227.pth', 101),
}
URL = 'https://download.pytorch.org/models/resnet50-0676ba61.pth'
KEY = 'model.backbone.init_cfg.checkpoint'
#: The checkpoints whose model was built and initialised already (each once: 2-8 s on a CPU).
BUILT = set()


def refuse_download(*args: object, **kwargs: object) -> None:
    """Stands in for every download function: a test that downloads fails."""
    raise AssertionError(f'a download was attempted: {args}')


@pytest.fixture
def no_download(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch.hub's and mmengine's download functions fail the test."""
    monkeypatch.setattr(torch.hub, 'download_url_to_file', refuse_download)
    monkeypatch.setattr(torch.hub, 'load_state_dict_from_url', refuse_download)
    monkeypatch.setattr(mmengine_checkpoint, 'load_url', refuse_download)


@pytest.fixture(scope='module')
def served_weights(tmp_path_factory: pytest.TempPathFactory
                   ) -> Tuple[Path, Dict[str, Dict[str, torch.Tensor]]]:
    """A torch home whose hub cache holds random weights under torchvision's file names.

    Returns:
        tuple: The torch home, and each checkpoint's state dict (torchvision's keys: a ResNet's
        and its ``fc``).
    """
    home = tmp_path_factory.mktemp('torch_home')
    (home / 'hub/checkpoints').mkdir(parents=True)
    generator = torch.Generator().manual_seed(0)
    state_dicts = {}
    for checkpoint, (file_name, depth) in WEIGHTS.items():
        state_dict = {
            key: torch.randn(value.shape, generator=generator) if value.is_floating_point()
            else value
            for key, value in ResNet(depth).state_dict().items()
        }
        state_dict.update({'fc.weight': torch.zeros(1000, 2048), 'fc.bias': torch.zeros(1000)})
        torch.save(state_dict, home / 'hub/checkpoints' / file_name)
        state_dicts[checkpoint] = state_dict
    return home, state_dicts


@pytest.fixture
def hub_cache(served_weights: tuple, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``TORCH_HOME`` set to the served weights' home.

    Returns:
        Path: The hub cache of checkpoints.
    """
    monkeypatch.setenv('TORCH_HOME', str(served_weights[0]))
    monkeypatch.setattr(torch.hub, '_hub_dir', None)  # in case torch.hub.set_dir was called
    return served_weights[0] / 'hub/checkpoints'


@pytest.fixture
def empty_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``TORCH_HOME`` set to an empty folder.

    Returns:
        Path: The (missing) hub cache of checkpoints.
    """
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setattr(torch.hub, '_hub_dir', None)
    return tmp_path / 'torch_home/hub/checkpoints'


@pytest.mark.parametrize('config', CONFIGS)
def test_shipped_config_loads_its_pretrained_weights_from_the_hub_cache(
        config: str, served_weights: tuple, hub_cache: Path, no_download: None) -> None:
    """Every Pretrained checkpoint of a shipped config is one of WEIGHTS, resolved to its file in
    the hub cache; the model built from the resolved config holds exactly those weights after
    init_weights() (the first config of each checkpoint is built). Configs without pretrained
    weights (fine-tuning, R18) need none."""
    cfg = Config.fromfile(str(ROOT / config))
    resolved = resolve_pretrained(cfg)
    assert [item.key for item in resolved] == [key for key, _ in
                                               iter_pretrained_init_cfgs(cfg.model)]
    if not resolved:
        return
    [item] = resolved
    assert (item.key, item.checkpoint in WEIGHTS) == (KEY, True)
    assert item.file == str(hub_cache / WEIGHTS[item.checkpoint][0])
    assert cfg.model.backbone.init_cfg.checkpoint == item.file
    if item.checkpoint in BUILT:
        return
    BUILT.add(item.checkpoint)
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    model.init_weights()
    saved = served_weights[1][item.checkpoint]
    loaded = model.backbone.state_dict()
    assert set(loaded) < set(saved)
    assert all(torch.equal(value, saved[key]) for key, value in loaded.items())


def test_hub_cache_file_is_the_one_mmengine_loads(hub_cache: Path, served_weights: tuple,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """mmengine's own loader of the URL (torch.hub) reads the file resolve_pretrained names."""
    monkeypatch.setattr(torch.hub, 'download_url_to_file', refuse_download)
    assert checkpoint_url('torchvision://resnet50') == (URL, None)
    state_dict = mmengine_checkpoint.load_from_http(URL, map_location='cpu')
    saved = served_weights[1]['torchvision://resnet50']
    assert all(torch.equal(state_dict[key], value) for key, value in saved.items())


def test_missing_weights_that_cannot_be_downloaded_raise_one_line(
        empty_hub: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(url: str, dst: str, *args: object, **kwargs: object) -> None:
        raise URLError('[Errno -3] Temporary failure in name resolution')

    monkeypatch.setattr(torch.hub, 'download_url_to_file', no_network)
    cfg = Config.fromfile(str(ROOT / 'configs/fsdet_base.py'))
    with pytest.raises(PretrainedWeightsError) as error:
        resolve_pretrained(cfg)
    message = str(error.value)
    assert '\n' not in message
    assert message == (
        f"{cfg.filename}: {KEY}: torchvision://resnet50 ({URL}) is not in torch's hub cache and "
        'cannot be downloaded (URLError: <urlopen error [Errno -3] Temporary failure in name '
        f"resolution>); put resnet50-0676ba61.pth into {empty_hub}/ (torch's hub cache, "
        '$TORCH_HOME/hub/checkpoints/) or pass --cfg-options '
        f'{KEY}=/path/to/resnet50-0676ba61.pth')
    assert cfg.model.backbone.init_cfg.checkpoint == 'torchvision://resnet50'
    assert not any(empty_hub.glob('*'))


def test_missing_weights_are_downloaded_into_the_hub_cache(
        empty_hub: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    downloads = []

    def fake_download(url: str, dst: str, hash_prefix: object = None,
                      progress: bool = True) -> None:
        downloads.append((url, dst))
        Path(dst).write_bytes(b'weights')

    monkeypatch.setattr(torch.hub, 'download_url_to_file', fake_download)
    cfg = Config.fromfile(str(ROOT / 'configs/fsdet_base.py'))
    [item] = resolve_pretrained(cfg)
    file = str(empty_hub / 'resnet50-0676ba61.pth')
    assert downloads == [(URL, file)]
    assert (item.checkpoint, item.url, item.file) == ('torchvision://resnet50', URL, file)
    assert cfg.model.backbone.init_cfg.checkpoint == file
    resolve_pretrained(Config.fromfile(str(ROOT / 'configs/fsdet_base.py')))
    assert len(downloads) == 1  # found in the cache the second time


def test_local_checkpoint_must_be_a_file(tmp_path: Path, no_download: None) -> None:
    cfg = Config.fromfile(str(ROOT / 'configs/fsdet_base.py'))
    weights = tmp_path / 'resnet50-0676ba61.pth'
    cfg.merge_from_dict({KEY: str(weights)})
    with pytest.raises(PretrainedWeightsError) as error:
        resolve_pretrained(cfg)
    assert str(error.value) == (
        f'{cfg.filename}: {KEY}: {weights}: no such file ({weights}); pass --cfg-options '
        f'{KEY}=/path/to/resnet50-0676ba61.pth')
    weights.write_bytes(b'weights')
    [item] = resolve_pretrained(cfg)
    assert (item.url, item.file) == (None, str(weights))
    assert cfg.model.backbone.init_cfg.checkpoint == str(weights)


def test_torchvision_names_resolve_without_torchvision(monkeypatch: pytest.MonkeyPatch) -> None:
    """The names of the shipped configs are in the table mmengine ships; newer names need
    torchvision, and the error says so."""
    monkeypatch.setitem(sys.modules, 'torchvision', None)  # import torchvision fails
    assert checkpoint_url('torchvision://resnet50') == (URL, None)
    assert checkpoint_url('torchvision://resnet101')[0].endswith('/resnet101-63fe2227.pth')
    with pytest.raises(LookupError, match=r'^torchvision://resnet50\.imagenet1k_v2: not a name '
                       r'of torchvision weights that mmengine knows; torchvision does not '
                       r'import \((ModuleNotFound|Import)Error: .*\), which resolves the newer '
                       r'names$'):
        checkpoint_url('torchvision://resnet50.imagenet1k_v2')


def test_torchvision_names_resolve_with_torchvision() -> None:
    torchvision = pytest.importorskip('torchvision')
    assert checkpoint_url('torchvision://resnet50') == (URL, None)
    weights = torchvision.models.ResNet50_Weights.IMAGENET1K_V2
    assert checkpoint_url('torchvision://resnet50.imagenet1k_v2') == (weights.url, None)


def test_train_stops_before_building_with_one_line(tmp_path: Path) -> None:
    """tools/train.py on a headline config without its weights and without a network (a proxy
    that refuses): one error line, exit 1, no traceback, nothing built or written."""
    refusing_proxy = f'http://127.0.0.1:{free_port()}'
    env = tool_env(TORCH_HOME=str(tmp_path / 'torch_home'), https_proxy=refusing_proxy,
                   http_proxy=refusing_proxy, HTTPS_PROXY=refusing_proxy,
                   HTTP_PROXY=refusing_proxy)
    for name in ('no_proxy', 'NO_PROXY'):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, str(TOOLS / 'train.py'), 'configs/fsdet_base.py', '--work-dir',
         str(tmp_path / 'work_dir')], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'Traceback' not in result.stdout + result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith('train: error:')]
    assert line.startswith(f"train: error: configs/fsdet_base.py: {KEY}: torchvision://resnet50 "
                           f"({URL}) is not in torch's hub cache and cannot be downloaded (")
    cache = tmp_path / 'torch_home/hub/checkpoints'
    assert line.endswith(f"; put resnet50-0676ba61.pth into {cache}/ (torch's hub cache, "
                         '$TORCH_HOME/hub/checkpoints/) or pass '
                         f'--cfg-options {KEY}=/path/to/resnet50-0676ba61.pth')
    assert not (tmp_path / 'work_dir').exists()
