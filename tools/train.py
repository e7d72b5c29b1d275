"""Train a detector: MMDetection 3.3's ``tools/train.py`` with mmfs_plugin.

Importing :mod:`mmfs_plugin` registers the plugin's classes into mmdet's
registries and installs its compatibility fixes (safe checkpoint loading,
``--launcher pytorch``/``slurm`` on CPU), so any mmdet or mmfs_plugin config
works here.

The config's pretrained weights (``init_cfg`` checkpoints such as ``torchvision://resnet50``) are
found in torch's hub cache or downloaded before anything else is built; weights that cannot be
had stop the run with one line (``train: error: ...``) that names them, the config key holding
them and the ``--cfg-options`` that points it at a local file.
"""
import argparse
import sys

from mmdet.utils import setup_cache_size_limit_of_dynamo

import mmfs_plugin  # noqa: F401  (registers the plugin, installs the fixes)
from mmfs_plugin.engine import close_distributed
from mmfs_plugin.engine.launch import (add_launch_arguments, build_runner, export_local_rank,
                                       load_launch_config)
from mmfs_plugin.engine.pretrained import PretrainedWeightsError, resolve_pretrained


def parse_args() -> argparse.Namespace:
    """Parse the command line.

    Returns:
        argparse.Namespace: The arguments.
    """
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='enable automatically scaling LR.')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='If specify checkpoint path, resume from it, while if not '
        'specify, try to auto resume from the latest checkpoint '
        'in the work directory.')
    add_launch_arguments(parser)
    args = parser.parse_args()
    export_local_rank(args)
    return args


def main() -> int:
    """Build the runner from the config and the command line, and train.

    Returns:
        int: The exit status: 0, or 1 when the pretrained weights cannot be had.
    """
    args = parse_args()

    # Reduce the number of repeated compilations and improve training speed.
    setup_cache_size_limit_of_dynamo()

    cfg = load_launch_config(args)

    if args.amp is True:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'

    if args.auto_scale_lr:
        if 'auto_scale_lr' in cfg and \
                'enable' in cfg.auto_scale_lr and \
                'base_batch_size' in cfg.auto_scale_lr:
            cfg.auto_scale_lr.enable = True
        else:
            raise RuntimeError('Can not find "auto_scale_lr" or '
                               '"auto_scale_lr.enable" or '
                               '"auto_scale_lr.base_batch_size" in your'
                               ' configuration file.')

    # an explicit checkpoint wins over auto-resume from the work dir
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    # init_cfg weights from the hub cache (downloaded there first if need be), before the
    # datasets and the model are built; mmengine loads them in runner.train()
    try:
        resolve_pretrained(cfg)
    except PretrainedWeightsError as error:
        print(f'train: error: {error}', file=sys.stderr)
        return 1

    # any config, not only FewShotRunner's: DDP without device ids when distributed on CPU
    runner = build_runner(cfg)

    runner.train()
    return 0


if __name__ == '__main__':
    status = main()
    close_distributed()
    sys.exit(status)
