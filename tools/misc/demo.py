"""The few-shot demo on CPU (``make demo``): synthetic MVTec-FS data, base training, 5-shot
fine-tuning, evaluation, a results table and pictures.

Every step runs a tool of ``tools/`` as a subprocess; its whole output goes to a log file in the
work dir (``<step>.log``) and the screen shows one progress bar per step, the results table and
the pictures written. A step whose result exists is skipped, so an interrupted demo resumes
where it stopped (a training step with a ``last_checkpoint`` continues from it)::

    python tools/misc/demo.py --work-dir work_dirs/demo [--data-root data/demo_mvtec_fs]
"""
import argparse
import collections
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time
import warnings
from typing import Deque, Dict, List, Optional, Sequence

# mmengine imports pkg_resources (setuptools<81 is pinned for it): its deprecation warning is
# expected and says nothing to a demo user; the tools' own output goes to the step logs
warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)
from mmengine.config import Config  # noqa: E402
from terminaltables import AsciiTable  # noqa: E402
from tqdm import tqdm  # noqa: E402

from mmfs_data.fileio import dump_json_atomic  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools')
BASE_CONFIG = osp.join(REPO, 'configs', 'demo', 'demo_base.py')
FINETUNE_CONFIG = osp.join(REPO, 'configs', 'demo', 'demo_5shot.py')
#: mmengine's progress lines: ``Iter(train) [ 40/300]``, ``Iter(test) [10/14]``.
PROGRESS = re.compile(r'(?:Iter|Epoch)\((?:train|val|test)\)\s*\[\s*(\d+)/(\d+)\]')
#: What the tools log every this many iterations, so that the bars move.
LOG_INTERVAL = 'default_hooks.logger.interval=10'
TEST_LOG_INTERVAL = 'default_hooks.logger.interval=1'
#: Table rows: (row name, AP key, AP50 key, GT-box accuracy key), keys without ``fs/``.
TABLE_ROWS = (
    ('overall', 'bbox_mAP', 'bbox_mAP_50', 'acc'),
    ('base', 'bbox_bAP', 'bbox_bAP50', 'acc_base'),
    ('novel', 'bbox_nAP', 'bbox_nAP50', 'acc_novel'),
)


class StepError(RuntimeError):
    """A demo step failed; the message names the step."""


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        argparse.Namespace: The arguments.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/demo',
                        help='where the runs, metrics and pictures go (default: '
                        'work_dirs/demo)')
    parser.add_argument('--data-root', default='data/demo_mvtec_fs',
                        help='the synthetic tree, generated when missing (default: '
                        'data/demo_mvtec_fs)')
    return parser.parse_args(argv)


def format_metrics_table(metrics: Dict[str, float], **inspection: float) -> str:
    """Render overall/base/novel AP, AP50 and GT-box accuracy as a table (in %), and the
    inspection rates below it (:func:`format_inspection_line`).

    Args:
        metrics (dict[str, float]): Test metrics as fractions, keyed with or without the
            ``fs/`` prefix; a missing or negative (no ground truth) value shows as ``-``.
        **inspection (float): ``score_thr`` and ``overkill_rate`` of the ``InspectionMetric``.

    Returns:
        str: The table.
    """
    def cell(key: str) -> str:
        value = metrics.get(f'fs/{key}', metrics.get(key))
        return '-' if value is None or value < 0 else f'{100 * value:.1f}'

    rows = [['classes', 'mAP', 'AP50', 'GT-box acc']]
    rows += [[name] + [cell(key) for key in keys] for name, *keys in TABLE_ROWS]
    table = AsciiTable(rows, title=' 5-shot test (%) ')
    table.justify_columns = {1: 'right', 2: 'right', 3: 'right'}
    return table.table + '\n' + format_inspection_line(metrics, **inspection)


def format_inspection_line(metrics: Dict[str, float], score_thr: float = 0.5,
                           overkill_rate: float = 0.01) -> str:
    """The image-level inspection rates (``InspectionMetric``, every class) as two lines.

    Args:
        metrics (dict[str, float]): Test metrics, keyed with the ``inspect/`` prefix.
        score_thr (float): The metric's ``score_thr``. Defaults to 0.5.
        overkill_rate (float): The metric's ``overkill_rate``. Defaults to 0.01.

    Returns:
        str: The lines (``-`` for a rate that is missing or undefined).
    """
    def cell(key: str, percent: bool = True) -> str:
        value = metrics.get(f'inspect/{key}')
        if value is None or not value >= 0:  # missing, NaN (undefined) or -1
            return '-'
        return f'{100 * value:.1f}%' if percent else f'{value:.2f}'

    good = metrics.get('inspect/good_images')
    return (f'Per image (rejected when a detection scores above {score_thr:g}): escape '
            f'{cell("escape_rate")}, overkill {cell("overkill_rate")}\n'
            f'  ({"-" if good is None else int(good)} defect-free images), AUROC '
            f'{cell("auroc", percent=False)}; at {100 * overkill_rate:g}% overkill: threshold '
            f'{cell("threshold_at_overkill", percent=False)}, escape '
            f'{cell("escape_at_overkill")}')


def run_step(name: str, command: List[str], log_file: str) -> None:
    """Run one step's command with its output in ``log_file`` and a progress bar on screen.

    The bar follows mmengine's ``Iter(train) [i/n]`` and ``Epoch(test) [i/n]`` lines.

    Args:
        name (str): The step's name (in messages).
        command (list[str]): The command.
        log_file (str): Where its output (stdout and stderr) goes.

    Raises:
        StepError: The command could not start or exited with a non-zero status; the message
            holds the last lines of its log.
    """
    os.makedirs(osp.dirname(log_file), exist_ok=True)
    tail: Deque[str] = collections.deque(maxlen=25)
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    with open(log_file, 'w', encoding='utf-8') as log, tqdm(
            desc=f'{name:<20}', total=None, unit='it', leave=True, dynamic_ncols=True,
            bar_format='{desc} {bar} {n_fmt}/{total_fmt} [{elapsed}]') as bar:
        log.write(f'$ {" ".join(command)}\n')
        try:
            proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, errors='replace')
        except OSError as error:
            raise StepError(f'step "{name}" could not start: {error}') from error
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            tail.append(line)
            match = PROGRESS.search(line)
            if match:
                done, total = int(match.group(1)), int(match.group(2))
                if bar.total != total:
                    bar.reset(total=total)
                bar.update(done - bar.n)
        status = proc.wait()
        if status == 0 and bar.total:
            bar.update(bar.total - bar.n)
        bar.bar_format = ('{desc} done' + (' {n_fmt}/{total_fmt}' if bar.total else '')
                          + ' in {elapsed}' if status == 0 else '{desc} FAILED after {elapsed}')
        bar.refresh()
    if status != 0:
        raise StepError(f'step "{name}" failed with exit status {status}; the end of its log '
                        f'{log_file}:\n' + ''.join(tail))


def train_step(name: str, config: str, work_dir: str, options: List[str]) -> str:
    """Train unless the final checkpoint exists; resume a run that has a checkpoint.

    Args:
        name (str): The step's name.
        config (str): The config.
        work_dir (str): The run's work dir.
        options (list[str]): ``--cfg-options`` items.

    Returns:
        str: The final checkpoint.
    """
    final_iter = Config.fromfile(config).train_cfg.max_iters
    checkpoint = osp.join(work_dir, f'iter_{final_iter}.pth')
    if osp.exists(checkpoint):
        print(f'{name:<20} skipped: {checkpoint} exists', flush=True)
        return checkpoint
    command = [sys.executable, osp.join(TOOLS, 'train.py'), config, '--work-dir', work_dir]
    if osp.exists(osp.join(work_dir, 'last_checkpoint')):
        command.append('--resume')
    # no validation at the end of training: the evaluation step tests the model right after
    run_step(name, command + ['--cfg-options', LOG_INTERVAL,
                              f'train_cfg.val_begin={final_iter + 1}'] + options,
             work_dir + '.log')
    if not osp.exists(checkpoint):
        raise StepError(f'step "{name}" finished without writing {checkpoint}')
    return checkpoint


def latest_test_metrics(test_dir: str) -> Dict[str, float]:
    """Read the metrics of the newest test run in ``test_dir`` (mmengine's ``<ts>/<ts>.json``).

    Args:
        test_dir (str): The test run's work dir.

    Returns:
        dict[str, float]: The metrics.

    Raises:
        StepError: No metrics file, or one that cannot be read.
    """
    files = sorted(glob.glob(osp.join(test_dir, '*', '*.json')))
    files = [path for path in files
             if osp.basename(path) == osp.basename(osp.dirname(path)) + '.json']
    if not files:
        raise StepError(f'step "evaluate": no metrics file <timestamp>/<timestamp>.json '
                        f'in {test_dir}')
    try:
        with open(files[-1], encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError) as error:
        raise StepError(f'step "evaluate": {files[-1]}: cannot read the metrics: '
                        f'{error}') from error


def demo(work_dir: str, data_root: str) -> List[str]:
    """Run every step and print the results table.

    Args:
        work_dir (str): The demo's work dir.
        data_root (str): The synthetic data tree.

    Returns:
        list[str]: The pictures written.
    """
    data_options = [f'{loader}_dataloader.dataset.dataset.data_root={data_root}'
                    for loader in ('train', 'val', 'test')]
    if osp.isdir(osp.join(data_root, 'image')):
        print(f'{"data":<20} skipped: {data_root} exists', flush=True)
    else:
        run_step('data', [sys.executable, osp.join(TOOLS, 'dataset_converters',
                                                   'make_synthetic_mvtecfs.py'), data_root],
                 osp.join(work_dir, 'data.log'))
    base_checkpoint = train_step('base training', BASE_CONFIG, osp.join(work_dir, 'base'),
                                 data_options)
    finetuned = train_step('5-shot fine-tuning', FINETUNE_CONFIG, osp.join(work_dir, '5shot'),
                           data_options + [f'fewshot.base_checkpoint={base_checkpoint}'])
    test_dir = osp.join(work_dir, 'test')
    predictions = osp.join(test_dir, 'predictions.pkl')
    metrics_file = osp.join(test_dir, 'metrics.json')
    if osp.exists(predictions) and osp.exists(metrics_file):
        print(f'{"evaluation":<20} skipped: {metrics_file} exists', flush=True)
    else:
        run_step('evaluation', [
            sys.executable, osp.join(TOOLS, 'test.py'), FINETUNE_CONFIG, finetuned,
            '--work-dir', test_dir, '--out', predictions, '--cfg-options', TEST_LOG_INTERVAL]
            + data_options, osp.join(work_dir, 'test.log'))
        dump_json_atomic(latest_test_metrics(test_dir), metrics_file)
    with open(metrics_file, encoding='utf-8') as f:
        metrics = json.load(f)
    pictures = osp.join(work_dir, 'pictures')
    run_step('pictures', [sys.executable, osp.join(TOOLS, 'misc', 'demo_pictures.py'),
                          FINETUNE_CONFIG, predictions, pictures, '--cfg-options']
             + data_options, osp.join(work_dir, 'pictures.log'))
    evaluators = Config.fromfile(FINETUNE_CONFIG).test_evaluator
    inspection = next(({key: metric[key] for key in ('score_thr', 'overkill_rate') if key in metric}
                       for metric in evaluators if metric['type'] == 'InspectionMetric'), {})
    print('\n' + format_metrics_table(metrics, **inspection))
    return sorted(glob.glob(osp.join(pictures, '**', '*.png'), recursive=True))


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the demo.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        int: The exit status (0 on success, 1 when a step failed).
    """
    args = parse_args(argv)
    work_dir = osp.abspath(args.work_dir)
    data_root = osp.abspath(args.data_root)
    threads = os.environ.get('OMP_NUM_THREADS', 'all cores')
    print(f'mmfs_plugin demo: synthetic MVTec-FS-shaped data ({data_root}), base training, '
          f'5-shot G-FSOD fine-tuning with the default recipe, evaluation; CPU, '
          f'OMP_NUM_THREADS={threads}. Logs: {work_dir}/*.log', flush=True)
    start = time.monotonic()
    try:
        pictures = demo(work_dir, data_root)
    except StepError as error:
        print(f'demo: error: {error}\nFix it and run the demo again to resume.',
              file=sys.stderr)
        return 1
    print(f'\nMetrics: {osp.join(work_dir, "test", "metrics.json")}')
    folders = sorted({osp.dirname(path) for path in pictures})
    print(f'Pictures ({len(pictures)}): ' + ', '.join(
        f'{folder}/ ({sum(osp.dirname(p) == folder for p in pictures)})' for folder in folders))
    print(f'Demo done in {time.monotonic() - start:.0f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
