"""Methods compared side by side, one ``tools/fewshot/run_seeds.py`` work dir each: per
(shots, method) and metric, the mean over seeds with its 95% CI (:mod:`.stats`) in percent,
and the **paired** difference to the anchor method over the seeds both ran (the same k-shot
draws)."""
import glob
import math
import os.path as osp
import re
from typing import Dict, List, Mapping, Optional, Sequence

from .report import Summary, aggregate_results, read_results_csv
from .run_result import RunResult, load_run_result
from .shots_plot import plot_series
from .stats import MetricSummary, summarize

_RUN_DIR = re.compile(r'^(\d+)shot_seed(\d+)$')


def load_experiment(work_dir: str) -> List[RunResult]:
    """Read every finished run of a ``tools/fewshot/run_seeds.py`` work dir, or of its
    ``results.csv`` (kept where the work dir is not: ``docs/results/``).

    Args:
        work_dir (str): The experiment folder (``<k>shot_seed<s>/result.json`` inside) or a
            ``results.csv`` file.

    Returns:
        list[RunResult]: The finished runs, sorted by shots then seed.
    """
    if work_dir.endswith('.csv'):
        return sorted(read_results_csv(work_dir), key=lambda r: (r.shots, r.seed))
    results = []
    for run_dir in sorted(glob.glob(osp.join(glob.escape(work_dir), '*shot_seed*'))):
        match = _RUN_DIR.match(osp.basename(run_dir))
        if match:
            result = load_run_result(run_dir, int(match.group(1)), int(match.group(2)))
            if result is not None:
                results.append(result)
    return sorted(results, key=lambda r: (r.shots, r.seed))


def paired_difference(results: Sequence[RunResult], reference: Sequence[RunResult],
                      shots: int, metric: str) -> Optional[MetricSummary]:
    """The mean difference ``results - reference`` of a metric over the seeds both ran.

    Args:
        results (Sequence[RunResult]): The runs of a method.
        reference (Sequence[RunResult]): The runs of the reference method.
        shots (int): The number of shots compared.
        metric (str): The metric.

    Returns:
        MetricSummary | None: n, mean, std and 95% CI of the per-seed differences; None when
        no seed has the metric in both.
    """
    ours = {r.seed: r.metrics[metric] for r in results if r.shots == shots and metric in r.metrics}
    theirs = {r.seed: r.metrics[metric] for r in reference
              if r.shots == shots and metric in r.metrics}
    seeds = sorted(set(ours) & set(theirs))
    return summarize([ours[s] - theirs[s] for s in seeds]) if seeds else None


def _cell(summary: Optional[MetricSummary], signed: bool = False) -> str:
    """``'52.8 ± 6.1'`` in percent (``±`` the 95% CI half-width), or ``'-'``."""
    if summary is None:
        return '-'
    mean = f'{100 * summary.mean:+.1f}' if signed else f'{100 * summary.mean:.1f}'
    return mean if math.isnan(summary.ci95) else f'{mean} ± {100 * summary.ci95:.1f}'


def _column(metric: str) -> str:
    """A metric's column name: without the ``fs/`` prefix (``val/fs/bbox_nAP50`` ->
    ``val/bbox_nAP50``)."""
    return metric.replace('fs/', '')


def _fraction(summary: Optional[MetricSummary], oracle: float) -> str:
    """``'0.52 ± 0.06'``: a mean and its 95% CI half-width as fractions of ``oracle``."""
    if summary is None:
        return '-'
    mean = f'{summary.mean / oracle:.2f}'
    return mean if math.isnan(summary.ci95) else f'{mean} ± {summary.ci95 / oracle:.2f}'


def comparison_table(experiments: Mapping[str, Sequence[RunResult]], metrics: Sequence[str],
                     reference: Optional[str] = None,
                     seconds: Sequence[str] = ('time/train_s', 'time/test_s'),
                     oracle: Optional[float] = None) -> str:
    """Render the methods side by side as a Markdown table.

    Args:
        experiments (Mapping[str, Sequence[RunResult]]): Method name -> its runs, in the order
            the rows are wanted.
        metrics (Sequence[str]): The metrics (fractions in [0, 1]), shown in percent.
        reference (str, optional): The anchor method: every other method gets a column
            ``Δ <metric> vs <reference>`` (paired over common seeds) for the first metric.
        seconds (Sequence[str]): Timing metrics shown in seconds when present.
        oracle (float, optional): The first metric of the full-data oracle: a column gives
            each row's mean (and interval) as a fraction of it.

    Returns:
        str: The table (a header, then rows by shots, then method).
    """
    summaries: Dict[str, Summary] = {name: aggregate_results(runs)
                                     for name, runs in experiments.items()}
    shots_values = sorted({k for summary in summaries.values() for k in summary})
    head = ['shots', 'method', 'seeds'] + [_column(name) for name in metrics]
    if oracle is not None:
        head.append(f'{_column(metrics[0])} / oracle')
    if reference is not None:
        head.append(f'Δ {_column(metrics[0])} vs {reference}')
    head += [f'{name.split("/")[-1]}' for name in seconds]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for shots in shots_values:
        for name, summary in summaries.items():
            stats = summary.get(shots)
            if stats is None:
                continue
            n = max((s.n for s in stats.values()), default=0)
            row = [str(shots), name, str(n)] + [_cell(stats.get(m)) for m in metrics]
            if oracle is not None:
                row.append(_fraction(stats.get(metrics[0]), oracle))
            if reference is not None:
                row.append('(anchor)' if name == reference else _cell(paired_difference(
                    experiments[name], experiments[reference], shots, metrics[0]), signed=True))
            row += [f'{stats[m].mean:.0f}' if m in stats else '-' for m in seconds]
            lines.append('| ' + ' | '.join(row) + ' |')
    return '\n'.join(lines) + '\n'


def plot_methods_against_shots(experiments: Mapping[str, Sequence[RunResult]], metric: str,
                               path: str) -> None:
    """Plot one metric's mean against shots for every method, 95% CI bars, to a PNG.

    Args:
        experiments (Mapping[str, Sequence[RunResult]]): Method name -> its runs.
        metric (str): The metric (a fraction), drawn in percent.
        path (str): The PNG file (written atomically).
    """
    plot_series([(name, aggregate_results(runs), metric) for name, runs in experiments.items()],
                path, f"{metric.split('/')[-1]} (%), mean over seeds, 95% CI (t)", scale=100)
