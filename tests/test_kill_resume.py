"""A training run killed with SIGKILL and resumed ends with the weights of an uninterrupted run."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from mmfs_plugin.compat import safe_load_checkpoint

from .tool_runs import ROOT, data_root_options, run_command, tool_env

MAX_ITERS = 16


def train_cmd(data: Path, work_dir: Path, *extra: str) -> list:
    return [sys.executable, 'tools/train.py', 'configs/demo/demo_base.py', '--work-dir',
            str(work_dir), *extra, '--cfg-options', *data_root_options(data),
            f'train_cfg.max_iters={MAX_ITERS}', f'train_cfg.val_interval={MAX_ITERS * 10}',
            'default_hooks.checkpoint.interval=2',
            'default_hooks.checkpoint.max_keep_ckpts=-1',
            'train_dataloader.dataset.pipeline.3.prob=0.0',  # random flip off
            'randomness.deterministic=True']


def weights(path: Path) -> dict:
    return safe_load_checkpoint(str(path), map_location='cpu')['state_dict']


def test_sigkill_then_resume_matches_uninterrupted_run(demo_data, tmp_path):
    straight, killed = tmp_path / 'straight', tmp_path / 'killed'
    run_command(train_cmd(demo_data, straight), ROOT)

    proc = subprocess.Popen(train_cmd(demo_data, killed), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=tool_env())
    deadline = time.time() + 300
    while not (killed / 'iter_6.pth').exists():
        assert proc.poll() is None and time.time() < deadline, 'run ended before the kill'
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / f'iter_{MAX_ITERS}.pth').exists(), 'killed too late to test resuming'

    run_command(train_cmd(demo_data, killed, '--resume'), ROOT)
    expected = weights(straight / f'iter_{MAX_ITERS}.pth')
    resumed = weights(killed / f'iter_{MAX_ITERS}.pth')
    assert expected.keys() == resumed.keys()
    moved = weights(straight / 'iter_2.pth')
    assert any(not torch.equal(moved[k], expected[k]) for k in expected)  # training happened
    for key in expected:
        assert torch.equal(expected[key], resumed[key]), key
