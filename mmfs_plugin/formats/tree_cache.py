"""The annotation tree on disk: its JSON files, and a cache of what was built from them.

:func:`list_json_files` lists a folder tree with ``os.scandir`` (the entry types come with the
listing: no ``stat`` per file). :class:`BuildCache` keeps one pickled result per set of build
arguments, valid while every input path (file or folder) keeps its size and ``mtime_ns``: one
``stat`` per path checks it. Pure: imports neither torch nor mmdet.
"""
import hashlib
import os
import pickle
from typing import Any, List, Optional, Sequence, Set, Tuple

from ..fileio import atomic_write

#: Bump when what the cache holds changes its meaning or layout.
CACHE_VERSION = 2

Stamp = Tuple[str, Optional[int], Optional[int]]


def list_json_files(folder: str, root: str, other_files: Optional[Set[str]] = None) -> List[str]:
    """List the ``*.json`` files under ``folder``, as :func:`os.walk` finds them.

    Symlinked folders below ``folder`` are not followed; unreadable folders are passed over.

    Args:
        folder (str): The folder to list.
        root (str): The folder the returned paths are relative to (``folder`` or above it).
        other_files (set[str], optional): Receives every other file found (images...), as
            ``os.path.normpath(folder)`` joined with its path below it: the files a reader
            may take as existing without a ``stat`` each.

    Returns:
        list[str]: Paths relative to ``root`` with ``/`` separators, sorted.
    """
    prefix = os.path.relpath(folder, root).replace(os.sep, '/')
    files: List[str] = []
    _scan(os.path.normpath(folder), '' if prefix == '.' else f'{prefix}/', files, other_files)
    return sorted(files)


def _scan(folder: str, prefix: str, files: List[str], other_files: Optional[Set[str]]) -> None:
    """Append the JSON files under ``folder`` to ``files``, each as ``prefix`` + its path,
    and add the paths of the other files to ``other_files``."""
    try:
        with os.scandir(folder) as entries:
            listed = list(entries)
    except OSError:
        return
    for entry in listed:
        if entry.is_dir():
            if not entry.is_symlink():
                _scan(entry.path, f'{prefix}{entry.name}/', files, other_files)
        elif entry.name.endswith('.json'):
            files.append(prefix + entry.name)
        elif other_files is not None and entry.is_file():
            other_files.add(entry.path)


class BuildCache:
    """A pickled build result, valid for the same arguments and the same input files.

    The file is ``<cache_dir>/<kind>-<sha1 of the arguments>.pkl``: one per configuration,
    replaced (atomically) when its inputs change, so stale results do not pile up.

    Args:
        cache_dir (str): The cache folder (created on the first save).
        kind (str): The file name's prefix, e.g. ``'dataset'``.
        args (Any): Every argument the result depends on; its ``repr`` keys the file.
        paths (Sequence[str]): The inputs: files, and folders (a folder's ``mtime_ns``
            changes when an entry is added, removed or renamed). The size and ``mtime_ns``
            of each, or its absence, must match for a cached result to be used.
    """

    def __init__(self, cache_dir: str, kind: str, args: Any, paths: Sequence[str]) -> None:
        digest = hashlib.sha1(repr((CACHE_VERSION, args)).encode()).hexdigest()
        self.path = os.path.join(cache_dir, f'{kind}-{digest}.pkl')
        self.stamps = [_stamp(path) for path in paths]

    def load(self) -> Optional[Any]:
        """Return the cached result, or None when there is none for these inputs.

        Returns:
            Any: The result given to :meth:`save`, or None.
        """
        try:
            with open(self.path, 'rb') as f:
                if pickle.load(f) != self.stamps:
                    return None
                return pickle.load(f)
        except Exception:  # no file, or a foreign or damaged one: no cache hit
            return None

    def save(self, result: Any) -> None:
        """Store ``result`` for these inputs, replacing the previous one atomically.

        Args:
            result (Any): A picklable result.
        """
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with atomic_write(self.path, 'wb', durable=False) as f:  # a torn file reads as a miss
            pickle.dump(self.stamps, f, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)


def _stamp(path: str) -> Stamp:
    """``(path, size, mtime_ns)`` of a file or folder; ``(path, None, None)`` when it is absent."""
    try:
        stat = os.stat(path)
    except OSError:
        return path, None, None
    return path, stat.st_size, stat.st_mtime_ns
