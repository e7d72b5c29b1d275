"""Running the repo's tools and launch scripts from tests: environment, command, free port,
data-root options, and the audit of what the non-zero ranks of a distributed run write."""
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / 'tools'
#: Holds the ``sitecustomize`` that :func:`audit_env` puts on ``PYTHONPATH``.
RANK_AUDIT_DIR = Path(__file__).resolve().parent / 'rank_audit'


def tool_env(**extra: str) -> dict:
    """The environment for a tool: one thread per process unless ``extra`` says otherwise,
    ``extra`` added, this interpreter's bin folder (torchrun) first on PATH."""
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env.update(extra)
    env['PATH'] = os.pathsep.join(
        [os.path.dirname(sys.executable),
         env.get('PATH', '')])
    return env


def run_command(args: list, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """Run a tool and fail with the end of its output if it fails.

    No wall-clock limit: a slow but healthy machine passes (a hung run is ended by CI's own
    limit, and the distributed tools bound their shutdown themselves).
    """
    result = subprocess.run([str(arg) for arg in args],
                            cwd=cwd,
                            env=tool_env(**env),
                            capture_output=True,
                            text=True)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result


def free_port() -> str:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return str(sock.getsockname()[1])


def data_root_options(root: Path) -> List[str]:
    """``--cfg-options`` pointing the train, val and test datasets at ``root``."""
    return [f'{loader}.dataset.dataset.data_root={root}/'
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]


def audit_env(log_dir: Path) -> dict:
    """Environment that makes every process with a non-zero ``RANK`` log what it writes.

    Each such process appends one line per file opened for writing, directory made, path
    renamed or removed (Python's audit events, absolute paths) to ``log_dir/rank<RANK>.txt``;
    read them back with :func:`audited_writes`.

    Args:
        log_dir (Path): Where the logs go; created.

    Returns:
        dict: ``PYTHONPATH`` and ``RANK_AUDIT_LOG_DIR`` for :func:`run_command`'s ``env``.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    python_path = os.pathsep.join(
        filter(None, [str(RANK_AUDIT_DIR), os.environ.get('PYTHONPATH')]))
    return dict(PYTHONPATH=python_path, RANK_AUDIT_LOG_DIR=str(log_dir))


def audited_writes(log_dir: Path, under: Path) -> List[str]:
    """The audited writes of the non-zero ranks (``rank<r> <event> <path>``) below ``under``."""
    lines = [line for log in sorted(log_dir.glob('rank*.txt'))
             for line in log.read_text().splitlines()]
    return [line for line in lines
            if Path(line.split(' ', 2)[2]).is_relative_to(under)]
