"""What ``tools/train.py`` and ``tools/test.py`` share: mmdet's common command-line options,
the config they resolve to and the runner built from it."""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from ..compat import with_cpu_model_wrapper


def add_launch_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--cfg-options``, ``--launcher`` and ``--local-rank`` as mmdet's tools have them.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
    """
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank (torch >= 2.0) or
    # --local_rank (older); torchrun sets LOCAL_RANK instead.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def export_local_rank(args: argparse.Namespace) -> None:
    """Export ``--local-rank`` as ``LOCAL_RANK`` unless the launcher already set it.

    Args:
        args (argparse.Namespace): Parsed arguments of :func:`add_launch_arguments`.
    """
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)


def load_launch_config(args: argparse.Namespace) -> Config:
    """Read ``args.config`` with the launcher, ``--cfg-options`` and the work dir applied.

    The work dir is ``--work-dir``, else the config's, else ``./work_dirs/<config name>``.

    Args:
        args (argparse.Namespace): Parsed arguments with ``config``, ``work_dir`` and those of
            :func:`add_launch_arguments`.

    Returns:
        Config: The config.
    """
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def build_runner(cfg: Config) -> Runner:
    """Build the config's runner: ``runner_type`` through ``RUNNERS``, else mmengine's.

    A distributed run on a machine without an accelerator gets DDP with ``device_ids=None``
    (:func:`~mmfs_plugin.compat.with_cpu_model_wrapper`), for plain mmdet configs too.

    Args:
        cfg (Config): The config.

    Returns:
        Runner: The runner.
    """
    cfg = with_cpu_model_wrapper(cfg)
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    return RUNNERS.build(cfg)
