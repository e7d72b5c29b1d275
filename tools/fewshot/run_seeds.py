"""Multi-seed few-shot experiments: fine-tune and evaluate every (shots, seed), then report.

Examples::

    # 1/3/5 shots x seeds 0..4 of the 5-shot fine-tuning config, on one process
    python tools/fewshot/run_seeds.py configs/fsdet_5shot.py --shots 1 3 5 --seeds 0-4 \\
        --cfg-options fewshot.base_checkpoint=work_dirs/fsdet_base/iter_12000.pth
    # one config per number of shots (each its own schedule)
    python tools/fewshot/run_seeds.py \\
        'configs/retentive_tfa/retentive-tfa_r18-light-fpn_neu-det_{shots}shot.py' \\
        --shots 1 3 5 10 --seeds 0-4 --work-dir work_dirs/neu_det/recipe
    # the same on 8 GPUs (each run through tools/dist_train.sh and tools/dist_test.sh)
    python tools/fewshot/run_seeds.py configs/fsdet_5shot.py --shots 1 3 5 --seeds 0-4 \\
        --launcher pytorch --gpus 8 --iters-per-shot 1000

Every run (``shots``, ``seed``) is the config with ``fewshot.shots``, ``fewshot.seed`` (and
``--split``, ``--setting``) set, trained in ``WORK_DIR/<shots>shot_seed<seed>/`` and then tested
(the config's ``test_dataloader`` and ``test_evaluator``). Its last step writes the test metrics
to ``result.json`` in that folder, atomically (:mod:`mmfs_plugin.experiments.run_result`).
With ``--val`` the run is also evaluated on the config's ``val_dataloader`` with its
``val_evaluator`` (once, after training), recorded as ``val/<metric>``: where a choice (a
schedule, a learning rate, which parts train) is made on a validation split of the training
images, never on the test images.

Resuming: a run whose ``result.json`` is valid is skipped; an invalid one is reported and the
run is done again; a run killed during training continues from its latest checkpoint
(mmengine's auto-resume; :class:`FewShotSurgeryHook` and :class:`RNGStateHook` make it exact).
Just run the same command again.

A config template holding ``{shots}``
(``configs/retentive_tfa/retentive-tfa_r18-light-fpn_neu-det_{shots}shot.py``) takes each number
of shots from its own config file, with that file's schedule. Every run also
records its wall time: ``time/train_s`` and ``time/test_s`` (seconds) in ``result.json``.

Test-time ablations: ``--checkpoints TEMPLATE`` (``{shots}`` and ``{seed}`` in it) tests the
checkpoints another experiment trained instead of training, e.g. the plain anchor's models with
a calibration added at test time::

    python tools/fewshot/run_seeds.py configs/defrcn/ablations/pcb-only_r18-light-fpn_neu-det_5shot.py \\
        --shots 5 --seeds 0-2 --checkpoints 'work_dirs/neu_det/table/plain/{shots}shot_seed{seed}/iter_400.pth'

The config must build the model those checkpoints hold (mmengine loads them as ``load_from``);
such a run records ``time/test_s`` and no ``time/train_s``.

Iteration schedule: the config's (``train_cfg.max_iters`` and ``param_scheduler``, after
``--cfg-options``) for every number of shots, unless ``--iters-per-shot N`` is given: then a
k-shot run trains ``k * N`` iterations, the ``milestones`` of every parameter scheduler are
scaled by the same factor (new / old ``max_iters``, rounded, at least 1) and warm-up lengths are
kept.

Reports, rewritten after every invocation from the finished runs: ``WORK_DIR/results.csv`` (one
row per run: shots, seed, every metric), ``WORK_DIR/results.md`` (per shots and metric: the
number of seeds n, the mean, the sample std s and the 95% CI: the half-width of the 95%
confidence interval of the mean, Student's t with n-1 degrees of freedom: t·s/√n, e.g.
t = 2.776 for 5 seeds) and ``WORK_DIR/results.png`` (novel AP50 and GT-box accuracy against
shots, with those 95% CI bars).
"""
import argparse
import gc
import glob
import json
import math
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmfs_plugin  # noqa: F401  (registers the plugin, installs the fixes)
from mmfs_plugin.experiments import (RunResult, aggregate_results, load_run_result,
                                     plot_metrics_against_shots, run_dir_name,
                                     save_run_result, write_results_csv,
                                     write_results_markdown)
from mmfs_plugin.experiments.shots_plot import DEFAULT_PLOT_METRICS

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: what mmengine's LogProcessor adds to the test metrics in the logged JSON
TIMING_KEYS = ('data_time', 'time', 'memory')


def parse_seeds(tokens: Sequence[str]) -> List[int]:
    """Expand seed tokens: integers and inclusive ranges ``A-B``.

    Args:
        tokens (Sequence[str]): E.g. ``['0-4']`` or ``['0', '3', '7-8']``.

    Returns:
        list[int]: The seeds, in order, without repeats.
    """
    seeds: List[int] = []
    for token in tokens:
        first, _, last = token.partition('-')
        try:
            span = range(int(first), int(last or first) + 1)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f'--seeds: expected integers or ranges like 0-4, got {token!r}') from None
        if not span:
            raise argparse.ArgumentTypeError(f'--seeds: empty range {token!r}')
        seeds += [seed for seed in span if seed not in seeds]
    return seeds


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        argparse.Namespace: The arguments, ``seeds`` expanded to a list of integers.
    """
    parser = argparse.ArgumentParser(
        description='Fine-tune and evaluate a few-shot config for every shots x seed; '
        'resumable; writes results.csv, results.md and results.png to the work dir.')
    parser.add_argument('config', help='a few-shot fine-tuning config (with `fewshot`), or a '
                        'template naming one per number of shots, e.g. configs/retentive_tfa/'
                        'retentive-tfa_r18-light-fpn_neu-det_{shots}shot.py')
    parser.add_argument('--shots', type=int, nargs='+', required=True,
                        help='numbers of shots, e.g. 1 3 5')
    parser.add_argument('--seeds', nargs='+', required=True,
                        help='seeds: integers and inclusive ranges, e.g. 0-4 or 0 2 5-6')
    parser.add_argument('--split', help='the class split (fewshot.class_split), e.g. split2')
    parser.add_argument('--setting', choices=['gfsod', 'fsod'],
                        help='the few-shot setting (fewshot.setting; default: the config\'s)')
    parser.add_argument('--work-dir',
                        help='the experiment folder (default: work_dirs/seeds/<config name>)')
    parser.add_argument('--iters-per-shot', type=int,
                        help='train shots * N iterations, milestones scaled (default: the '
                        "config's schedule for every shots)")
    parser.add_argument('--max-runs', type=int,
                        help='do at most N of the missing runs, then report; 0 reports the '
                        'finished runs only (default: all)')
    parser.add_argument('--launcher', choices=['none', 'pytorch'], default='none',
                        help='none: every run in this process; pytorch: every run through '
                        'tools/dist_train.sh and tools/dist_test.sh with --gpus processes')
    parser.add_argument('--gpus', type=int, default=1,
                        help='processes per run with --launcher pytorch (default: 1)')
    parser.add_argument('--val', action='store_true',
                        help="also evaluate each run on the config's val_dataloader (a "
                        'validation split of the training images, where choices are made; '
                        'refused where it reads the test set), recorded as val/<metric>')
    parser.add_argument('--checkpoints',
                        help='test these checkpoints instead of training: a path template with '
                        '{shots} and {seed}, e.g. work_dirs/neu_det/table/plain/'
                        '{shots}shot_seed{seed}/iter_400.pth (test-time ablations)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings (xxx=yyy), as in tools/train.py')
    args = parser.parse_args(argv)
    try:
        args.seeds = parse_seeds(args.seeds)
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))
    counts = dict(shots=(min(args.shots), 1), iters_per_shot=(args.iters_per_shot, 1),
                  max_runs=(args.max_runs, 0), gpus=(args.gpus, 1))
    for name, (value, least) in counts.items():
        if value is not None and value < least:
            parser.error(f'--{name.replace("_", "-")}: expected integers >= {least}, '
                         f'got {value}')
    if args.checkpoints is not None:
        if args.iters_per_shot:
            parser.error('--iters-per-shot: nothing is trained with --checkpoints')
        try:
            names = {args.checkpoints.format(shots=k, seed=s) for k in args.shots
                     for s in args.seeds}
        except (KeyError, IndexError, ValueError) as error:
            parser.error(f'--checkpoints: {args.checkpoints}: a template with {{shots}} and '
                         f'{{seed}} only ({error!r})')
        if len(names) < len(args.shots) * len(args.seeds):
            parser.error(f'--checkpoints: {args.checkpoints}: one checkpoint would be tested '
                         'as several runs: name each run by {shots} and {seed}')
    if args.launcher == 'none' and args.gpus != 1:
        parser.error('--gpus needs --launcher pytorch')
    if args.work_dir is None:
        args.work_dir = osp.join('work_dirs', 'seeds',
                                 osp.splitext(osp.basename(args.config))[0].replace(
                                     '{shots}', 'k'))
    if args.checkpoints is not None and any(
            osp.abspath(osp.dirname(args.checkpoints.format(shots=k, seed=s))) == osp.abspath(
                osp.join(args.work_dir, run_dir_name(k, s)))
            for k in args.shots for s in args.seeds):
        parser.error(f'--work-dir: {args.work_dir}: the experiment that trained the '
                     '--checkpoints; test them into another work dir (its result.json files '
                     'would be reported as these tests)')
    return args


def scale_schedule(cfg: Config, max_iters: int, source: str) -> None:
    """Set ``train_cfg.max_iters`` and scale the schedulers' milestones by the same factor.

    Args:
        cfg (Config): The run's config, changed in place.
        max_iters (int): The new number of iterations.
        source (str): The config file, for error messages.
    """
    old_iters = cfg.get('train_cfg', {}).get('max_iters')
    if not old_iters:
        raise ValueError(f'{source}: train_cfg.max_iters: --iters-per-shot needs an '
                         'iteration-based schedule')
    cfg.train_cfg.max_iters = max_iters
    schedulers = cfg.get('param_scheduler') or []
    for scheduler in schedulers if isinstance(schedulers, list) else [schedulers]:
        if 'milestones' in scheduler:
            scheduler['milestones'] = [
                max(1, round(milestone * max_iters / old_iters))
                for milestone in scheduler['milestones']
            ]


def config_for_shots(config: str, shots: int) -> str:
    """The config file of a number of shots: ``config`` with ``{shots}`` replaced.

    Args:
        config (str): A config file, or a template such as
            ``configs/retentive_tfa/retentive-tfa_r18-light-fpn_neu-det_{shots}shot.py``
            (one config per number of shots, each with its own schedule).
        shots (int): The number of shots.

    Returns:
        str: The file.
    """
    return config.replace('{shots}', str(shots))


def build_run_config(args: argparse.Namespace, shots: int, seed: int, run_dir: str) -> Config:
    """The config of one run: the config file, ``--cfg-options``, then the run's settings.

    Args:
        args (argparse.Namespace): The command line.
        shots (int): The number of shots.
        seed (int): The k-shot seed.
        run_dir (str): The run's work dir.

    Returns:
        Config: The run's config (auto-resuming from ``run_dir``; with ``--checkpoints``, loading
        the run's checkpoint, to be tested only).

    Raises:
        ValueError: The config has no ``fewshot``, ``--val`` finds no validation set or the test
            set, or the checkpoint ``--checkpoints`` names for the run is missing.
    """
    config = config_for_shots(args.config, shots)
    cfg = Config.fromfile(config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if not cfg.get('fewshot'):
        raise ValueError(f'{config}: fewshot: the config has no few-shot settings '
                         '(use a fine-tuning config such as configs/fsdet_5shot.py)')
    cfg.fewshot.update(shots=shots, seed=seed)
    if args.split:
        cfg.fewshot.class_split = args.split
    if args.setting:
        cfg.fewshot.setting = args.setting
    if args.iters_per_shot:
        scale_schedule(cfg, shots * args.iters_per_shot, config)
    if args.val:  # evaluated once on the val set after training, never during it
        for key in ('val_dataloader', 'val_cfg', 'val_evaluator'):
            if not cfg.get(key):
                raise ValueError(f'{config}: {key}: --val needs a validation set')
        if _files(cfg.val_dataloader) == _files(cfg.test_dataloader):
            raise ValueError(f'{config}: val_dataloader: --val: it reads the test set; a '
                             'choice needs a validation split of the training images')
        cfg.train_cfg.val_begin = cfg.train_cfg.max_iters + 1
    else:  # each run is tested once, at its end: no validation during training
        cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.work_dir = run_dir
    cfg.experiment_name = run_dir_name(shots, seed)
    cfg.launcher = args.launcher
    if args.checkpoints is None:
        cfg.resume, cfg.load_from = True, None  # continue a killed run from its checkpoint
    else:
        checkpoint = args.checkpoints.format(shots=shots, seed=seed)
        if not osp.isfile(checkpoint):
            raise ValueError(f'--checkpoints: {checkpoint}: no such file (the run shots={shots}'
                             f', seed={seed} of the template {args.checkpoints})')
        cfg.resume, cfg.load_from = False, checkpoint
    return cfg


def _files(loader: dict) -> list:
    """What a dataloader's dataset reads: (data_root, ann_file, data_prefix, split) at every
    level of its wrappers."""
    found, dataset = [], loader.get('dataset')
    while isinstance(dataset, dict):
        found.append(tuple(str(dataset.get(key))
                           for key in ('data_root', 'ann_file', 'data_prefix', 'split')))
        dataset = dataset.get('dataset')
    return found


def finite_metrics(metrics: Dict[str, object]) -> Dict[str, float]:
    """The metrics that are finite numbers (evaluators may also return tables or NaN)."""
    return {
        name: float(value)
        for name, value in metrics.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
        and math.isfinite(value)
    }


def train_and_test_here(cfg: Config, train: bool = True) -> Dict[str, float]:
    """Train and test a run in this process (and evaluate it on the val set where the config
    keeps one: ``--val``).

    Args:
        cfg (Config): The run's config.
        train (bool): False tests the config's ``load_from`` as it is (``--checkpoints``).

    Returns:
        dict[str, float]: The test metrics, the val metrics as ``val/<metric>``, and the wall
        time of training (where it trained) and of testing in seconds (``time/train_s``,
        ``time/test_s``).
    """
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    start = time.perf_counter()
    if train:
        runner.train()
    trained = time.perf_counter()
    metrics = runner.test()
    tested = time.perf_counter()
    if cfg.get('val_dataloader'):
        metrics.update({f'val/{name}': value for name, value in runner.val().items()})
    del runner
    gc.collect()
    times = {'time/train_s': trained - start} if train else {}
    return dict(finite_metrics(metrics), **times, **{'time/test_s': tested - trained})


def train_and_test_distributed(cfg: Config, gpus: int, train: bool = True) -> Dict[str, float]:
    """Train and test a run with tools/dist_train.sh and tools/dist_test.sh.

    Args:
        cfg (Config): The run's config; it is written to ``<work_dir>/run_config.py``.
        gpus (int): Processes per run.
        train (bool): False tests the config's ``load_from`` as it is (``--checkpoints``).

    Returns:
        dict[str, float]: The test metrics (from the JSON file tools/test.py logs, without
        its timings), the val metrics as ``val/<metric>`` where the config keeps a val set
        (``--val``), and the wall times of training (where it trained) and testing
        (``time/train_s``, ``time/test_s``, seconds).
    """
    run_dir = cfg.work_dir
    config_file = osp.join(run_dir, 'run_config.py')
    cfg.dump(config_file)
    # the scripts call `torchrun`: the one installed with this interpreter comes first
    env = dict(os.environ, PATH=os.pathsep.join(
        [osp.dirname(sys.executable), os.environ.get('PATH', '')]))
    start = time.perf_counter()
    if train:
        subprocess.run(['bash', osp.join(TOOLS, 'dist_train.sh'), config_file, str(gpus),
                        '--work-dir', run_dir, '--resume'], check=True, env=env)
        with open(osp.join(run_dir, 'last_checkpoint'), encoding='utf-8') as file:
            checkpoint = file.read().strip()
    else:
        checkpoint = cfg.load_from
    trained = time.perf_counter()
    test_dir = osp.join(run_dir, 'test')
    subprocess.run(['bash', osp.join(TOOLS, 'dist_test.sh'), config_file, checkpoint,
                    str(gpus), '--work-dir', test_dir], check=True, env=env)
    tested = time.perf_counter()
    metrics = _logged_metrics(test_dir)
    if cfg.get('val_dataloader'):  # the val set, tested as tools/test.py tests
        val_config = osp.join(run_dir, 'val_config.py')
        val_cfg = cfg.copy()
        val_cfg.test_dataloader, val_cfg.test_evaluator = cfg.val_dataloader, cfg.val_evaluator
        val_cfg.dump(val_config)
        val_dir = osp.join(run_dir, 'val')
        subprocess.run(['bash', osp.join(TOOLS, 'dist_test.sh'), val_config, checkpoint,
                        str(gpus), '--work-dir', val_dir], check=True, env=env)
        metrics.update({f'val/{name}': value for name, value in
                        _logged_metrics(val_dir).items()})
    times = {'time/train_s': trained - start} if train else {}
    return dict(metrics, **times, **{'time/test_s': tested - trained})


def _logged_metrics(test_dir: str) -> Dict[str, float]:
    """The metrics of the latest tools/test.py run in ``test_dir``, without its timings."""
    logs = glob.glob(osp.join(test_dir, '*', '*.json'))
    if not logs:
        raise FileNotFoundError(f'{test_dir}: no metrics file <timestamp>/<timestamp>.json')
    with open(max(logs, key=osp.getmtime), encoding='utf-8') as file:
        logged = json.load(file)
    return finite_metrics({name: value for name, value in logged.items()
                           if name not in TIMING_KEYS})


def write_reports(work_dir: str, results: List[RunResult]) -> None:
    """Write results.csv, results.md and results.png from the finished runs.

    Args:
        work_dir (str): The experiment folder.
        results (list[RunResult]): The finished runs.
    """
    summary = aggregate_results(results)
    write_results_csv(results, osp.join(work_dir, 'results.csv'))
    write_results_markdown(summary, osp.join(work_dir, 'results.md'))
    if any(name in stats for stats in summary.values() for name in DEFAULT_PLOT_METRICS):
        plot_metrics_against_shots(summary, osp.join(work_dir, 'results.png'))
    else:
        print(f'run_seeds: no plot: none of {list(DEFAULT_PLOT_METRICS)} in the results')
    print(f'run_seeds: {len(results)} runs reported in {work_dir}/results.csv and results.md')


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Do the missing runs, then write the reports.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        int: The exit status (0: every run finished; 1: runs are missing or an input is bad).
    """
    args = parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    results: List[RunResult] = []
    runs_done = missing = 0
    train = args.checkpoints is None
    for shots in args.shots:
        for seed in args.seeds:
            name = run_dir_name(shots, seed)
            run_dir = osp.join(args.work_dir, name)
            try:
                result = load_run_result(run_dir, shots, seed)
            except ValueError as error:
                print(f'run_seeds: {error}; the run is done again')
                result = None
            if result is None and (args.max_runs is None or runs_done < args.max_runs):
                print(f'run_seeds: {name}: '
                      f'{"training and testing" if train else "testing"} in {run_dir}')
                os.makedirs(run_dir, exist_ok=True)
                try:
                    cfg = build_run_config(args, shots, seed, run_dir)
                except ValueError as error:
                    print(f'run_seeds: error: {error}', file=sys.stderr)
                    return 1
                metrics = (train_and_test_here(cfg, train) if args.launcher == 'none' else
                           train_and_test_distributed(cfg, args.gpus, train))
                result = RunResult(shots=shots, seed=seed, metrics=metrics)
                save_run_result(run_dir, result)  # the run's last step
                runs_done += 1
            elif result is not None:
                print(f'run_seeds: {name}: finished before, skipped')
            if result is None:
                missing += 1
            else:
                results.append(result)
    if results:
        write_reports(args.work_dir, results)
    if missing:
        print(f'run_seeds: {missing} runs missing; run the same command again to do them')
    return 1 if missing else 0


if __name__ == '__main__':
    sys.exit(main())
