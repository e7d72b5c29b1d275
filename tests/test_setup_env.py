"""tools/setup_env.sh builds mmcv's CUDA ops for the GPUs torch sees unless told otherwise.

The script runs against a fake venv: its ``python`` logs every pip call with the
``TORCH_CUDA_ARCH_LIST`` it got, answers the GPU query with a fake torch (``FAKE_GPUS``: the
visible GPUs' compute capabilities), reports mmcv missing before the install and present after.
"""
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest

from .tool_runs import TOOLS

_FAKE_PYTHON = '''#!/usr/bin/env bash
if [ "$1" = -m ] && [ "$2" = pip ]; then
  echo "pip ${*:3} TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST-<unset>}" >> "$FAKE_LOG"
  exit 0
fi
if [ "$1" = -c ]; then
  case "$2" in
    *get_device_capability*) PYTHONPATH=$FAKE_TORCH exec "$REAL_PYTHON" "$@" ;;
    *"assert mmcv.__version__"*) exit 1 ;;  # mmcv is not installed yet
  esac
fi
exit 0
'''
_FAKE_TORCH = '''import os


class cuda:
    """The GPUs of FAKE_GPUS ('9.0 8.6': two GPUs)."""

    @staticmethod
    def is_available():
        return bool(os.environ['FAKE_GPUS'].split())

    @staticmethod
    def device_count():
        return len(os.environ['FAKE_GPUS'].split())

    @staticmethod
    def get_device_capability(index):
        major, minor = os.environ['FAKE_GPUS'].split()[index].split('.')
        return int(major), int(minor)
'''


def run_setup(tmp_path: Path, gpus: str, arch_list: Optional[str]) -> tuple:
    """Run tools/setup_env.sh against the fake venv.

    Args:
        tmp_path (Path): Where the fake venv, torch and pip log go.
        gpus (str): ``FAKE_GPUS``.
        arch_list (str, optional): ``TORCH_CUDA_ARCH_LIST``, None for unset.

    Returns:
        tuple: The script's stdout and the pip line that installed mmcv.
    """
    python = tmp_path / 'venv/bin/python'
    python.parent.mkdir(parents=True)
    python.write_text(_FAKE_PYTHON)
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    (tmp_path / 'torch').mkdir()
    (tmp_path / 'torch/__init__.py').write_text(_FAKE_TORCH)
    env = {key: value for key, value in os.environ.items() if key != 'TORCH_CUDA_ARCH_LIST'}
    env.update(VENV=str(tmp_path / 'venv'), MMCV_WHEELHOUSE='', FAKE_GPUS=gpus,
               FAKE_LOG=str(tmp_path / 'pip.log'), FAKE_TORCH=str(tmp_path),
               REAL_PYTHON=sys.executable)
    if arch_list is not None:
        env['TORCH_CUDA_ARCH_LIST'] = arch_list
    result = subprocess.run(['bash', str(TOOLS / 'setup_env.sh')], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    [mmcv_install] = [line for line in (tmp_path / 'pip.log').read_text().splitlines()
                      if 'mmcv==2.1.0' in line]
    return result.stdout, mmcv_install


@pytest.mark.parametrize('gpus, arch_list', [('9.0', '9.0'), ('9.0 8.6 9.0', '8.6;9.0')])
def test_mmcv_is_built_for_the_visible_gpus(gpus: str, arch_list: str, tmp_path: Path) -> None:
    stdout, mmcv_install = run_setup(tmp_path, gpus, None)
    assert mmcv_install.endswith(f' TORCH_CUDA_ARCH_LIST={arch_list}')
    assert f"TORCH_CUDA_ARCH_LIST is unset: building mmcv's CUDA ops for this machine's GPUs " \
        f'({arch_list})' in stdout


@pytest.mark.parametrize('gpus, arch_list, built_for', [
    ('9.0', '8.0;9.0', '8.0;9.0'),
    ('', None, '<unset>'),
], ids=['set by the user', 'no gpu'])
def test_mmcv_arch_list_is_left_alone_otherwise(gpus: str, arch_list: Optional[str],
                                                built_for: str, tmp_path: Path) -> None:
    stdout, mmcv_install = run_setup(tmp_path, gpus, arch_list)
    assert mmcv_install.endswith(f' TORCH_CUDA_ARCH_LIST={built_for}')
    assert 'TORCH_CUDA_ARCH_LIST is unset' not in stdout
