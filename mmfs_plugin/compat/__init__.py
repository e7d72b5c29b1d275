"""Fixes that make mmengine 0.10.7 and mmdet 3.3 work on modern PyTorch.

:func:`install` (called by ``import mmfs_plugin``; importing this package
alone changes nothing) applies them, inside this process only:

- :mod:`.safe_checkpoint`: mmengine checkpoints load under torch >= 2.6
  through a restricted unpickler that refuses pickled code;
- :mod:`.cpu_distributed`: ``--launcher pytorch``/``slurm`` work on CPU
  (``gloo``, DDP with ``device_ids=None``);
- :mod:`.package_lookup`: ``mmdet::`` configs resolve without
  ``pkg_resources``;
- :mod:`.rank_zero_dump`: a distributed test writes its metrics file from
  the main process only.
"""
from .cpu_distributed import close_distributed, install_cpu_distributed
from .package_lookup import install_package_lookup
from .rank_zero_dump import install_rank_zero_test_dump
from .safe_checkpoint import (UnsafeCheckpointError,
                              install_checkpoint_loaders, safe_load_checkpoint)

__all__ = [
    'install', 'close_distributed', 'safe_load_checkpoint',
    'UnsafeCheckpointError'
]


def install() -> None:
    """Apply every fix of this package; calling it again changes nothing."""
    install_checkpoint_loaders()
    install_cpu_distributed()
    install_package_lookup()
    install_rank_zero_test_dump()
