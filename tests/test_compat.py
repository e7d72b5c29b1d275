"""Tests of mmfs_plugin.compat: safe checkpoints, CPU distributed, the rank-0 metrics file,
the version checks of the patches."""
import json
import os
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Optional

import mmengine
import mmengine.dist.utils as mmengine_dist_utils
import mmengine.runner.checkpoint as mmengine_checkpoint
import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import HOOKS
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.hooks import LoggerHook
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader, Runner
from torch import nn

import mmfs_plugin
from mmfs_plugin.compat import (UnsafeCheckpointError, UnsupportedVersionError,
                                cpu_distributed, with_cpu_model_wrapper)
from mmfs_plugin.engine import RankZeroDumpLoggerHook, rank_zero_dump_hook
from mmfs_plugin.compat.safe_checkpoint import install_checkpoint_loaders
from mmfs_plugin.compat.versions import check_versions

from .tool_runs import ROOT, free_port

MAX_ITERS = 4

# Runs a one-process distributed FewShotRunner in a fresh interpreter; prints what
# the process group and the model wrapper became.
_DISTRIBUTED_RUNNER_SCRIPT = '''
import json, sys
import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.registry import MODELS
from mmfs_plugin.engine import FewShotRunner


@MODELS.register_module()
class Model(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, labels=None, mode='tensor'):
        return self.linear(inputs)


runner = FewShotRunner.from_cfg(Config(dict(
    model=dict(type='Model'), work_dir=sys.argv[1], launcher=sys.argv[2],
    env_cfg=dict(dist_cfg=dict(backend='nccl')))))
print(json.dumps(dict(
    backend=dist.get_backend(), world_size=dist.get_world_size(),
    wrapper=type(runner.model).__name__,
    device_ids=runner.model.device_ids)))
dist.destroy_process_group()
'''


# Wraps a model in DDP inside a reference cycle (as a Runner holds it), drops
# it and closes the process group; prints the number of the process's threads
# before the group, with it, and after close_distributed.
_CLOSE_DISTRIBUTED_SCRIPT = '''
import json, os
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from mmfs_plugin.engine import close_distributed


def thread_name(task):
    """A thread's name, or '' where it ended since the listing (a race, not a failure)."""
    try:
        with open(f'/proc/self/task/{task}/comm') as comm:
            return comm.read().strip()
    except FileNotFoundError:
        return ''


def threads():
    """The names of this process's threads that belong to gloo and its TCP store."""
    names = (thread_name(task) for task in os.listdir('/proc/self/task'))
    return sorted(name for name in names if 'gloo' in name or 'tcpstore' in name)


def run():
    holder = dict(model=DistributedDataParallel(torch.nn.Linear(2, 1)))
    holder['self'] = holder
    holder['model'](torch.ones(3, 2)).sum().backward()
    return threads()


before = threads()
dist.init_process_group('gloo')
during = run()
close_distributed()
print(json.dumps(dict(before=before, during=during, after=threads(),
                      initialized=dist.is_initialized())))
'''


class ToyModel(BaseModel):
    """A linear regressor with a BatchNorm (a LongTensor buffer)."""

    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(2)
        self.linear = nn.Linear(2, 1)

    def forward(self,
                inputs: torch.Tensor,
                labels: Optional[torch.Tensor] = None,
                mode: str = 'tensor') -> Any:
        outputs = self.linear(self.norm(inputs)).squeeze(-1)
        if mode == 'loss':
            return dict(loss=F.mse_loss(outputs, labels))
        return outputs


class Reduce:
    """Pickles as the call ``func(*args)``, run when unpickled."""

    def __init__(self, func: Callable, *args: Any) -> None:
        self.func = func
        self.args = args

    def __reduce__(self) -> tuple:
        return self.func, self.args


# Each builds a checkpoint entry that would run ``command`` (or fetch more
# than a HistoryBuffer statistic) when unpickled.
PAYLOADS = {
    'os.system': lambda command: Reduce(os.system, command),
    'eval':
    lambda command: Reduce(eval, f'__import__("os").system({command!r})'),
    'getattr': lambda command: Reduce(getattr, HistoryBuffer, '__init__'),
}


def _toy_runner(work_dir: Path,
                name: str,
                load_from: Optional[str] = None,
                resume: bool = False) -> Runner:
    data = [
        dict(
            inputs=torch.tensor([float(i), 1.0]),
            labels=torch.tensor(float(i % 3))) for i in range(8)
    ]
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        experiment_name=name,
        train_dataloader=dict(
            dataset=data,
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
            batch_size=2),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        param_scheduler=[
            dict(type='LinearLR', start_factor=0.5, by_epoch=False, end=2),
            dict(type='MultiStepLR', milestones=[3], by_epoch=False),
        ],
        train_cfg=dict(by_epoch=False, max_iters=MAX_ITERS),
        default_hooks=dict(
            checkpoint=dict(
                type='CheckpointHook', interval=MAX_ITERS, by_epoch=False)),
        load_from=load_from,
        resume=resume,
        log_level='WARNING')


@pytest.fixture(scope='module', autouse=True)
def installed() -> None:
    """Install the fixes (``import mmfs_plugin`` does; again is harmless)."""
    mmfs_plugin.compat.install()


@pytest.fixture(scope='module')
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A checkpoint written by mmengine's Runner, and the state it saved."""
    work_dir = tmp_path_factory.mktemp('toy')
    runner = _toy_runner(work_dir, 'toy_train')
    runner.train()
    return dict(
        path=str(work_dir / f'iter_{MAX_ITERS}.pth'),
        model=runner.model.state_dict(),
        optimizer=runner.optim_wrapper.optimizer.state_dict(),
        schedulers=[s.state_dict() for s in runner.param_schedulers],
        losses=runner.message_hub.get_scalar('train/loss').data[0].copy())


def _assert_same_tensors(actual: dict, expected: dict) -> None:
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        torch.testing.assert_close(actual[key], value, rtol=0, atol=0)


def _save_payload(path: Path, payload: object, zipfile: bool) -> None:
    checkpoint = dict(state_dict=dict(w=torch.zeros(1)), meta=payload)
    torch.save(checkpoint, path, _use_new_zipfile_serialization=zipfile)


def test_load_from_restores_the_weights(trained: dict, tmp_path: Path) -> None:
    runner = _toy_runner(tmp_path, 'toy_load', load_from=trained['path'])
    runner.load_or_resume()
    _assert_same_tensors(runner.model.state_dict(), trained['model'])
    assert runner.iter == 0


def test_resume_restores_iteration_optimizer_and_schedulers(
        trained: dict, tmp_path: Path) -> None:
    runner = _toy_runner(
        tmp_path, 'toy_resume', load_from=trained['path'], resume=True)
    runner.train()  # resumes at MAX_ITERS, so trains no further
    assert runner.iter == MAX_ITERS
    _assert_same_tensors(runner.model.state_dict(), trained['model'])
    state = runner.optim_wrapper.optimizer.state_dict()
    assert state['param_groups'] == trained['optimizer']['param_groups']
    for index, expected in trained['optimizer']['state'].items():
        _assert_same_tensors(state['state'][index], expected)
    assert [s.state_dict()
            for s in runner.param_schedulers] == trained['schedulers']
    loss = runner.message_hub.get_scalar('train/loss')
    assert loss.data[0].tolist() == trained['losses'].tolist()


def test_checkpoint_loader_reads_a_runner_checkpoint(trained: dict) -> None:
    checkpoint = CheckpointLoader.load_checkpoint(trained['path'])
    assert checkpoint['meta']['iter'] == MAX_ITERS
    _assert_same_tensors(checkpoint['state_dict'], trained['model'])
    loss = checkpoint['message_hub']['log_scalars']['train/loss']
    assert isinstance(loss, HistoryBuffer)
    assert loss.mean() == pytest.approx(trained['losses'].mean())
    assert loss.statistics('max') == pytest.approx(trained['losses'].max())


@pytest.mark.parametrize('zipfile', [True, False], ids=['zip', 'legacy'])
@pytest.mark.parametrize('payload', PAYLOADS)
def test_checkpoint_with_code_is_refused_unrun(tmp_path: Path, payload: str,
                                               zipfile: bool) -> None:
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    _save_payload(path, PAYLOADS[payload](f'touch {marker}'), zipfile)
    with pytest.raises(UnsafeCheckpointError) as error:
        CheckpointLoader.load_checkpoint(str(path))
    assert str(path) in str(error.value)
    assert not marker.exists()


def test_torchscript_archive_is_refused(tmp_path: Path) -> None:
    path = tmp_path / 'scripted.pt'
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        torch.jit.script(nn.Linear(2, 2)).save(str(path))
    with pytest.raises(UnsafeCheckpointError, match='TorchScript'):
        CheckpointLoader.load_checkpoint(str(path))


@pytest.fixture
def http_root(tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    """A folder served over http on localhost, and its URL; the torch hub
    cache goes to a temporary folder."""
    served = tmp_path / 'served'
    served.mkdir()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    handler = partial(SimpleHTTPRequestHandler, directory=str(served))
    server = ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()
    server.server_close()


def test_http_checkpoints_load_safely(trained: dict, http_root: tuple,
                                      tmp_path: Path) -> None:
    served, url = http_root
    (served / 'good.pth').write_bytes(Path(trained['path']).read_bytes())
    marker = tmp_path / 'pwned'
    _save_payload(served / 'evil.pth',
                  PAYLOADS['os.system'](f'touch {marker}'), True)
    checkpoint = CheckpointLoader.load_checkpoint(f'{url}/good.pth')
    assert checkpoint['meta']['iter'] == MAX_ITERS
    with pytest.raises(UnsafeCheckpointError, match=f'{url}/evil.pth'):
        CheckpointLoader.load_checkpoint(f'{url}/evil.pth')
    assert not marker.exists()


def test_install_twice_changes_nothing() -> None:

    def snapshot() -> tuple:
        return (dict(CheckpointLoader._schemes), mmengine_checkpoint.load_from_http,
                mmengine_dist_utils._init_dist_pytorch,
                mmengine_dist_utils._init_dist_slurm)

    before = snapshot()
    mmfs_plugin.compat.install()
    assert snapshot() == before


def test_install_leaves_the_runner_and_the_logger_hook_alone() -> None:
    """Their jobs are done by config values: model_wrapper_cfg, RankZeroDumpLoggerHook."""
    assert Runner.wrap_model.__module__ == 'mmengine.runner.runner'
    assert LoggerHook.after_test_epoch.__module__ == 'mmengine.hooks.logger_hook'


_UNSUPPORTED_IMPORT_SCRIPT = """
import {package}
{package}.__version__ = {version!r}
import mmfs_plugin
"""


@pytest.mark.parametrize('package, version, supported', [
    ('mmengine', '0.11.0', '==0.10.7'),
    ('torch', '2.14.0', '>=2.0,<2.14'),
])
def test_import_with_an_unsupported_version_fails_naming_it(package: str, version: str,
                                                            supported: str) -> None:
    result = subprocess.run(
        [sys.executable, '-c',
         _UNSUPPORTED_IMPORT_SCRIPT.format(package=package, version=version)],
        env=dict(os.environ, OMP_NUM_THREADS='1'),
        capture_output=True,
        text=True,
        timeout=600)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith('mmfs_plugin.compat.versions.UnsupportedVersionError: ')
    assert f'written for {package}{supported}, but {package} {version} is installed' \
        in last_line


@pytest.mark.parametrize('version, supported', [
    ('2.13.0+cpu', True),
    ('2.0.1+cu118', True),
    ('2.11.0+cu130', True),
    ('2.14.0.dev20260101', False),
    ('1.13.1', False),
    ('unknown', False),
])
def test_checkpoint_loaders_check_the_torch_version(version: str, supported: bool,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch, '__version__', version)
    if supported:
        install_checkpoint_loaders()
        return
    with pytest.raises(UnsupportedVersionError) as error:
        install_checkpoint_loaders()
    assert (error.value.package, error.value.version) == ('torch', version)
    assert 'mmfs_plugin.compat.safe_checkpoint' in str(error.value)


@pytest.mark.parametrize('install', [install_checkpoint_loaders,
                                     cpu_distributed.install_cpu_distributed])
def test_patches_refuse_another_mmengine(install: Callable,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mmengine, '__version__', '0.10.6')
    with pytest.raises(UnsupportedVersionError, match='mmengine 0.10.6 is installed'):
        install()


def test_check_versions_names_the_first_unsupported_package(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mmengine, '__version__', '1.0.0')
    with pytest.raises(UnsupportedVersionError) as error:
        check_versions('some.patch', {'torch': '>=2.0', 'mmengine': '<1'})
    assert str(error.value).startswith(
        'some.patch was written for mmengine<1, but mmengine 1.0.0 is installed')


class _CountMetric(BaseMetric):
    """Counts the predictions."""

    def process(self, data_batch: Any, data_samples: Any) -> None:
        self.results.append(len(data_samples))

    def compute_metrics(self, results: list) -> dict:
        return dict(predictions=sum(results))


@pytest.mark.parametrize('main_process', [True, False])
def test_only_the_main_process_writes_the_test_metrics_file(
        main_process: bool, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rank_zero_dump_hook, 'is_main_process', lambda: main_process)
    runner = Runner(
        model=ToyModel(),
        work_dir=str(tmp_path),
        default_scope='mmdet',
        default_hooks=dict(logger=dict(type='RankZeroDumpLoggerHook')),
        test_dataloader=dict(
            dataset=[dict(inputs=torch.tensor([float(i), 1.0])) for i in range(4)],
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
            batch_size=2),
        test_cfg=dict(),
        test_evaluator=[_CountMetric()],
        log_level='WARNING')
    assert runner.test() == dict(predictions=4)
    metrics_file = Path(runner.log_dir) / f'{runner.timestamp}.json'
    assert metrics_file.exists() == main_process


def test_the_fewshot_runtime_logs_with_the_rank_zero_dump_hook() -> None:
    # its mmdet:: base resolves through mmengine's own package lookup (setuptools<81)
    cfg = Config.fromfile(str(ROOT / 'configs/_base_/fewshot_runtime.py'))
    assert cfg.default_scope == 'mmdet'
    assert HOOKS.get(cfg.default_hooks.logger.type) is RankZeroDumpLoggerHook


def _launcher_env(launcher: str) -> dict:
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=free_port())
    if launcher == 'pytorch':
        env.update(RANK='0', LOCAL_RANK='0', WORLD_SIZE='1')
    else:
        env.update(
            SLURM_PROCID='0',
            SLURM_LOCALID='0',
            SLURM_NTASKS='1',
            SLURM_NODELIST='localhost')
    return env


@pytest.mark.skipif(
    torch.cuda.is_available(), reason='checks the CPU-only code path')
@pytest.mark.parametrize('launcher', ['pytorch', 'slurm'])
def test_distributed_runner_on_cpu_uses_gloo_and_cpu_ddp(
        launcher: str, tmp_path: Path) -> None:
    result = subprocess.run([
        sys.executable, '-c', _DISTRIBUTED_RUNNER_SCRIPT,
        str(tmp_path), launcher
    ],
                            env=_launcher_env(launcher),
                            capture_output=True,
                            text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == dict(
        backend='gloo',
        world_size=1,
        wrapper='MMDistributedDataParallel',
        device_ids=None)


def test_cpu_model_wrapper_is_mmengines_default_without_device_ids() -> None:
    cfg = Config(dict(launcher='pytorch', find_unused_parameters=True))
    wrapped = with_cpu_model_wrapper(cfg)
    assert wrapped.model_wrapper_cfg == dict(
        type='MMDistributedDataParallel', broadcast_buffers=False,
        find_unused_parameters=True, device_ids=None)
    assert 'model_wrapper_cfg' not in cfg


def test_cpu_model_wrapper_keeps_a_configured_ddp_wrapper() -> None:
    cfg = Config(dict(launcher='slurm', model_wrapper_cfg=dict(
        type='MMDistributedDataParallel', broadcast_buffers=True, device_ids=[0])))
    assert with_cpu_model_wrapper(cfg).model_wrapper_cfg == dict(
        type='MMDistributedDataParallel', broadcast_buffers=True, device_ids=None)


@pytest.mark.parametrize('cfg, device', [
    (dict(launcher='none'), 'cpu'),
    (dict(), 'cpu'),
    (dict(launcher='pytorch'), 'cuda'),
    (dict(launcher='pytorch', model_wrapper_cfg=dict(type='MMFullyShardedDataParallel')), 'cpu'),
], ids=['not distributed', 'no launcher', 'accelerator', 'not ddp'])
def test_cpu_model_wrapper_leaves_other_runs_alone(cfg: dict, device: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpu_distributed, 'get_device', lambda: device)
    cfg = Config(cfg)
    assert with_cpu_model_wrapper(cfg) is cfg


@pytest.mark.skipif(not Path('/proc/self/task').is_dir(), reason='counts threads in /proc')
def test_close_distributed_stops_gloo_threads_before_shutdown() -> None:
    """Left to interpreter shutdown, gloo's threads can abort a finished run."""
    result = subprocess.run([sys.executable, '-c', _CLOSE_DISTRIBUTED_SCRIPT],
                            env=_launcher_env('pytorch'),
                            capture_output=True,
                            text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report['before'] == []
    assert any('gloo' in name for name in report['during'])
    assert report['after'] == []
    assert not report['initialized']
