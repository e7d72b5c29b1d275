"""The JSON files of an annotation tree, listed with ``os.scandir`` (no ``stat`` per file)."""
import os
from typing import List


def list_json_files(folder: str, root: str) -> List[str]:
    """List the ``*.json`` files under ``folder``, as :func:`os.walk` finds them.

    Symlinked folders below ``folder`` are not followed; unreadable folders are passed over.

    Args:
        folder (str): The folder to list.
        root (str): The folder the returned paths are relative to (``folder`` or above it).

    Returns:
        list[str]: Paths relative to ``root`` with ``/`` separators, sorted.
    """
    prefix = os.path.relpath(folder, root).replace(os.sep, '/')
    files: List[str] = []
    _scan(os.path.normpath(folder), '' if prefix == '.' else f'{prefix}/', files)
    return sorted(files)


def _scan(folder: str, prefix: str, files: List[str]) -> None:
    """Append the JSON files under ``folder`` to ``files``, each as ``prefix`` + its path."""
    try:
        with os.scandir(folder) as entries:
            listed = list(entries)
    except OSError:
        return
    for entry in listed:
        if entry.is_dir():
            if not entry.is_symlink():
                _scan(entry.path, f'{prefix}{entry.name}/', files)
        elif entry.name.endswith('.json'):
            files.append(prefix + entry.name)
