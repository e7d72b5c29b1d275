"""Atomic file writing: the content goes to a temporary file in the target's folder, is flushed,
then replaces the target (:func:`os.replace`), so no reader sees a half-written file."""
import json
import os
import os.path as osp
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO, Any, Optional, Union

__all__ = ['atomic_write', 'dump_json_atomic']

PathLike = Union[str, os.PathLike]
_MODES = ('w', 'wt', 'wb')


def _fsync_folder(folder: str) -> None:
    """Flush a folder's entries to disk so a replace survives a crash.

    Args:
        folder (str): The folder.
    """
    if not hasattr(os, 'O_DIRECTORY'):  # Windows cannot open folders
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_write(path: PathLike,
                 mode: str = 'w',
                 encoding: Optional[str] = 'utf-8',
                 durable: bool = True) -> Iterator[IO]:
    """Open a file for writing that appears at ``path`` only when complete; on an exception
    ``path`` keeps its previous content (or stays absent).

    Args:
        path (PathLike): The file to write.
        mode (str): ``'w'`` (text) or ``'wb'`` (bytes). Defaults to 'w'.
        encoding (str, optional): The text encoding; ignored for ``'wb'``.
            Defaults to 'utf-8'.
        durable (bool): fsync the file and its folder, so that the new
            content survives a power loss. False for files that can be made
            again (caches): still atomic for readers, a few ms faster, but
            after a crash the file may be empty. Defaults to True.

    Yields:
        IO: The open temporary file.

    Examples:
        >>> with atomic_write('results.txt') as f:
        ...     f.write('done\\n')
    """
    path = os.fspath(path)
    if mode not in _MODES:
        raise ValueError(f'{path}: mode: expected one of {_MODES}, '
                         f'got {mode!r}')
    folder = osp.dirname(osp.abspath(path))
    tmp_path = osp.join(folder,
                        f'.{osp.basename(path)}.{uuid.uuid4().hex}.tmp')
    binary = 'b' in mode
    try:
        # 'x' creates the file with the usual permissions (0o666 & ~umask).
        with open(
                tmp_path,
                mode.replace('w', 'x'),
                encoding=None if binary else encoding) as file:
            yield file
            if durable:
                file.flush()
                os.fsync(file.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.remove(tmp_path)
        raise
    if durable:
        _fsync_folder(folder)


def dump_json_atomic(obj: Any, path: PathLike, indent: int = 2) -> None:
    """Write ``obj`` as a UTF-8 JSON file, atomically.

    Args:
        obj (Any): A JSON-serialisable object.
        path (PathLike): The file to write.
        indent (int): JSON indentation. Defaults to 2.
    """
    with atomic_write(path) as file:
        json.dump(obj, file, indent=indent, ensure_ascii=False)
        file.write('\n')
