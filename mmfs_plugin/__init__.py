"""mmfs_plugin: few-shot object detection for MMDetection 3.x.

Importing the package installs the modern-PyTorch compatibility patches (see
:mod:`mmfs_plugin.compat`; each checks the versions it was written for, so an unsupported
mmengine or torch raises :class:`~mmfs_plugin.compat.UnsupportedVersionError` here) and
registers every class of the plugin into MMDetection's registries (scope ``mmdet``).
"""
from .version import __version__
from . import compat  # noqa: E402

compat.install()  # before anything loads a checkpoint or launches processes
from . import datasets, engine, evaluation, models  # noqa: F401,E402  (registers classes)

__all__ = ['__version__']
