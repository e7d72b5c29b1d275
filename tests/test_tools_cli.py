"""Tests of the command lines in tools/: train.py, test.py and the launch
scripts."""
import json
import os
import pickle
import runpy
import sys
from pathlib import Path

import pytest

from .tool_runs import TOOLS, free_port, run_command


@pytest.fixture(scope='module')
def trained(tiny_coco_config: Path,
            tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The work dir of a 2-process CPU run of tools/dist_train.sh."""
    work_dir = tmp_path_factory.mktemp('dist_train')
    run_command(
        [TOOLS / 'dist_train.sh', tiny_coco_config, 2, '--work-dir', work_dir],
        cwd=work_dir,
        PORT=free_port())
    return work_dir


@pytest.mark.parametrize('tool, options', [
    ('train.py', ['--resume', '--amp', '--auto-scale-lr', '--launcher']),
    ('test.py', ['--out', '--show-dir', '--tta', '--launcher']),
])
def test_help_lists_the_options(tool: str, options: list,
                                monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(sys, 'argv', [tool, '--help'])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(TOOLS / tool), run_name='__main__')
    assert exit_info.value.code == 0
    usage = capsys.readouterr().out
    for option in [*options, '--work-dir', '--cfg-options', '--local-rank']:
        assert option in usage


def test_distributed_cpu_training_writes_one_checkpoint(trained: Path) -> None:
    assert [path.name for path in trained.glob('*.pth')] == ['iter_2.pth']
    last = (trained / 'last_checkpoint').read_text().strip()
    assert Path(last).name == 'iter_2.pth'


def test_test_py_reports_metrics_and_dumps_predictions(tiny_coco_config: Path,
                                                       trained: Path,
                                                       tmp_path: Path) -> None:
    predictions = tmp_path / 'predictions.pkl'
    run_command([
        sys.executable, TOOLS / 'test.py', tiny_coco_config,
        trained / 'iter_2.pth', '--work-dir', tmp_path, '--out', predictions
    ],
                cwd=tmp_path)
    [metrics_file] = tmp_path.glob('*/*.json')
    metrics = json.loads(metrics_file.read_text())
    assert {'coco/bbox_mAP', 'coco/bbox_mAP_50'} <= metrics.keys()
    assert -1 <= metrics['coco/bbox_mAP'] <= 1
    with open(predictions, 'rb') as file:  # written by this test
        assert len(pickle.load(file)) == 4


@pytest.fixture
def fake_srun(tmp_path: Path) -> tuple:
    """A ``srun`` that records its arguments, one per line."""
    bin_dir, record = tmp_path / 'bin', tmp_path / 'srun_args.txt'
    bin_dir.mkdir()
    srun = bin_dir / 'srun'
    srun.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n')
    srun.chmod(0o755)
    return bin_dir, record


@pytest.mark.parametrize('script, positional, launched', [
    ('slurm_train.sh', ['cfg.py', 'work'],
     ['train.py', 'cfg.py', '--work-dir=work', '--launcher=slurm']),
    ('slurm_test.sh', ['cfg.py', 'ckpt.pth'],
     ['test.py', 'cfg.py', 'ckpt.pth', '--launcher=slurm']),
])
@pytest.mark.parametrize('gpus_per_node, slurm_options', [
    ('8', ['--gres=gpu:8', '--ntasks=2', '--ntasks-per-node=8']),
    ('0', ['--ntasks=2', '--ntasks-per-node=2']),
])
def test_slurm_scripts_launch_the_tool_with_srun(fake_srun: tuple,
                                                 tmp_path: Path, script: str,
                                                 positional: list,
                                                 launched: list,
                                                 gpus_per_node: str,
                                                 slurm_options: list) -> None:
    bin_dir, record = fake_srun
    run_command([TOOLS / script, 'part', 'job', *positional, '--cfg-options', 'a=1'],
                cwd=tmp_path,
                PATH=f'{bin_dir}{os.pathsep}{os.environ.get("PATH", "")}',
                GPUS='2',
                GPUS_PER_NODE=gpus_per_node)
    args = record.read_text().splitlines()
    tool = args.index('python')
    assert args[:2] == ['-p', 'part'] and '--job-name=job' in args[:tool]
    assert [
        arg for arg in args[:tool] if arg.startswith(('--gres', '--ntasks'))
    ] == slurm_options
    assert Path(args[tool + 2]).name == launched[0]
    assert args[tool + 3:] == [*launched[1:], '--cfg-options', 'a=1']
