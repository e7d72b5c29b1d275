"""Multi-seed experiments (no torch, no mmdet): per-run result files, aggregation over seeds,
reports and plots; ``tools/fewshot/run_seeds.py`` runs the experiments."""
from .report import (aggregate_results, read_results_csv, write_results_csv,
                     write_results_markdown)
from .run_result import (RESULT_FORMAT, RunResult, load_run_result, run_dir_name,
                         save_run_result)
from .shots_plot import plot_metrics_against_shots
from .stats import MetricSummary, summarize

__all__ = [
    'MetricSummary', 'summarize', 'RESULT_FORMAT', 'RunResult', 'run_dir_name',
    'save_run_result', 'load_run_result', 'aggregate_results', 'read_results_csv',
    'write_results_csv',
    'write_results_markdown', 'plot_metrics_against_shots'
]
