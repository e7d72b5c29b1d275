"""The few-shot demo on CPU (``make demo``): synthetic MVTec-FS data, base training, 5-shot
fine-tuning, evaluation, a results table and pictures.

Every step runs ``tools/*.py`` as a subprocess (its output streams). A step whose result
exists is skipped, so an interrupted demo resumes where it stopped (a training step with a
``last_checkpoint`` continues from it)::

    python tools/demo.py --work-dir work_dirs/demo [--data-root data/demo_mvtec_fs]
"""
import argparse
import glob
import json
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config
from terminaltables import AsciiTable

from mmfs_plugin.fileio import dump_json_atomic

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOLS = osp.join(REPO, 'tools')
BASE_CONFIG = osp.join(REPO, 'configs', 'demo', 'demo_base.py')
FINETUNE_CONFIG = osp.join(REPO, 'configs', 'demo', 'demo_5shot.py')
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


def format_metrics_table(metrics: Dict[str, float]) -> str:
    """Render overall/base/novel AP, AP50 and GT-box accuracy as a table (in %).

    Args:
        metrics (dict[str, float]): Test metrics as fractions, keyed with or without the
            ``fs/`` prefix; a missing or negative (no ground truth) value shows as ``-``.

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
    return table.table


def run_step(name: str, command: List[str]) -> None:
    """Run one step's command, streaming its output.

    Args:
        name (str): The step's name (in messages).
        command (list[str]): The command.

    Raises:
        StepError: The command could not start or exited with a non-zero status.
    """
    print(f'\n==> demo step "{name}": {" ".join(command)}', flush=True)
    start = time.monotonic()
    try:
        status = subprocess.call(command, cwd=REPO)
    except OSError as error:
        raise StepError(f'step "{name}" could not start: {error}') from error
    if status != 0:
        raise StepError(f'step "{name}" failed with exit status {status} (its output is '
                        f'above); command: {" ".join(command)}')
    print(f'==> demo step "{name}" done in {time.monotonic() - start:.0f} s', flush=True)


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
        print(f'==> demo step "{name}": skipped, {checkpoint} exists', flush=True)
        return checkpoint
    command = [sys.executable, osp.join(TOOLS, 'train.py'), config, '--work-dir', work_dir]
    if osp.exists(osp.join(work_dir, 'last_checkpoint')):
        command.append('--resume')
    run_step(name, command + ['--cfg-options'] + options)
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
        print(f'==> demo step "data": skipped, {data_root} exists', flush=True)
    else:
        run_step('data', [sys.executable, osp.join(TOOLS, 'make_synthetic_mvtecfs.py'),
                          data_root])
    base_checkpoint = train_step('base training', BASE_CONFIG, osp.join(work_dir, 'base'),
                                 data_options)
    finetuned = train_step('5-shot fine-tuning', FINETUNE_CONFIG, osp.join(work_dir, '5shot'),
                           data_options + [f'fewshot.base_checkpoint={base_checkpoint}'])
    test_dir = osp.join(work_dir, 'test')
    predictions = osp.join(test_dir, 'predictions.pkl')
    metrics_file = osp.join(test_dir, 'metrics.json')
    if osp.exists(predictions) and osp.exists(metrics_file):
        print(f'==> demo step "evaluate": skipped, {metrics_file} exists', flush=True)
    else:
        run_step('evaluate', [
            sys.executable, osp.join(TOOLS, 'test.py'), FINETUNE_CONFIG, finetuned,
            '--work-dir', test_dir, '--out', predictions, '--cfg-options'] + data_options)
        dump_json_atomic(latest_test_metrics(test_dir), metrics_file)
    with open(metrics_file, encoding='utf-8') as f:
        metrics = json.load(f)
    pictures = osp.join(work_dir, 'pictures')
    for split, num in (('train', 6), ('test', 3)):
        run_step(f'pictures: {split} images', [
            sys.executable, osp.join(TOOLS, 'browse_dataset.py'), FINETUNE_CONFIG, '--split',
            split, '--num', str(num), '--out-dir', osp.join(pictures, split), '--cfg-options'
        ] + data_options)
    run_step('pictures: results', [
        sys.executable, osp.join(TOOLS, 'analyze_results.py'), FINETUNE_CONFIG, predictions,
        '--out-dir', pictures, '--cfg-options'] + data_options)
    print('\n' + format_metrics_table(metrics))
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
    start = time.monotonic()
    try:
        pictures = demo(work_dir, data_root)
    except StepError as error:
        print(f'demo: error: {error}; fix it and run the demo again to resume',
              file=sys.stderr)
        return 1
    print(f'\nMetrics: {osp.join(work_dir, "test", "metrics.json")}')
    print('Pictures:\n' + '\n'.join(f'  {path}' for path in pictures))
    print(f'Demo done in {time.monotonic() - start:.0f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
