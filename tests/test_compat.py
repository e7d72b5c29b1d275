"""Tests of mmfs_plugin.compat: safe checkpoints, CPU distributed, no
pkg_resources."""
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

import mmengine.config.config as mmengine_config
import mmengine.dist.utils as mmengine_dist_utils
import pytest
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.hooks import LoggerHook
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader, Runner
from torch import nn

import mmfs_plugin
from mmfs_plugin.compat import UnsafeCheckpointError, rank_zero_dump

from .tool_runs import free_port

MAX_ITERS = 4

# Runs a one-process distributed Runner in a fresh interpreter; prints what
# the process group and the model wrapper became.
_DISTRIBUTED_RUNNER_SCRIPT = '''
import json, sys
import torch
import torch.distributed as dist
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmfs_plugin import compat

compat.install()


class Model(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, labels=None, mode='tensor'):
        return self.linear(inputs)


runner = Runner(
    model=Model(), work_dir=sys.argv[1], launcher=sys.argv[2],
    env_cfg=dict(dist_cfg=dict(backend='nccl')))
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
from mmfs_plugin.compat import close_distributed


def threads():
    return len(os.listdir('/proc/self/task'))


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
        return (dict(CheckpointLoader._schemes), Runner.wrap_model,
                mmengine_dist_utils._init_dist_pytorch,
                mmengine_dist_utils._init_dist_slurm,
                mmengine_config.get_installed_path, LoggerHook.after_test_epoch)

    before = snapshot()
    mmfs_plugin.compat.install()
    assert snapshot() == before


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
    monkeypatch.setattr(rank_zero_dump, 'is_main_process', lambda: main_process)
    runner = Runner(
        model=ToyModel(),
        work_dir=str(tmp_path),
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
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == dict(
        backend='gloo',
        world_size=1,
        wrapper='MMDistributedDataParallel',
        device_ids=None)


@pytest.mark.skipif(not Path('/proc/self/task').is_dir(), reason='counts threads in /proc')
def test_close_distributed_stops_gloo_threads_before_shutdown() -> None:
    """Left to interpreter shutdown, gloo's threads can abort a finished run."""
    result = subprocess.run([sys.executable, '-c', _CLOSE_DISTRIBUTED_SCRIPT],
                            env=_launcher_env('pytorch'),
                            capture_output=True,
                            text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report['during'] > report['before']
    assert report['after'] == report['before']
    assert not report['initialized']


def test_mmdet_configs_parse_without_pkg_resources(
        tiny_coco_config: Path) -> None:
    script = ('import sys\n'
              "sys.modules['pkg_resources'] = None  # importing it fails\n"
              'from mmengine.config import Config\n'
              'from mmfs_plugin import compat\n'
              'compat.install()\n'
              f'cfg = Config.fromfile({str(tiny_coco_config)!r})\n'
              'print(cfg.model.backbone.depth, cfg.model.type)\n')
    result = subprocess.run([sys.executable, '-c', script],
                            env=dict(os.environ, OMP_NUM_THREADS='1'),
                            capture_output=True,
                            text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ['18', 'FasterRCNN']
