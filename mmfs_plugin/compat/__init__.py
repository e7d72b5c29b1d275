"""Fixes that make mmengine 0.10.7 and mmdet 3.3 work on modern PyTorch.

:func:`install` (called by ``import mmfs_plugin``) applies the patches, inside this process
only; importing this package alone patches nothing (it registers
:class:`RankZeroDumpLoggerHook` in mmdet's ``HOOKS``). Each patch states the versions it was
written for and refuses others at install with an :class:`UnsupportedVersionError` naming the
package and its version:

- :mod:`.safe_checkpoint` (mmengine 0.10.7, torch 2.0 to 2.13): mmengine checkpoints load
  under torch >= 2.6 through a restricted unpickler that refuses pickled code;
- :mod:`.cpu_distributed` (mmengine 0.10.7): ``--launcher pytorch``/``slurm`` initialise
  ``gloo`` on CPU; :func:`with_cpu_model_wrapper` gives such a run DDP with ``device_ids=None``
  through ``model_wrapper_cfg``, a config value.

Not patches: :mod:`.rank_zero_dump` (a distributed test writes its metrics file from the main
process only: ``RankZeroDumpLoggerHook``, the logger of ``configs/_base_/fewshot_runtime.py``)
and :mod:`.shutdown` (:func:`close_distributed`, the end of a distributed run with gloo or
NCCL, in bounded time).
"""
from .cpu_distributed import install_cpu_distributed, with_cpu_model_wrapper
from .rank_zero_dump import RankZeroDumpLoggerHook
from .safe_checkpoint import (UnsafeCheckpointError,
                              install_checkpoint_loaders, safe_load_checkpoint)
from .shutdown import close_distributed
from .versions import UnsupportedVersionError

__all__ = [
    'install', 'close_distributed', 'safe_load_checkpoint', 'with_cpu_model_wrapper',
    'RankZeroDumpLoggerHook', 'UnsafeCheckpointError', 'UnsupportedVersionError'
]


def install() -> None:
    """Apply every patch of this package; calling it again changes nothing.

    Raises:
        UnsupportedVersionError: If a patched package is not a version its patch was written
            for.
    """
    install_checkpoint_loaders()
    install_cpu_distributed()
