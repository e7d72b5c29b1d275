"""The plot of a multi-seed experiment: metrics against shots with 95% CI error bars."""
import math
from typing import List, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from mmfs_data.fileio import atomic_write  # noqa: E402
from .report import Summary  # noqa: E402

DEFAULT_PLOT_METRICS = ('fs/bbox_nAP50', 'fs/acc')


def plot_series(series: Sequence[Tuple[str, Summary, str]], path: str, ylabel: str,
                scale: float = 1.0) -> None:
    """Plot curves of metric means against shots, with 95% CI error bars, to a PNG.

    Args:
        series (Sequence[tuple[str, Summary, str]]): Per curve: its label, the summary
            (:func:`~mmfs_plugin.experiments.aggregate_results`) and the metric drawn.
        path (str): The PNG file to write (atomically).
        ylabel (str): The y axis label.
        scale (float): Multiplies every value (100: fractions drawn in percent).
    """
    figure, axes = plt.subplots(figsize=(6, 4))
    try:
        all_shots = set()
        for label, summary, name in series:
            shots = [k for k, stats in summary.items() if name in stats]
            all_shots.update(shots)
            means = [scale * summary[k][name].mean for k in shots]
            errors = [0.0 if math.isnan(summary[k][name].ci95) else
                      scale * summary[k][name].ci95 for k in shots]
            axes.errorbar(shots, means, yerr=errors, marker='o', capsize=4, label=label)
        axes.set_xlabel('shots')
        axes.set_ylabel(ylabel)
        axes.set_xticks(sorted(all_shots))
        axes.grid(alpha=0.3)
        axes.legend()
        figure.tight_layout()
        with atomic_write(path, mode='wb') as file:
            figure.savefig(file, format='png', dpi=100)
    finally:
        plt.close(figure)


def plot_metrics_against_shots(summary: Summary, path: str,
                               metrics: Sequence[str] = DEFAULT_PLOT_METRICS) -> List[str]:
    """Plot the mean of metrics against shots to a PNG, with the 95% CI over the seeds
    (:mod:`.stats`) as error bars (none for a single seed).

    Args:
        summary (dict[int, dict[str, MetricSummary]]): From
            :func:`~mmfs_plugin.experiments.aggregate_results`.
        path (str): The PNG file to write (atomically).
        metrics (Sequence[str]): The metrics to draw; those that no shots report are left
            out. Defaults to novel AP50 and GT-box classification accuracy.

    Returns:
        list[str]: The metrics drawn.
    """
    drawn = [name for name in metrics if any(name in stats for stats in summary.values())]
    if not drawn:
        raise ValueError(f'{path}: metrics: none of {list(metrics)} in the results')
    plot_series([(name, summary, name) for name in drawn], path,
                "mean over seeds (95% CI, Student's t)")
    return drawn
