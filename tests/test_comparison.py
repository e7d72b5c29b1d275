"""Methods side by side: means, Student's t intervals and paired differences over seeds."""
import runpy
from pathlib import Path

import pytest
from scipy import stats

from mmfs_plugin.experiments import RunResult, save_run_result, write_results_csv
from mmfs_plugin.experiments.comparison import (comparison_table, load_experiment,
                                                paired_difference)

TOOL = Path(__file__).resolve().parents[1] / 'tools' / 'analysis_tools' / 'compare_methods.py'


def write_runs(folder: Path, values: dict) -> None:
    for (shots, seed), value in values.items():
        run_dir = folder / f'{shots}shot_seed{seed}'
        run_dir.mkdir(parents=True)
        save_run_result(str(run_dir), RunResult(shots, seed, {'fs/bbox_nAP50': value,
                                                              'time/train_s': 100.0}))


def test_paired_difference_is_a_t_interval_of_the_per_seed_differences():
    ours = [RunResult(5, s, {'m': v}) for s, v in enumerate([0.6, 0.7, 0.8])]
    theirs = [RunResult(5, s, {'m': v}) for s, v in enumerate([0.5, 0.5, 0.7, 0.9])]
    diff = paired_difference(ours, theirs, 5, 'm')  # seed 3 has no partner
    diffs = [0.1, 0.2, 0.1]
    assert diff.n == 3 and diff.mean == pytest.approx(sum(diffs) / 3)
    half = stats.t.ppf(0.975, 2) * stats.tstd(diffs) / 3 ** 0.5
    assert diff.ci95 == pytest.approx(half)
    assert paired_difference(ours, theirs, 1, 'm') is None


def test_tool_writes_the_table(tmp_path, capsys):
    write_runs(tmp_path / 'a', {(5, 0): 0.60, (5, 1): 0.70, (1, 0): 0.2})
    write_runs(tmp_path / 'b', {(5, 0): 0.50, (5, 1): 0.55})
    assert [r.seed for r in load_experiment(str(tmp_path / 'a'))] == [0, 0, 1]
    main = runpy.run_path(str(TOOL))['main']
    out = tmp_path / 'table.md'
    assert main(['--method', f'ours={tmp_path / "a"}', '--method', f'anchor={tmp_path / "b"}',
                 '--reference', 'anchor', '--metrics', 'fs/bbox_nAP50', '--out', str(out),
                 '--plot', str(tmp_path / 'plot.png')]) == 0
    table = out.read_text().splitlines()
    assert table[0] == '| shots | method | seeds | bbox_nAP50 | Δ bbox_nAP50 vs anchor | ' \
                       'train_s | test_s |'
    assert table[2] == '| 1 | ours | 1 | 20.0 | - | 100 | - |'
    half = 100 * stats.t.ppf(0.975, 1) * stats.tstd([0.6, 0.7]) / 2 ** 0.5
    assert table[3] == f'| 5 | ours | 2 | 65.0 ± {half:.1f} | +12.5 ± ' \
                       f'{100 * stats.t.ppf(0.975, 1) * stats.tstd([0.1, 0.15]) / 2 ** 0.5:.1f}' \
                       ' | 100 | - |'
    assert table[4].startswith('| 5 | anchor | 2 | 52.5') and '(anchor)' in table[4]
    assert (tmp_path / 'plot.png').stat().st_size > 0
    assert main(['--method', f'x={tmp_path / "none"}', '--out', str(out)]) == 1
    with pytest.raises(SystemExit):
        main(['--method', 'no-folder', '--out', str(out)])


def test_a_results_csv_stands_for_its_work_dir_and_the_oracle_column(tmp_path):
    write_runs(tmp_path / 'a', {(5, 0): 0.60, (5, 1): 0.70})
    write_results_csv(load_experiment(str(tmp_path / 'a')), str(tmp_path / 'a.csv'))
    assert load_experiment(str(tmp_path / 'a.csv')) == load_experiment(str(tmp_path / 'a'))
    main = runpy.run_path(str(TOOL))['main']
    out = tmp_path / 'table.md'
    assert main(['--method', f'ours={tmp_path / "a.csv"}', '--metrics', 'fs/bbox_nAP50',
                 '--oracle', '0.8', '--out', str(out)]) == 0
    header, _, row = out.read_text().splitlines()
    assert header == '| shots | method | seeds | bbox_nAP50 | bbox_nAP50 / oracle | train_s | ' \
                     'test_s |'
    half = stats.t.ppf(0.975, 1) * stats.tstd([0.6, 0.7]) / 2 ** 0.5
    assert row == f'| 5 | ours | 2 | 65.0 ± {100 * half:.1f} | {0.65 / 0.8:.2f} ± ' \
                  f'{half / 0.8:.2f} | 100 | - |'
    with pytest.raises(SystemExit):  # a percent, not a fraction
        main(['--method', f'ours={tmp_path / "a.csv"}', '--oracle', '83', '--out', str(out)])
    (tmp_path / 'bad.csv').write_text('shots,seed,m\n5,x,0.1\n')
    with pytest.raises(ValueError, match='bad.csv: line 2'):
        load_experiment(str(tmp_path / 'bad.csv'))
