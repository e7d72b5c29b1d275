"""Distributed runs on CPU (gloo) with the launch scripts (issues 4 and 7).

A real 2-process ``tools/dist_train.sh`` run of the demo 5-shot fine-tuning config, from a base
checkpoint trained briefly on the synthetic demo set, must finish, and only rank 0 may write its
files: the work dir holds exactly the expected tree (one timestamped log dir, each checkpoint
once, one k-shot selection) and a ``sitecustomize`` audit of rank 1 (tests/rank_audit) shows it
wrote nothing there but the directories mmengine makes on every rank and its part of the result
collection. Then ``tools/dist_test.sh`` with 2 processes on the resulting checkpoint must report
exactly the metrics of ``tools/test.py`` with one process, and the same predictions, on a test
set of odd length (the distributed sampler pads rank 1 with a duplicate that the collection must
drop). Both runs must exit within seconds of their last log line (the end of a run with
``close_distributed``, issue 14).

The runs are short (BASE_ITERS + FINETUNE_ITERS iterations): the model only has to be good
enough for non-trivial predictions, not accurate.
"""
import json
import pickle
import re
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import torch

from mmfs_plugin.compat import safe_load_checkpoint

from .tool_runs import (ROOT, TOOLS, audit_env, audited_writes, data_root_options, free_port,
                        run_command)

BASE_CONFIG = ROOT / 'configs/demo/demo_base.py'
CONFIG = ROOT / 'configs/demo/demo_5shot.py'
BASE_ITERS = 60
FINETUNE_ITERS = 8
INTERVAL = 4  # validation and checkpoint interval of the fine-tuning
CHECKPOINT_ITERS = range(INTERVAL, FINETUNE_ITERS + 1, INTERVAL)
#: The test set's first TEST_IMAGES images (the demo set has 54): odd, so the 2-process sampler
#: pads rank 1's share with a duplicate of image 0 that the collection must drop; and no run has
#: a batch of one image (51 = 12 * 4 + 3 in one process, 26 = 6 * 4 + 2 a rank in two), for
#: which CPU convolutions take another path and round differently.
TEST_IMAGES = 51
TIMESTAMP = re.compile(r'\d{8}_\d{6}')
#: What rank 0 writes in a fine-tuning work dir (``TS``: the run's timestamp); the best
#: checkpoint is matched apart, its iteration depends on the metrics.
FINETUNE_FILES = {
    'demo_5shot.py', 'kshot_selection.json', 'last_checkpoint',
    *(f'iter_{i}.pth' for i in CHECKPOINT_ITERS),
    'TS/TS.log', 'TS/vis_data/config.py', 'TS/vis_data/scalars.json', 'TS/vis_data/TS.json'
}
BEST_CHECKPOINT = re.compile(r'best_fs_bbox_nAP_iter_(\d+)\.pth')
#: What a test run writes in its work dir.
TEST_FILES = {'demo_5shot.py', 'TS/TS.log', 'TS/TS.json', 'TS/vis_data/config.py'}
#: Keys of the metrics file that time the run rather than measure the model.
TIMING_KEYS = {'data_time', 'time'}
#: The most seconds a distributed run may take to exit after its last log line: the final
#: barrier, the destruction of the process group, the shutdown of two interpreters (seconds
#: alone for torch and mmengine on 2 loaded cores) and of torchrun. A hung shutdown never ends.
EXIT_LAG_S = 15


def work_dir_files(work_dir: Path) -> set:
    """The files below ``work_dir``, relative, its single timestamped log dir named ``TS``."""
    [log_dir] = [path for path in work_dir.iterdir() if path.is_dir()]
    assert TIMESTAMP.fullmatch(log_dir.name), log_dir
    return {path.relative_to(work_dir).as_posix().replace(log_dir.name, 'TS')
            for path in work_dir.rglob('*') if path.is_file()}


def exit_lag(work_dir: Path, exited: float) -> float:
    """Seconds from the last line of a run's log file (its last write) to ``exited``."""
    [log_file] = work_dir.glob('*/*.log')
    return exited - log_file.stat().st_mtime


def unexpected_rank_writes(audit_dir: Path, run_dir: Path, work_dir: Path) -> List[str]:
    """The audited writes of rank 1 below ``run_dir`` (the launch's cwd) and ``work_dir``
    other than those of every rank in mmengine: making the work dir and its log dir, and the
    part of the collected results in ``run_dir/.dist_test/<tmp>/``."""
    assert (audit_dir / 'rank1.txt').is_file(), 'rank 1 was not audited'
    allowed = re.compile(
        rf'rank1 os\.mkdir {re.escape(str(work_dir))}(/{TIMESTAMP.pattern})?'
        rf'|rank1 open {re.escape(str(run_dir))}/\.dist_test/[^/]+/part_1\.pkl')
    return [line
            for under in (run_dir, work_dir)
            for line in audited_writes(audit_dir, under)
            if not allowed.fullmatch(line)]


def assert_launch_dir_clean(run_dir: Path) -> None:
    """Only mmengine's result-collection dir, emptied, is left in the launch's cwd."""
    assert {path.name for path in run_dir.iterdir()} <= {'.dist_test'}
    assert not any((run_dir / '.dist_test').glob('**/*'))


@pytest.fixture(scope='module', autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A dataset cache of this module's own for the tools' runs (they build the demo sets)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('MMFS_CACHE_DIR', str(tmp_path_factory.mktemp('cache')))
        yield


@pytest.fixture(scope='module')
def base_checkpoint(demo_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A briefly trained base model (one process, no validation)."""
    work_dir = tmp_path_factory.mktemp('base')
    run_command([sys.executable, TOOLS / 'train.py', BASE_CONFIG, '--work-dir', work_dir,
                 '--cfg-options', *data_root_options(demo_data),
                 f'train_cfg.max_iters={BASE_ITERS}',
                 f'default_hooks.checkpoint.interval={BASE_ITERS}',
                 'val_dataloader=None', 'val_cfg=None', 'val_evaluator=None'],
                cwd=work_dir, OMP_NUM_THREADS='2')
    return work_dir / f'iter_{BASE_ITERS}.pth'


@pytest.fixture(scope='module')
def finetuned(demo_data: Path, base_checkpoint: Path,
              tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    """A 2-process ``tools/dist_train.sh`` fine-tuning from ``base_checkpoint``, validating
    and checkpointing (best too) every INTERVAL iterations; its ``run_dir`` (cwd),
    ``work_dir``, ``audit_dir`` and ``exit_lag`` (:func:`exit_lag`)."""
    root = tmp_path_factory.mktemp('dist_train')
    dirs = {name: root / name for name in ('run_dir', 'work_dir', 'audit_dir')}
    dirs['run_dir'].mkdir()
    run_command([TOOLS / 'dist_train.sh', CONFIG, 2, '--work-dir', dirs['work_dir'],
                 '--cfg-options', *data_root_options(demo_data),
                 f'fewshot.base_checkpoint={base_checkpoint}',
                 f'train_cfg.max_iters={FINETUNE_ITERS}', f'train_cfg.val_interval={INTERVAL}',
                 f'default_hooks.checkpoint.interval={INTERVAL}',
                 'default_hooks.checkpoint.save_best=fs/bbox_nAP',
                 'default_hooks.checkpoint.rule=greater',
                 f'val_dataloader.dataset.indices={TEST_IMAGES}'],
                cwd=dirs['run_dir'], PORT=free_port(), **audit_env(dirs['audit_dir']))
    return dict(dirs, exit_lag=exit_lag(dirs['work_dir'], time.time()))


def test_two_process_finetuning_writes_from_rank_0_only(finetuned: Dict[str, Any]) -> None:
    work_dir = finetuned['work_dir']
    files = work_dir_files(work_dir)
    [best] = [name for name in files if name.startswith('best_')]
    assert int(BEST_CHECKPOINT.fullmatch(best)[1]) in CHECKPOINT_ITERS, best
    assert files - {best} == FINETUNE_FILES
    [log_dir] = [path for path in work_dir.iterdir() if path.is_dir()]
    assert [path.name for path in log_dir.glob('*.log')] == [f'{log_dir.name}.log']
    assert unexpected_rank_writes(finetuned['audit_dir'], finetuned['run_dir'], work_dir) == []
    assert_launch_dir_clean(finetuned['run_dir'])

    assert Path((work_dir / 'last_checkpoint').read_text().strip()) == \
        work_dir / f'iter_{FINETUNE_ITERS}.pth'
    checkpoint = safe_load_checkpoint(str(work_dir / f'iter_{FINETUNE_ITERS}.pth'),
                                      map_location='cpu')
    assert checkpoint['meta']['iter'] == FINETUNE_ITERS
    selection = json.loads((work_dir / 'kshot_selection.json').read_text())
    assert selection['selection'] and all(
        len(keys) == 5 for keys in selection['selection'].values())


def test_two_process_finetuning_exits_after_its_last_log_line(
        finetuned: Dict[str, Any]) -> None:
    assert finetuned['exit_lag'] < EXIT_LAG_S


def read_metrics(work_dir: Path) -> dict:
    """The metrics file of a test run, ``<work_dir>/<timestamp>/<timestamp>.json``."""
    [metrics_file] = work_dir.glob('*/*.json')
    assert metrics_file.stem == metrics_file.parent.name
    return json.loads(metrics_file.read_text())


def assert_same_predictions(expected: list, actual: list) -> None:
    """Two ``--out`` dumps hold the same images in the same order, with the same predictions
    and ground-truth box scores (to float rounding: a batched kernel may round differently
    with the batch's size, and the two runs batch the images differently)."""
    assert [sample['img_path'] for sample in actual] == \
        [sample['img_path'] for sample in expected]
    for one, two in zip(expected, actual):
        for key in ('bboxes', 'scores', 'labels'):
            torch.testing.assert_close(two['pred_instances'][key], one['pred_instances'][key],
                                       rtol=1e-5, atol=1e-5, msg=f'{one["img_path"]}: {key}')
        for key in ('gt_box_labels', 'gt_box_scores'):
            torch.testing.assert_close(two[key], one[key], rtol=1e-5, atol=1e-5,
                                       msg=f'{one["img_path"]}: {key}')


def test_two_process_test_reports_the_metrics_of_one_process(
        demo_data: Path, finetuned: Dict[str, Any], tmp_path: Path) -> None:
    checkpoint = finetuned['work_dir'] / f'iter_{FINETUNE_ITERS}.pth'
    options = ['--cfg-options', *data_root_options(demo_data),
               f'test_dataloader.dataset.indices={TEST_IMAGES}']
    run_dir, audit_dir = tmp_path / 'run_dir', tmp_path / 'audit_dir'
    run_dir.mkdir()
    one, two = tmp_path / 'one_process', tmp_path / 'two_processes'
    # one thread a process in both runs (run_command's default): the same CPU kernels
    run_command([sys.executable, TOOLS / 'test.py', CONFIG, checkpoint, '--work-dir', one,
                 '--out', tmp_path / 'one_process.pkl', *options],
                cwd=run_dir)
    run_command([TOOLS / 'dist_test.sh', CONFIG, checkpoint, 2, '--work-dir', two,
                 '--out', tmp_path / 'two_processes.pkl', *options],
                cwd=run_dir, PORT=free_port(), **audit_env(audit_dir))
    assert exit_lag(two, time.time()) < EXIT_LAG_S

    assert work_dir_files(one) == work_dir_files(two) == TEST_FILES
    assert unexpected_rank_writes(audit_dir, run_dir, two) == []
    assert_launch_dir_clean(run_dir)

    expected, actual = read_metrics(one), read_metrics(two)
    print({key: value for key, value in expected.items() if key.startswith('fs/')})
    assert actual.keys() == expected.keys()
    assert any(key.startswith('fs/bbox_') for key in expected)
    assert {key: actual[key] for key in actual.keys() - TIMING_KEYS} == \
        {key: expected[key] for key in expected.keys() - TIMING_KEYS}

    with open(tmp_path / 'one_process.pkl', 'rb') as file:  # written by this test
        expected_predictions = pickle.load(file)
    with open(tmp_path / 'two_processes.pkl', 'rb') as file:  # written by this test
        actual_predictions = pickle.load(file)
    assert len(expected_predictions) == TEST_IMAGES
    assert any(len(sample['pred_instances']['scores']) for sample in expected_predictions)
    assert_same_predictions(expected_predictions, actual_predictions)
