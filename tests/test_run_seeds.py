"""Tests of multi-seed experiments: mmfs_plugin.experiments (hand numbers),
tools/fewshot/run_seeds.py's reports against a Student's t recomputation from its results.csv,
and run_seeds on the demo config (tiny schedules, killed midway and run again)."""
import csv
import json
import math
import os
import runpy
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scipy import stats

from mmfs_data.synthetic.generator import generate_synthetic_mvtecfs
from mmfs_plugin.experiments import (RunResult, aggregate_results, load_run_result,
                                     plot_metrics_against_shots, save_run_result, summarize,
                                     write_results_csv, write_results_markdown)

from .tool_runs import ROOT, data_root_options, free_port

SHOTS, SEEDS = (1, 2), (0, 1, 2)
#: Test images of each run (every third class of the demo tree's test split is novel).
TEST_IMAGES = 24
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
#: Two-sided 95% quantiles of Student's t with 1, 2 and 4 degrees of freedom (tables).
T_95 = {1: 12.7062, 2: 4.3027, 4: 2.7764}


def read_markdown_table(path: Path) -> dict:
    """(metric, shots) -> (n, mean, std, ci) of a results.md (``n/a`` read as NaN)."""
    rows = {}
    for line in path.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip('|').split('|')]
        if len(cells) == 6 and cells[1].isdigit():
            numbers = [math.nan if cell == 'n/a' else float(cell) for cell in cells[3:]]
            rows[cells[0], int(cells[1])] = (int(cells[2]), *numbers)
    return rows


def student_t_from_csv(rows: list, metric: str, shots: int) -> tuple:
    """(n, mean, std, 95% CI half-width) of a metric at shots, recomputed from results.csv
    rows: the 95% interval of Student's t with n - 1 degrees of freedom times s/sqrt(n)."""
    values = [float(row[metric]) for row in rows if int(row['shots']) == shots]
    n, mean, std = len(values), statistics.fmean(values), statistics.stdev(values)
    _, t_95 = stats.t.interval(0.95, n - 1)
    return n, mean, std, t_95 * std / math.sqrt(n)


# --- aggregation, by hand -------------------------------------------------------------------


def test_summarize_equals_hand_numbers() -> None:
    stat = summarize([0.2, 0.4, 0.6])
    # mean 0.4; squared deviations 0.04 + 0 + 0.04 over n - 1 = 2 -> std 0.2
    assert stat.n == 3
    assert stat.mean == pytest.approx(0.4)
    assert stat.std == pytest.approx(0.2)
    assert stat.ci95 == pytest.approx(T_95[2] * 0.2 / math.sqrt(3), abs=1e-4)  # 0.4968


def test_summarize_single_value_has_no_spread_and_rejects_bad_input() -> None:
    stat = summarize([0.5])
    assert (stat.n, stat.mean) == (1, 0.5)
    assert math.isnan(stat.std) and math.isnan(stat.ci95)
    with pytest.raises(ValueError, match='at least one'):
        summarize([])
    with pytest.raises(ValueError, match='finite'):
        summarize([0.1, math.nan])


def test_csv_and_markdown_equal_hand_numbers(tmp_path: Path) -> None:
    results = [
        RunResult(shots=3, seed=1, metrics={'fs/acc': 0.5, 'fs/bbox_nAP50': 0.1}),
        RunResult(shots=1, seed=0, metrics={'fs/acc': 0.3}),
        RunResult(shots=3, seed=0, metrics={'fs/acc': 0.7, 'fs/bbox_nAP50': 0.3}),
    ]
    summary = aggregate_results(results)
    write_results_csv(results, str(tmp_path / 'results.csv'))
    write_results_markdown(summary, str(tmp_path / 'results.md'))

    with open(tmp_path / 'results.csv', newline='') as file:
        rows = list(csv.reader(file))
    assert rows == [['shots', 'seed', 'fs/acc', 'fs/bbox_nAP50'], ['1', '0', '0.3', ''],
                    ['3', '0', '0.7', '0.3'], ['3', '1', '0.5', '0.1']]
    table = read_markdown_table(tmp_path / 'results.md')
    assert set(table) == {('fs/acc', 1), ('fs/acc', 3), ('fs/bbox_nAP50', 3)}
    # 3 shots, acc: mean 0.6, std sqrt(0.02 / 1) = 0.141421, CI 12.7062 * 0.141421 / sqrt(2)
    assert table['fs/acc', 3] == pytest.approx((2, 0.6, 0.1414, 1.2706), abs=1e-4)
    assert table['fs/bbox_nAP50', 3] == pytest.approx((2, 0.2, 0.1414, 1.2706), abs=1e-4)
    assert "Student's t with n-1 degrees of freedom: t·s/√n" in (
        tmp_path / 'results.md').read_text(encoding='utf-8')
    n, mean, std, ci = table['fs/acc', 1]
    assert (n, mean) == (1, 0.3) and math.isnan(std) and math.isnan(ci)


def test_plot_draws_the_available_metrics(tmp_path: Path) -> None:
    summary = aggregate_results([
        RunResult(shots=1, seed=0, metrics={'fs/acc': 0.3}),
        RunResult(shots=5, seed=0, metrics={'fs/acc': 0.6}),
        RunResult(shots=5, seed=1, metrics={'fs/acc': 0.8}),
    ])
    drawn = plot_metrics_against_shots(summary, str(tmp_path / 'plot.png'))
    assert drawn == ['fs/acc']
    assert (tmp_path / 'plot.png').read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(ValueError, match='fs/bbox_nAP50'):
        plot_metrics_against_shots(summary, str(tmp_path / 'none.png'), ['fs/bbox_nAP50'])


def test_run_result_round_trip_and_invalid_files(tmp_path: Path) -> None:
    assert load_run_result(str(tmp_path), 1, 0) is None  # not finished
    result = RunResult(shots=1, seed=0, metrics={'fs/acc': 0.25})
    save_run_result(str(tmp_path), result)
    assert load_run_result(str(tmp_path), 1, 0) == result
    with pytest.raises(ValueError, match=r'result\.json: seed: expected 4'):
        load_run_result(str(tmp_path), 1, 4)  # the file of another run
    path = tmp_path / 'result.json'
    path.write_text(path.read_text()[:20])  # a truncated file
    with pytest.raises(ValueError, match=r'result\.json: <file>: not readable JSON'):
        load_run_result(str(tmp_path), 1, 0)
    path.write_text(json.dumps(dict(format='mmfs_plugin.seed_run/1', shots=1, seed=0,
                                    metrics={'fs/acc': 'high'})))
    with pytest.raises(ValueError, match=r'result\.json: metrics\.fs/acc: expected a finite'):
        load_run_result(str(tmp_path), 1, 0)
    with pytest.raises(ValueError, match='metrics.fs/acc'):
        save_run_result(str(tmp_path), RunResult(1, 0, {'fs/acc': math.nan}))


# --- tools/fewshot/run_seeds.py ----------------------------------------------------------------


def test_run_seeds_reports_student_t_intervals_of_its_csv(tmp_path: Path) -> None:
    """Five finished seeds per shots (the issue's case: t = 2.776, not 1.96): run_seeds skips
    them all and its results.md equals a Student's t recomputation from its results.csv."""
    for shots, seed in [(shots, seed) for shots in (1, 5) for seed in range(5)]:
        run_dir = tmp_path / f'{shots}shot_seed{seed}'
        run_dir.mkdir()
        save_run_result(str(run_dir), RunResult(
            shots=shots, seed=seed,
            metrics={'fs/acc': 0.1 * shots + 0.013 * seed**2, 'fs/bbox_nAP50': 0.05 * seed}))
    proc = subprocess.run(
        [sys.executable, 'tools/fewshot/run_seeds.py', 'configs/demo/demo_5shot.py', '--shots', '1',
         '5', '--seeds', '0-4', '--work-dir', str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.count('finished before, skipped') == 10
    with open(tmp_path / 'results.csv', newline='') as file:
        rows = list(csv.DictReader(file))
    table = read_markdown_table(tmp_path / 'results.md')
    assert set(table) == {(metric, shots) for metric in ('fs/acc', 'fs/bbox_nAP50')
                          for shots in (1, 5)}
    for (metric, shots), cells in table.items():
        assert cells == pytest.approx(student_t_from_csv(rows, metric, shots), abs=6e-5)
    # by hand: nAP50 0, .05, .1, .15, .2 -> std 0.0790569, CI 2.7764 * 0.0790569 / sqrt(5)
    assert table['fs/bbox_nAP50', 5][3] == pytest.approx(T_95[4] * 0.0790569 / math.sqrt(5),
                                                         abs=1e-4)



def test_seed_ranges_and_iteration_scaling() -> None:
    tool = runpy.run_path(str(ROOT / 'tools' / 'fewshot' / 'run_seeds.py'))
    assert tool['parse_seeds'](['0-2', '5', '1']) == [0, 1, 2, 5]
    args = tool['parse_args'](['configs/demo/demo_5shot.py', '--shots', '3', '--seeds', '0',
                               '--iters-per-shot', '50', '--split', 'split2'])
    cfg = tool['build_run_config'](args, 3, 7, '/tmp/unused')
    assert cfg.train_cfg.max_iters == 150
    assert cfg.param_scheduler[1].milestones == [120]  # 160 of 200 -> 120 of 150
    assert cfg.param_scheduler[0].end == 10  # warm-up kept
    assert (cfg.fewshot.shots, cfg.fewshot.seed, cfg.fewshot.class_split) == (3, 7, 'split2')
    with pytest.raises(SystemExit):
        tool['parse_args'](['configs/demo/demo_5shot.py', '--shots', '1', '--seeds', '3-1'])


@pytest.fixture(scope='module')
def demo_setup(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A demo tree and a 4-iteration base checkpoint on it."""
    tmp = tmp_path_factory.mktemp('run_seeds')
    data = tmp / 'demo_mvtec_fs'
    generate_synthetic_mvtecfs(str(data))
    env = dict(os.environ, OMP_NUM_THREADS='1', MMFS_CACHE_DIR=str(tmp / 'cache'))
    data_options = data_root_options(data)
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', 'configs/demo/demo_base.py', '--work-dir',
         str(tmp / 'base'), '--cfg-options', *data_options, 'train_cfg.max_iters=4',
         'train_cfg.val_interval=100'],
        cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(tmp=tmp, env=env, options=data_options + [
        f'fewshot.base_checkpoint={tmp / "base" / "iter_4.pth"}', 'train_cfg.max_iters=4',
        'train_cfg.val_interval=100', f'test_dataloader.dataset.indices={TEST_IMAGES}'
    ])


def run_seeds_cmd(work_dir: Path, options: list, *extra: str, shots: tuple = SHOTS,
                  seeds: str = f'{SEEDS[0]}-{SEEDS[-1]}') -> list:
    return [sys.executable, 'tools/fewshot/run_seeds.py', 'configs/demo/demo_5shot.py', '--shots',
            *map(str, shots), '--seeds', seeds, '--work-dir', str(work_dir), *extra,
            '--cfg-options', *options]


@pytest.mark.slow
def test_killed_midway_then_rerun_finishes_only_missing_runs(demo_setup: dict) -> None:
    work = demo_setup['tmp'] / 'experiment'
    results = [work / f'{shots}shot_seed{seed}' / 'result.json'
               for shots in SHOTS for seed in SEEDS]
    proc = subprocess.Popen(run_seeds_cmd(work, demo_setup['options']), cwd=ROOT,
                            env=demo_setup['env'], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while sum(path.exists() for path in results) < 2:
        assert proc.poll() is None and time.time() < deadline, 'ended before the kill'
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {path: path.stat().st_mtime_ns for path in results if path.exists()}
    assert 2 <= len(finished) < len(results), 'killed too late to test resuming'
    assert not (work / 'results.csv').exists()

    proc = subprocess.run(run_seeds_cmd(work, demo_setup['options'], '--max-runs', '0'),
                          cwd=ROOT, env=demo_setup['env'], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]  # runs missing
    assert 'training and testing' not in proc.stdout  # a report of the finished runs only
    with open(work / 'results.csv', newline='') as file:
        assert len(list(csv.DictReader(file))) == len(finished)

    proc = subprocess.run(run_seeds_cmd(work, demo_setup['options'], '--max-runs', '1'),
                          cwd=ROOT, env=demo_setup['env'], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]  # runs missing
    assert proc.stdout.count('training and testing') == 1
    with open(work / 'results.csv', newline='') as file:  # a partial report
        assert len(list(csv.DictReader(file))) == len(finished) + 1
    finished = {path: path.stat().st_mtime_ns for path in results if path.exists()}

    proc = subprocess.run(run_seeds_cmd(work, demo_setup['options']), cwd=ROOT,
                          env=demo_setup['env'], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.count('finished before, skipped') == len(finished)
    assert proc.stdout.count('training and testing') == len(results) - len(finished)
    assert all(path.stat().st_mtime_ns == finished[path] for path in finished)
    assert all(path.exists() for path in results)

    with open(work / 'results.csv', newline='') as file:
        rows = list(csv.DictReader(file))
    assert [(int(row['shots']), int(row['seed'])) for row in rows] == [
        (shots, seed) for shots in SHOTS for seed in SEEDS]
    for row in rows:  # the CSV holds each run's result file
        run = json.loads((work / f'{row["shots"]}shot_seed{row["seed"]}' /
                          'result.json').read_text())
        assert {key: float(value) for key, value in row.items() if value} == pytest.approx(
            dict(run['metrics'], shots=float(row['shots']), seed=float(row['seed'])))
        assert run['metrics']['time/train_s'] > 0 and run['metrics']['time/test_s'] > 0
    for key in ('fs/bbox_nAP50', 'fs/bbox_mAP', 'fs/bbox_bAP', 'fs/acc'):
        assert key in rows[0]

    table = read_markdown_table(work / 'results.md')
    for shots in SHOTS:  # the table equals a Student's t recomputation from the CSV
        for metric in ('fs/bbox_nAP50', 'fs/acc', 'fs/acc_novel'):
            assert table[metric, shots] == pytest.approx(
                student_t_from_csv(rows, metric, shots), abs=6e-5)
    assert (work / 'results.png').read_bytes()[:8] == PNG_MAGIC


@pytest.mark.slow
def test_distributed_run_equals_in_process_run(demo_setup: dict) -> None:
    env = dict(demo_setup['env'], PORT=free_port())  # torchrun's port
    metrics = {}
    for launcher in ('none', 'pytorch'):
        work = demo_setup['tmp'] / f'launcher_{launcher}'
        proc = subprocess.run(
            # --val on a validation set of training images (the demo's val set is its test set)
            run_seeds_cmd(work, demo_setup['options'] + [
                'val_dataloader.dataset.dataset.split=train', 'val_dataloader.dataset.indices=4'],
                '--launcher', launcher, '--val', shots=(1, ), seeds='0'),
            cwd=ROOT, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        metrics[launcher] = json.loads(
            (work / '1shot_seed0' / 'result.json').read_text())['metrics']
    assert 'fs/bbox_nAP50' in metrics['pytorch'] and 'val/fs/bbox_nAP50' in metrics['pytorch']
    scores = {launcher: {k: v for k, v in m.items() if k.startswith(('fs/', 'val/fs/'))}
              for launcher, m in metrics.items()}
    assert scores['pytorch'] == pytest.approx(scores['none'], abs=1e-4)
    assert all(m['time/train_s'] > 0 for m in metrics.values())


def test_a_config_template_names_one_config_per_number_of_shots():
    tool = runpy.run_path(str(ROOT / 'tools' / 'fewshot' / 'run_seeds.py'))
    template = 'configs/retentive_tfa/retentive-tfa_r18-light-fpn_neu-det_{shots}shot.py'
    assert tool['config_for_shots'](template, 10) == template.replace('{shots}', '10')
    args = tool['parse_args']([template, '--shots', '1', '5', '--seeds', '0-1'])
    assert args.work_dir == os.path.join('work_dirs', 'seeds',
                                         'retentive-tfa_r18-light-fpn_neu-det_kshot')
    cfg = tool['build_run_config'](args, 5, 1, '/tmp/run')
    assert (cfg.fewshot.shots, cfg.fewshot.seed, cfg.train_cfg.max_iters) == (5, 1, 400)
    assert cfg.val_dataloader is None and cfg.val_evaluator is None  # tested once, at the end
    # --val: the val set (a split of the training images) is kept, evaluated after training
    cfg = tool['build_run_config'](tool['parse_args']([template, '--shots', '5', '--seeds', '0',
                                                       '--val']), 5, 1, '/tmp/run')
    assert cfg.val_dataloader.dataset.dataset.ann_file.endswith('neu_det_splits/val.txt')
    assert cfg.test_dataloader.dataset.dataset.ann_file.endswith('neu_det_splits/test.txt')
    assert cfg.train_cfg.val_begin > cfg.train_cfg.max_iters  # never during training
    # a val set that is the test set (the demo's, MVTec-FS's) is refused: nothing is chosen on it
    demo = tool['parse_args'](['configs/demo/demo_5shot.py', '--shots', '5', '--seeds', '0',
                               '--val'])
    with pytest.raises(ValueError, match='reads the test set'):
        tool['build_run_config'](demo, 5, 0, '/tmp/run')


@pytest.mark.slow
def test_checkpoints_are_tested_as_trained_without_training(demo_setup: dict) -> None:
    trained, tested = demo_setup['tmp'] / 'ckpt_trained', demo_setup['tmp'] / 'ckpt_tested'
    proc = subprocess.run(run_seeds_cmd(trained, demo_setup['options'], shots=(1, ), seeds='0'),
                          cwd=ROOT, env=demo_setup['env'], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    template = str(trained / '{shots}shot_seed{seed}' / 'iter_4.pth')
    # seed 1 has no checkpoint: refused before anything runs, naming the file and the run
    proc = subprocess.run(run_seeds_cmd(tested, demo_setup['options'], '--checkpoints', template,
                                        shots=(1, ), seeds='1'),
                          cwd=ROOT, env=demo_setup['env'], capture_output=True, text=True)
    assert proc.returncode == 1
    assert f'{trained}/1shot_seed1/iter_4.pth: no such file' in proc.stderr
    assert 'shots=1, seed=1' in proc.stderr

    # into the experiment that trained them: its result.json would pass for the test
    proc = subprocess.run(run_seeds_cmd(trained, demo_setup['options'], '--checkpoints',
                                        template, shots=(1, ), seeds='0'),
                          cwd=ROOT, env=demo_setup['env'], capture_output=True, text=True)
    assert proc.returncode == 2 and 'the experiment that trained the --checkpoints' in proc.stderr
    proc = subprocess.run(run_seeds_cmd(tested, demo_setup['options'], '--checkpoints', template,
                                        shots=(1, ), seeds='0'),
                          cwd=ROOT, env=demo_setup['env'], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert '1shot_seed0: testing in' in proc.stdout and 'training and testing' not in proc.stdout
    runs = {name: json.loads((work / '1shot_seed0' / 'result.json').read_text())['metrics']
            for name, work in (('trained', trained), ('tested', tested))}
    assert 'time/train_s' not in runs['tested'] and runs['tested']['time/test_s'] > 0
    assert not list((tested / '1shot_seed0').glob('*.pth'))  # nothing trained, nothing saved
    scores = {name: {k: v for k, v in m.items() if k.startswith('fs/')}
              for name, m in runs.items()}
    assert 'fs/bbox_nAP50' in scores['tested']
    assert scores['tested'] == pytest.approx(scores['trained'], abs=1e-6)


@pytest.mark.parametrize('template, extra, message', [
    ('x/{shots}_{seed}.pth', ['--iters-per-shot', '10'], 'nothing is trained'),
    ('x/{shots}.pth', [], 'one checkpoint would be tested as several runs'),
    ('x/{shots}_{seed}_{iter}.pth', [], 'a template with {shots} and {seed} only'),
])
def test_checkpoints_refuse_what_cannot_be_tested(capsys, template, extra, message) -> None:
    tool = runpy.run_path(str(ROOT / 'tools' / 'fewshot' / 'run_seeds.py'))
    with pytest.raises(SystemExit):
        tool['parse_args'](['configs/demo/demo_5shot.py', '--shots', '1', '--seeds', '0-1',
                            '--checkpoints', template, *extra])
    assert message in capsys.readouterr().err
