"""The versions each patch of :mod:`mmfs_plugin.compat` was written for, checked at install, so
that an upgrade fails at ``import mmfs_plugin`` with the package's name instead of in a run."""
import importlib
from typing import Mapping

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

__all__ = ['UnsupportedVersionError', 'check_versions']


class UnsupportedVersionError(RuntimeError):
    """An installed package is not a version a patch was written for.

    Args:
        patch (str): The patch (its module).
        package (str): The package it patches, e.g. ``mmengine``.
        version (str): The installed version.
        supported (str): The versions it was written for, e.g. ``==0.10.7``.
    """

    def __init__(self, patch: str, package: str, version: str, supported: str) -> None:
        super().__init__(
            f'{patch} was written for {package}{supported}, but {package} {version} is '
            f'installed: install {package}{supported} (tools/setup_env.sh does), or check '
            f'the patch against {package} {version} and widen its version range')
        self.patch = patch
        self.package = package
        self.version = version
        self.supported = supported


def _is_supported(version: str, supported: str) -> bool:
    """Tell whether ``version``, without local label or pre-release tag (``2.13.0+cpu``:
    ``2.13.0``), is one of ``supported``.

    Args:
        version (str): A version, e.g. ``torch.__version__``.
        supported (str): A PEP 440 specifier set, e.g. ``>=2.0,<2.14``.

    Returns:
        bool: True if the version is supported.
    """
    try:
        release = Version(version).base_version
    except InvalidVersion:
        return False
    return SpecifierSet(supported).contains(release)


def check_versions(patch: str, written_for: Mapping[str, str]) -> None:
    """Raise unless every package has a version the patch was written for.

    The version is the package's ``__version__``, as the package itself reports it.

    Args:
        patch (str): The patch (its module), named in the error.
        written_for (Mapping[str, str]): Package -> the PEP 440 specifier set of the versions
            the patch was written for.

    Raises:
        UnsupportedVersionError: For the first package outside its versions.
    """
    for package, supported in written_for.items():
        version = str(importlib.import_module(package).__version__)
        if not _is_supported(version, supported):
            raise UnsupportedVersionError(patch, package, version, supported)
