"""Log what a non-zero rank of a distributed run writes (see tests/tool_runs.py: audit_env).

Imported by Python at start-up when this folder is on ``PYTHONPATH``. In a process whose
``RANK`` is set and not ``0``, with ``RANK_AUDIT_LOG_DIR`` set, it appends a line
``rank<RANK> <event> <absolute path>`` to ``$RANK_AUDIT_LOG_DIR/rank<RANK>.txt`` for every
Python audit event that writes: a file opened for writing, a directory made, a path renamed,
linked or removed. Paths relative to a directory descriptor (inside ``shutil.rmtree``, whose
own event names the tree) are left out. Anything else (the launcher, one-process runs) is left
as it is.
"""
import os
import sys

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
#: What the audit events pass as dir_fd for a path relative to the working directory.
_NO_DIR_FD = (None, -1, -100)
#: event -> (indices of its path arguments, index of its dir_fd argument or None)
_PATH_EVENTS = {
    'os.mkdir': ((0,), 2),
    'os.rename': ((0, 1), 2),
    'os.replace': ((0, 1), 2),
    'os.link': ((0, 1), 2),
    'os.symlink': ((1,), 2),
    'os.remove': ((0,), 1),
    'os.rmdir': ((0,), 1),
    'os.truncate': ((0,), None),
    'shutil.rmtree': ((0,), 1),
}


def _written_paths(event: str, args: tuple) -> list:
    """The paths an audit event writes, relative ones as given."""
    if event == 'open':
        path, mode, flags = args
        writes = any(char in mode for char in 'wax+') if mode else bool(flags & _WRITE_FLAGS)
        return [path] if writes and not isinstance(path, int) else []
    if event not in _PATH_EVENTS:
        return []
    path_indices, dir_fd_index = _PATH_EVENTS[event]
    if dir_fd_index is not None and args[dir_fd_index] not in _NO_DIR_FD:
        return []
    return [args[i] for i in path_indices if not isinstance(args[i], int)]


def _install(rank: str, log_dir: str) -> None:
    """Open the rank's log and add the audit hook that writes to it."""
    fd = os.open(os.path.join(log_dir, f'rank{rank}.txt'),
                 os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def hook(event: str, args: tuple) -> None:
        for path in _written_paths(event, args):
            path = os.path.abspath(os.fsdecode(path))
            os.write(fd, f'rank{rank} {event} {path}\n'.encode())

    sys.addaudithook(hook)


if os.environ.get('RANK', '0') != '0' and os.environ.get('RANK_AUDIT_LOG_DIR'):
    _install(os.environ['RANK'], os.environ['RANK_AUDIT_LOG_DIR'])
