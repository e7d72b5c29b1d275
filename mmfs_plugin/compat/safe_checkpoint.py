"""Safe loading of mmengine checkpoints on torch >= 2.6: a restricted unpickler refuses code.

:func:`install_checkpoint_loaders` routes mmengine's local and ``http(s)://`` loaders through
:func:`safe_load_checkpoint`; why this is safe: docs/architecture.md, "Safe checkpoint loading".
Written for :data:`WRITTEN_FOR` (torch's private ``torch.serialization`` helpers read in 2.13).
"""
import importlib
import os
import os.path as osp
import pickle
import types
from collections.abc import Callable
from functools import lru_cache, reduce
from typing import IO, Any, Optional, Union
from urllib.parse import urlparse

import mmengine.runner.checkpoint as mmengine_checkpoint
import torch
import torch.distributed as torch_dist
# Its private helpers are the checks torch.load itself uses to send a file to torch.jit.load.
import torch.serialization as torch_serialization
from mmengine.dist import get_dist_info
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader

from .versions import check_versions

__all__ = [
    'safe_load_checkpoint', 'UnsafeCheckpointError', 'RestrictedUnpickler',
    'RESTRICTED_PICKLE', 'SAFE_GLOBALS', 'HISTORY_BUFFER_STATISTICS',
    'load_from_local', 'load_from_http',
    'install_checkpoint_loaders', 'WRITTEN_FOR'
]

#: Package -> the versions this module was written for (see the module doc).
WRITTEN_FOR = {'mmengine': '==0.10.7', 'torch': '>=2.0,<2.14'}

FileLike = Union[str, os.PathLike, IO[bytes]]
MapLocation = Union[str, torch.device, Callable, dict, None]

_HISTORY_BUFFER_MODULE = 'mmengine.logging.history_buffer'
HISTORY_BUFFER_STATISTICS = frozenset({'min', 'max', 'mean', 'current'})
SAFE_GLOBALS = frozenset({
    ('collections', 'OrderedDict'),
    ('collections', 'Counter'),  # MultiStepLR milestones
    ('_codecs', 'encode'),  # bytes under pickle protocol 2
    ('torch', 'Size'),
    ('torch', 'device'),
    ('torch._utils', '_rebuild_tensor'),
    ('torch._utils', '_rebuild_tensor_v2'),
    ('torch._utils', '_rebuild_parameter'),
    ('numpy', 'dtype'),
    ('numpy', 'ndarray'),
    ('numpy._core.multiarray', '_reconstruct'),  # numpy >= 2
    ('numpy._core.multiarray', 'scalar'),
    ('numpy.core.multiarray', '_reconstruct'),  # numpy < 2
    ('numpy.core.multiarray', 'scalar'),
    (_HISTORY_BUFFER_MODULE, 'HistoryBuffer'),
    # pickle protocol >= 4 names the statistics methods directly
    *((_HISTORY_BUFFER_MODULE, f'HistoryBuffer.{name}')
      for name in HISTORY_BUFFER_STATISTICS),
})
_GETATTR = frozenset({('builtins', 'getattr'), ('__builtin__', 'getattr')})


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs something that is not known to be harmless.

    Args:
        file (str): The checkpoint's path or URL.
        field (str): What was refused (a global such as ``posix.system``).
        reason (str): Why it was refused.
    """

    def __init__(self, file: str, field: str, reason: str) -> None:
        super().__init__(f'{file}: {field}: {reason}')
        self.file = file
        self.field = field
        self.reason = reason


class _RefusedGlobal(pickle.UnpicklingError):
    """Raised inside the unpickler; re-raised with the file name."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def _history_buffer_statistic(owner: Any, name: Any) -> Callable:
    """Stand in for ``getattr`` while unpickling: fetch only the statistics
    methods of ``HistoryBuffer``.

    Args:
        owner (Any): The object ``getattr`` was called on.
        name (Any): The attribute name.

    Returns:
        Callable: ``HistoryBuffer.min``, ``max``, ``mean`` or ``current``.
    """
    if (owner is not HistoryBuffer or not isinstance(name, str)
            or name not in HISTORY_BUFFER_STATISTICS):
        raise _RefusedGlobal(f'getattr({owner!r}, {name!r})')
    return getattr(HistoryBuffer, name)


@lru_cache(maxsize=1)
def _torch_dtype_names() -> frozenset:
    """Return the names under which torch exposes its dtypes."""
    return frozenset(name for name, value in vars(torch).items()
                     if isinstance(value, torch.dtype))


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only :data:`SAFE_GLOBALS`, torch dtypes and a ``getattr``
    limited to ``HistoryBuffer``'s statistics; other globals raise before they are called."""

    def find_class(self, module: str, name: str) -> Any:
        """Resolve an allowlisted global.

        Args:
            module (str): The module named in the pickle.
            name (str): The (possibly dotted) attribute name.

        Returns:
            Any: The global.
        """
        if (module, name) in _GETATTR:
            return _history_buffer_statistic
        if (module, name) in SAFE_GLOBALS:
            return reduce(getattr, name.split('.'),
                          importlib.import_module(module))
        if module == 'torch' and name in _torch_dtype_names():
            return getattr(torch, name)
        raise _RefusedGlobal(f'{module}.{name}')


def _restricted_load(file: IO[bytes], **kwargs: Any) -> Any:
    """``pickle.load`` with :class:`RestrictedUnpickler`.

    Args:
        file (IO[bytes]): The pickle stream.
        **kwargs: Keyword arguments of :class:`pickle.Unpickler`.

    Returns:
        Any: The unpickled object.
    """
    return RestrictedUnpickler(file, **kwargs).load()


# The ``pickle_module`` given to ``torch.load``: pickle, restricted.
RESTRICTED_PICKLE = types.ModuleType(
    'mmfs_plugin.compat.safe_checkpoint.RESTRICTED_PICKLE',
    'The pickle module with RestrictedUnpickler, for torch.load.')
RESTRICTED_PICKLE.Unpickler = RestrictedUnpickler
RESTRICTED_PICKLE.UnpicklingError = pickle.UnpicklingError
RESTRICTED_PICKLE.load = _restricted_load


def _is_torchscript_archive(file: FileLike) -> bool:
    """Tell whether ``torch.load`` would hand ``file`` to ``torch.jit.load``.

    Args:
        file (FileLike): A path or a seekable binary stream.

    Returns:
        bool: True for a TorchScript archive.
    """
    with torch_serialization._open_file_like(file, 'rb') as opened:
        start = opened.tell()
        try:
            if not torch_serialization._is_zipfile(opened):
                return False
            with torch_serialization._open_zipfile_reader(opened) as archive:
                return torch_serialization._is_torchscript_zip(archive)
        finally:
            opened.seek(start)


def safe_load_checkpoint(file: FileLike,
                         map_location: MapLocation = None,
                         name: Optional[str] = None) -> Any:
    """Load a checkpoint without running code it may carry.

    Args:
        file (FileLike): A path or a seekable binary stream.
        map_location (MapLocation): As for :func:`torch.load`.
        name (str, optional): The file's name in error messages (a URL, say).
            Defaults to the path.

    Returns:
        Any: The checkpoint, usually a dict.
    """
    name = name or (os.fspath(file)
                    if isinstance(file, (str, os.PathLike)) else repr(file))
    if _is_torchscript_archive(file):
        raise UnsafeCheckpointError(
            name, 'TorchScript archive',
            'a TorchScript archive holds code; load it with torch.jit.load '
            'if you trust it')
    try:
        # weights_only=False is what lets torch use RESTRICTED_PICKLE; why this is the safe
        # route: docs/architecture.md, 'Safe checkpoint loading'.
        return torch.load(
            file,
            map_location=map_location,
            pickle_module=RESTRICTED_PICKLE,
            weights_only=False)
    except _RefusedGlobal as error:
        raise UnsafeCheckpointError(
            name, error.field,
            'not on the allowlist of harmless checkpoint globals '
            '(mmfs_plugin.compat.safe_checkpoint.SAFE_GLOBALS); the '
            'checkpoint may carry code and was not loaded') from None


# The loaders are named load_from_<scheme> as mmengine's: CheckpointLoader
# logs the name without its first 10 characters.
def load_from_local(filename: str, map_location: MapLocation = None) -> Any:
    """Load a checkpoint from a local path, safely.

    Args:
        filename (str): The path (``~`` is expanded).
        map_location (MapLocation): As for :func:`torch.load`.

    Returns:
        Any: The checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return safe_load_checkpoint(filename, map_location)


def _download_to_cache(url: str, model_dir: Optional[str],
                       progress: bool) -> str:
    """Download ``url`` into the torch hub cache unless it is already there.

    Args:
        url (str): The URL.
        model_dir (str, optional): The cache folder. Defaults to
            ``<torch hub dir>/checkpoints``.
        progress (bool): Whether to show a progress bar.

    Returns:
        str: The cached file.
    """
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    cached_file = osp.join(model_dir, osp.basename(urlparse(url).path))
    if not osp.exists(cached_file):
        torch.hub.download_url_to_file(url, cached_file, progress=progress)
    return cached_file


def load_from_http(filename: str,
                   map_location: MapLocation = None,
                   model_dir: Optional[str] = None,
                   progress: Optional[bool] = None) -> Any:
    """Download a checkpoint (rank 0 first) and load it safely.

    Args:
        filename (str): The ``http://`` or ``https://`` URL.
        map_location (MapLocation): As for :func:`torch.load`.
        model_dir (str, optional): The cache folder.
        progress (bool, optional): Whether to show a progress bar. Defaults
            to whether stdin is a terminal.

    Returns:
        Any: The checkpoint.
    """
    if progress is None:
        progress = os.isatty(0)
    rank, world_size = get_dist_info()
    if rank == 0:
        cached_file = _download_to_cache(filename, model_dir, progress)
    if world_size > 1:
        torch_dist.barrier()
        if rank > 0:
            cached_file = _download_to_cache(filename, model_dir, progress)
    return safe_load_checkpoint(cached_file, map_location, name=filename)


def install_checkpoint_loaders() -> None:
    """Route local, ``http(s)://``, ``torchvision://``, ``open-mmlab://`` and ``mmcls://``
    checkpoints through :func:`safe_load_checkpoint`; calling it again changes nothing.

    Raises:
        UnsupportedVersionError: If mmengine or torch is not a version of :data:`WRITTEN_FOR`.
    """
    check_versions(__name__, WRITTEN_FOR)
    CheckpointLoader.register_scheme('', load_from_local, force=True)
    CheckpointLoader.register_scheme(('http://', 'https://'),
                                     load_from_http,
                                     force=True)
    # torchvision://, open-mmlab:// and mmcls:// look up a URL and call the
    # module's load_from_http.
    mmengine_checkpoint.load_from_http = load_from_http
