"""mmengine's package lookups without ``pkg_resources``.

mmengine resolves ``mmdet::`` config paths with ``pkg_resources``
(deprecated, gone in setuptools >= 81). After :func:`install_package_lookup`
its ``is_installed`` and ``get_installed_path`` run on
:mod:`importlib.metadata` instead.
"""
import importlib.metadata
import importlib.util
import os.path as osp

import mmengine.config.config as mmengine_config
import mmengine.hub.hub as mmengine_hub
import mmengine.utils as mmengine_utils
import mmengine.utils.package_utils as mmengine_package_utils

__all__ = ['is_installed', 'get_installed_path', 'install_package_lookup']


def _top_level_module(package: str) -> str:
    """Return the importable module of a distribution (mmcv-full -> mmcv).

    Args:
        package (str): A distribution or module name.

    Returns:
        str: The module name.
    """
    if importlib.util.find_spec(package) is not None:
        return package
    try:
        top_level = importlib.metadata.distribution(package).read_text(
            'top_level.txt')
    except importlib.metadata.PackageNotFoundError:
        return package
    return top_level.split()[0] if top_level else package


def is_installed(package: str) -> bool:
    """mmengine's ``is_installed`` without ``pkg_resources``.

    Args:
        package (str): A distribution or module name.

    Returns:
        bool: Whether it is installed or importable.
    """
    try:
        importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        spec = importlib.util.find_spec(package)
        return spec is not None and spec.origin is not None
    return True


def get_installed_path(package: str) -> str:
    """mmengine's ``get_installed_path`` without ``pkg_resources``.

    Args:
        package (str): A distribution or module name.

    Returns:
        str: The folder of the package's top-level module.
    """
    spec = importlib.util.find_spec(_top_level_module(package))
    if spec is None:
        raise importlib.metadata.PackageNotFoundError(package)
    if spec.origin is None:
        raise RuntimeError(f'{package} is a namespace package, which is '
                           'invalid for `get_install_path`')
    return osp.dirname(spec.origin)


def install_package_lookup() -> None:
    """Replace mmengine's pkg_resources lookups wherever they were imported;
    calling it again changes nothing."""
    for module in (mmengine_package_utils, mmengine_utils, mmengine_config):
        module.is_installed = is_installed
        module.get_installed_path = get_installed_path
    mmengine_hub.get_installed_path = get_installed_path
