"""tools/setup_env.sh builds mmcv's CUDA ops for the GPUs torch sees unless told otherwise, and
installs the torchvision of the installed torch.

The script runs against a fake venv: its ``python`` logs every pip call with the
``TORCH_CUDA_ARCH_LIST`` it got, answers the GPU query with a fake torch (``FAKE_GPUS``: the
visible GPUs' compute capabilities), reports mmcv missing before the install and present after,
and runs the torchvision check against fake installed torch and torchvision (``FAKE_TV``: a
folder with their modules and metadata) when one is given.
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
    *"md.version('torchvision')"*)  # the torchvision check: against FAKE_TV when given
      [ -z "${FAKE_TV:-}" ] || PYTHONPATH=$FAKE_TV exec "$REAL_PYTHON" "$@" ;;
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


def run_script(tmp_path: Path, gpus: str, arch_list: Optional[str],
               **env_extra: str) -> subprocess.CompletedProcess:
    """Run tools/setup_env.sh against the fake venv.

    Args:
        tmp_path (Path): Where the fake venv, torch and pip log go.
        gpus (str): ``FAKE_GPUS``.
        arch_list (str, optional): ``TORCH_CUDA_ARCH_LIST``, None for unset.
        **env_extra (str): More environment (``FAKE_TV``, ``TORCH_INDEX``...).

    Returns:
        subprocess.CompletedProcess: The finished script.
    """
    python = tmp_path / 'venv/bin/python'
    python.parent.mkdir(parents=True)
    python.write_text(_FAKE_PYTHON)
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    (tmp_path / 'torch').mkdir()
    (tmp_path / 'torch/__init__.py').write_text(_FAKE_TORCH)
    env = {key: value for key, value in os.environ.items()
           if key not in ('TORCH_CUDA_ARCH_LIST', 'TORCH_INDEX', 'TORCH_SPEC')}
    env.update(VENV=str(tmp_path / 'venv'), MMCV_WHEELHOUSE='', FAKE_GPUS=gpus,
               FAKE_LOG=str(tmp_path / 'pip.log'), FAKE_TORCH=str(tmp_path),
               REAL_PYTHON=sys.executable, **env_extra)
    if arch_list is not None:
        env['TORCH_CUDA_ARCH_LIST'] = arch_list
    return subprocess.run(['bash', str(TOOLS / 'setup_env.sh')], env=env, capture_output=True,
                          text=True, timeout=60)


def run_setup(tmp_path: Path, gpus: str, arch_list: Optional[str]) -> tuple:
    """Run tools/setup_env.sh against the fake venv; it must succeed.

    Args:
        tmp_path (Path): Where the fake venv, torch and pip log go.
        gpus (str): ``FAKE_GPUS``.
        arch_list (str, optional): ``TORCH_CUDA_ARCH_LIST``, None for unset.

    Returns:
        tuple: The script's stdout and the pip line that installed mmcv.
    """
    result = run_script(tmp_path, gpus, arch_list)
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


def fake_torch_and_torchvision(folder: Path, torch_version: str, cuda: Optional[str],
                               torch_pin: str, imports: bool = True) -> Path:
    """Installed torch and torchvision as the torchvision check sees them: modules and metadata.

    Args:
        folder (Path): Where they go (put on ``PYTHONPATH`` as ``FAKE_TV``).
        torch_version (str): torch's version, e.g. ``'2.13.0+cpu'``.
        cuda (str, optional): ``torch.version.cuda``; None for a CPU build.
        torch_pin (str): torchvision's requirement on torch, e.g. ``'torch (==2.13.0)'``.
        imports (bool): Whether ``import torchvision`` works (else it fails as PyPI's CUDA
            build does beside a CPU torch).

    Returns:
        Path: ``folder``.
    """
    (folder / 'torch').mkdir(parents=True)
    (folder / 'torch/__init__.py').write_text('from . import version\n')
    (folder / 'torch/version.py').write_text(f'cuda = {cuda!r}\n')
    (folder / 'torchvision').mkdir()
    (folder / 'torchvision/__init__.py').write_text(
        '' if imports else "raise RuntimeError('operator torchvision::nms does not exist')\n")
    for name, version, requires in (('torch', torch_version, []),
                                    ('torchvision', '0.28.0', ['numpy', torch_pin])):
        info = folder / f'{name}-{version}.dist-info'
        info.mkdir()
        (info / 'METADATA').write_text(
            f'Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n'
            + ''.join(f'Requires-Dist: {req}\n' for req in requires))
    return folder


def pip_calls(tmp_path: Path) -> list:
    """The pip command lines the script ran, in order."""
    return (tmp_path / 'pip.log').read_text().splitlines()


@pytest.mark.parametrize('index', [None, 'https://download.pytorch.org/whl/cu121'])
def test_torchvision_is_installed_with_torch(index: Optional[str], tmp_path: Path) -> None:
    """torchvision goes in torch's pip command (its index included), so pip takes the release
    that requires this torch; the check names what was installed."""
    fake_tv = fake_torch_and_torchvision(tmp_path / 'tv', '2.13.0+cu121', '12.1',
                                         'torch (==2.13.0)')
    extra = {'FAKE_TV': str(fake_tv)}
    if index:
        extra['TORCH_INDEX'] = index
    result = run_script(tmp_path, '', None, **extra)
    assert result.returncode == 0, result.stdout + result.stderr
    [torch_install] = [line for line in pip_calls(tmp_path) if 'torch==2.13.0' in line]
    assert ' torch==2.13.0 torchvision ' in torch_install
    assert (f'--extra-index-url {index} ' in torch_install) == bool(index)
    assert 'setup_env: torchvision 0.28.0 (requires torch==2.13.0) with torch 2.13.0+cu121' \
        in result.stdout
    assert not any('uninstall' in line for line in pip_calls(tmp_path))


def test_torchvision_for_another_torch_fails_setup(tmp_path: Path) -> None:
    fake_tv = fake_torch_and_torchvision(tmp_path / 'tv', '2.13.0', '12.1', 'torch (==2.12.0)')
    result = run_script(tmp_path, '', None, FAKE_TV=str(fake_tv))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        'setup_env: FAILED: torchvision does not match the installed torch: torchvision 0.28.0 '
        'requires torch==2.12.0, but torch 2.13.0 is installed')


@pytest.mark.parametrize('cuda, index', [
    ('12.1', None),
    (None, 'https://download.pytorch.org/whl/cpu'),
], ids=['cuda torch', 'cpu torch from an index'])
def test_torchvision_that_does_not_import_fails_setup(cuda: Optional[str], index: Optional[str],
                                                      tmp_path: Path) -> None:
    fake_tv = fake_torch_and_torchvision(tmp_path / 'tv', '2.13.0', cuda, 'torch (==2.13.0)',
                                         imports=False)
    extra = {'FAKE_TV': str(fake_tv)}
    if index:
        extra['TORCH_INDEX'] = index
    result = run_script(tmp_path, '', None, **extra)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        'setup_env: FAILED: torchvision does not match the installed torch: torchvision 0.28.0 '
        'does not import beside torch 2.13.0 (RuntimeError: operator torchvision::nms does not '
        'exist)')


def test_cuda_torchvision_beside_a_local_cpu_torch_is_left_out(tmp_path: Path) -> None:
    """A CPU torch from a local file and no TORCH_INDEX: PyPI's torchvision (a CUDA build) does
    not import; it is removed with a warning that says how to get a CPU build."""
    fake_tv = fake_torch_and_torchvision(tmp_path / 'tv', '2.13.0+cpu', None, 'torch (==2.13.0)',
                                         imports=False)
    result = run_script(tmp_path, '', None, FAKE_TV=str(fake_tv))
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'pip uninstall -y -q torchvision' in '\n'.join(pip_calls(tmp_path))
    [warning] = [line for line in result.stderr.splitlines() if 'WARNING' in line]
    assert warning.startswith('setup_env: WARNING: torchvision 0.28.0 does not import beside '
                              'torch 2.13.0+cpu (RuntimeError: ')
    assert 'TORCH_INDEX=https://download.pytorch.org/whl/cpu' in warning
