"""The result file of a run (``shots``, ``seed``): ``result.json`` in
``<work_dir>/<shots>shot_seed<seed>/``, written atomically by its last step; the run is finished
when the file is valid and its own::

    {"format": "mmfs_plugin.seed_run/1", "shots": 5, "seed": 0, "metrics": {"fs/acc": 0.83}}
"""
import json
import math
import os.path as osp
from dataclasses import dataclass
from typing import Dict, Optional

from mmfs_data.fileio import dump_json_atomic

RESULT_FORMAT = 'mmfs_plugin.seed_run/1'
RESULT_FILE = 'result.json'


@dataclass(frozen=True)
class RunResult:
    """The metrics of one finished run.

    Args:
        shots (int): The number of shots.
        seed (int): The k-shot seed.
        metrics (dict[str, float]): The evaluation metrics, by name.
    """
    shots: int
    seed: int
    metrics: Dict[str, float]


def run_dir_name(shots: int, seed: int) -> str:
    """The folder of a run inside the experiment's work dir.

    Args:
        shots (int): The number of shots.
        seed (int): The seed.

    Returns:
        str: ``'<shots>shot_seed<seed>'``.
    """
    return f'{shots}shot_seed{seed}'


def save_run_result(run_dir: str, result: RunResult) -> str:
    """Write a run's ``result.json`` atomically: it appears complete or not at all.

    Args:
        run_dir (str): The run's folder (it must exist).
        result (RunResult): The run's metrics; every value must be a finite number.

    Returns:
        str: The path of the written file.
    """
    path = osp.join(run_dir, RESULT_FILE)
    _check_metrics(result.metrics, path)
    dump_json_atomic(
        dict(format=RESULT_FORMAT, shots=result.shots, seed=result.seed,
             metrics=result.metrics), path)
    return path


def load_run_result(run_dir: str, shots: int, seed: int) -> Optional[RunResult]:
    """Read a run's result file if the run is finished.

    Args:
        run_dir (str): The run's folder.
        shots (int): The expected number of shots.
        seed (int): The expected seed.

    Returns:
        RunResult | None: The result, or None when the folder holds no result file.

    Raises:
        ValueError: The file exists but is not a valid result of this run; the message names
            the file and the field.
    """
    path = osp.join(run_dir, RESULT_FILE)
    if not osp.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as file:
            content = json.load(file)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f'{path}: <file>: not readable JSON ({error})') from error
    if not isinstance(content, dict):
        raise ValueError(f'{path}: <root>: expected an object, got {type(content).__name__}')
    expected = dict(format=RESULT_FORMAT, shots=shots, seed=seed)
    for field, value in expected.items():
        if content.get(field) != value:
            raise ValueError(f'{path}: {field}: expected {value!r}, got {content.get(field)!r}')
    metrics = content.get('metrics')
    _check_metrics(metrics, path)
    return RunResult(shots=shots, seed=seed, metrics=dict(metrics))


def _check_metrics(metrics: object, path: str) -> None:
    """Raise a ValueError naming ``path`` unless ``metrics`` maps names to finite numbers."""
    if not isinstance(metrics, dict) or not metrics:
        raise ValueError(f'{path}: metrics: expected a non-empty object, got {metrics!r}')
    for name, value in metrics.items():
        if (not isinstance(value, (int, float)) or isinstance(value, bool)
                or not math.isfinite(value)):
            raise ValueError(f'{path}: metrics.{name}: expected a finite number, got {value!r}')
