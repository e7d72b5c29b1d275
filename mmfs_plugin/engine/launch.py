"""Running MMDetection's own ``tools/train.py`` and ``tools/test.py`` with the plugin.

The plugin's ``tools/train.py`` and ``tools/test.py`` run mmdet's (``mmdet/.mim/tools``, shipped
in the mmdet wheel) in their own process, where :mod:`mmfs_plugin` is imported: its classes are
registered and its fixes installed (``--launcher pytorch``/``slurm`` on CPU). What they add to a
run reaches mmdet's tool as ``--cfg-options`` on its command line.
"""
import os.path as osp
import re
import runpy
import sys
from argparse import Namespace
from typing import List, Sequence

import mmdet
from mmengine.config import Config

from ..compat import with_cpu_model_wrapper
from .shutdown import close_distributed

__all__ = ['MMDET_TOOLS', 'parse_tool_args', 'load_tool_config', 'cpu_wrapper_options',
           'run_mmdet_tool']

#: mmdet's tools, as the mmdet wheel ships them.
MMDET_TOOLS = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools')


def parse_tool_args(tool: str) -> Namespace:
    """Parse the command line with mmdet's ``tool``'s parser (``--help`` prints its help).

    Args:
        tool (str): ``'train.py'`` or ``'test.py'``.

    Returns:
        Namespace: The arguments.
    """
    return runpy.run_path(osp.join(MMDET_TOOLS, tool))['parse_args']()


def load_tool_config(args: Namespace) -> Config:
    """The config of a tool's arguments, as mmdet's tool reads it.

    Args:
        args (Namespace): :func:`parse_tool_args`'s arguments.

    Returns:
        Config: The config with ``--launcher`` and ``--cfg-options`` applied.
    """
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def option_key(key: str) -> str:
    """A config key as ``--cfg-options`` spells it: ``a.b[0].c`` is ``a.b.0.c``."""
    return re.sub(r'\[(\d+)\]', r'.\1', key)


def cpu_wrapper_options(cfg: Config) -> List[str]:
    """``--cfg-options`` that give a distributed run on CPU DDP without device ids.

    Those of :func:`~mmfs_plugin.compat.with_cpu_model_wrapper`'s ``model_wrapper_cfg`` that
    the config lacks; none for any other run.

    Args:
        cfg (Config): The config, ``launcher`` set.

    Returns:
        list[str]: ``model_wrapper_cfg.KEY=VALUE`` items.
    """
    wrapped = with_cpu_model_wrapper(cfg)
    before = cfg.get('model_wrapper_cfg') or {}
    return [f'model_wrapper_cfg.{key}={value}'
            for key, value in (wrapped.get('model_wrapper_cfg') or {}).items()
            if key not in before or before[key] != value]


def run_mmdet_tool(tool: str, cfg_options: Sequence[str] = ()) -> None:
    """Run mmdet's ``tool`` on this process's command line, ``cfg_options`` added, then leave
    the process group (:func:`~mmfs_plugin.engine.close_distributed`).

    Args:
        tool (str): ``'train.py'`` or ``'test.py'``.
        cfg_options (Sequence[str]): ``KEY=VALUE`` items, after those of the command line.
    """
    if cfg_options:
        sys.argv = [*sys.argv, '--cfg-options', *cfg_options]
    runpy.run_path(osp.join(MMDET_TOOLS, tool), run_name='__main__')
    close_distributed()
