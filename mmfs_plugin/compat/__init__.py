"""Version-checked patches that make mmengine 0.10.7 and mmdet 3.3 work on modern PyTorch:
:mod:`.safe_checkpoint` and :mod:`.cpu_distributed`. Patches only; :func:`install` (called by
``import mmfs_plugin``) applies them in this process, importing this package patches nothing.
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
