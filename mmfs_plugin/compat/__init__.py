"""Fixes that make mmengine 0.10.7 and mmdet 3.3 work on modern PyTorch.

:func:`install` (called by ``import mmfs_plugin``) applies the patches, inside this process
only; importing this package alone patches nothing. Each patch states the versions it was
written for and refuses others at install with an :class:`UnsupportedVersionError` naming the
package and its version:

- :mod:`.safe_checkpoint` (mmengine 0.10.7, torch 2.0 to 2.13): mmengine checkpoints load
  under torch >= 2.6 through a restricted unpickler that refuses pickled code;
- :mod:`.cpu_distributed` (mmengine 0.10.7): ``--launcher pytorch``/``slurm`` initialise
  ``gloo`` on CPU; :func:`with_cpu_model_wrapper` gives such a run DDP with ``device_ids=None``
  through ``model_wrapper_cfg``, a config value.

This package holds patches only: the logger hook that dumps a distributed test's metrics once
(``RankZeroDumpLoggerHook``) and the end of a distributed run (``close_distributed``) are
:mod:`mmfs_plugin.engine`'s.
"""
from .cpu_distributed import install_cpu_distributed, with_cpu_model_wrapper
from .safe_checkpoint import (UnsafeCheckpointError,
                              install_checkpoint_loaders, safe_load_checkpoint)
from .versions import UnsupportedVersionError

__all__ = [
    'install', 'safe_load_checkpoint', 'with_cpu_model_wrapper', 'UnsafeCheckpointError',
    'UnsupportedVersionError'
]


def install() -> None:
    """Apply every patch of this package; calling it again changes nothing.

    Raises:
        UnsupportedVersionError: If a patched package is not a version its patch was written
            for.
    """
    install_checkpoint_loaders()
    install_cpu_distributed()
