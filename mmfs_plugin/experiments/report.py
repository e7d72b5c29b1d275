"""Tables of a multi-seed experiment: ``results.csv`` (one row per run, by shots then seed;
``shots``, ``seed``, every metric) and ``results.md`` (per metric and shots: ``n``, mean, sample
std ``s`` and the 95% CI half-width ``t·s/√n`` of :mod:`.stats`; ``n/a`` for a single seed)."""
import csv
import math
from typing import Dict, List, Sequence

from mmfs_data.fileio import atomic_write
from .run_result import RunResult
from .stats import MetricSummary, summarize

#: shots -> metric name -> summary over the seeds.
Summary = Dict[int, Dict[str, MetricSummary]]


def _metric_names(results: Sequence[RunResult]) -> List[str]:
    """Every metric name of any run, sorted."""
    return sorted({name for result in results for name in result.metrics})


def aggregate_results(results: Sequence[RunResult]) -> Summary:
    """Summarise every metric over the seeds of each number of shots.

    Args:
        results (Sequence[RunResult]): The finished runs.

    Returns:
        dict[int, dict[str, MetricSummary]]: Shots (ascending) -> metric (sorted) -> summary
        over the runs with that number of shots that report the metric.
    """
    summary: Summary = {}
    for shots in sorted({result.shots for result in results}):
        runs = [result for result in results if result.shots == shots]
        summary[shots] = {
            name: summarize([run.metrics[name] for run in runs if name in run.metrics])
            for name in _metric_names(runs)
        }
    return summary


def write_results_csv(results: Sequence[RunResult], path: str) -> None:
    """Write one row per run (shots, seed, every metric), atomically.

    Args:
        results (Sequence[RunResult]): The finished runs.
        path (str): The CSV file to write.
    """
    names = _metric_names(results)
    with atomic_write(path) as file:
        writer = csv.writer(file, lineterminator='\n')
        writer.writerow(['shots', 'seed', *names])
        for result in sorted(results, key=lambda run: (run.shots, run.seed)):
            writer.writerow([result.shots, result.seed] +
                            [repr(result.metrics[name]) if name in result.metrics else ''
                             for name in names])


def read_results_csv(path: str) -> List[RunResult]:
    """Read the runs of a :func:`write_results_csv` file back (empty cells: metrics the run
    does not have).

    Args:
        path (str): The CSV file.

    Returns:
        list[RunResult]: The runs, in the file's order.

    Raises:
        ValueError: A row without an integer ``shots``/``seed`` or with a non-number cell;
            the message names the file, the row and the column.
    """
    results = []
    with open(path, newline='', encoding='utf-8') as file:
        for line, row in enumerate(csv.DictReader(file), start=2):
            try:
                shots, seed = int(row.pop('shots')), int(row.pop('seed'))
                metrics = {name: float(value) for name, value in row.items() if value}
            except (TypeError, ValueError) as error:
                raise ValueError(f'{path}: line {line}: {error}') from None
            results.append(RunResult(shots=shots, seed=seed, metrics=metrics))
    return results


def _number(value: float) -> str:
    """A table cell: 4 decimals, or ``n/a`` for an undefined value."""
    return 'n/a' if math.isnan(value) else f'{value:.4f}'


def write_results_markdown(summary: Summary, path: str) -> None:
    """Write the mean, std and 95% CI of the mean of every metric per shots as a Markdown table.

    Args:
        summary (dict[int, dict[str, MetricSummary]]): From :func:`aggregate_results`.
        path (str): The Markdown file to write.
    """
    lines = [
        '# Results over seeds',
        '',
        'n: number of seeds; std: sample standard deviation s (ddof=1); 95% CI: half-width of '
        "the 95% confidence interval of the mean, Student's t with n-1 degrees of freedom: "
        't·s/√n (mean ± 95% CI).',
        '',
        '| metric | shots | n | mean | std | 95% CI |',
        '|---|---:|---:|---:|---:|---:|',
    ]
    names = sorted({name for per_shots in summary.values() for name in per_shots})
    for name in names:
        for shots, per_shots in summary.items():
            if name in per_shots:
                stat = per_shots[name]
                lines.append(f'| {name} | {shots} | {stat.n} | {_number(stat.mean)} | '
                             f'{_number(stat.std)} | {_number(stat.ci95)} |')
    with atomic_write(path) as file:
        file.write('\n'.join(lines) + '\n')
