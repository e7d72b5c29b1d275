"""``--launcher pytorch``/``slurm`` on machines without an accelerator (mmengine 0.10.7).

mmengine's ``_init_dist_pytorch``/``_init_dist_slurm`` call ``torch.cuda.set_device``; patched,
they initialise ``gloo`` on CPU and run unchanged elsewhere. DDP's device ids are a config value
(:func:`with_cpu_model_wrapper`).
"""
import copy
import os
import subprocess
from typing import Any, Optional

import mmengine.dist.utils as mmengine_dist_utils
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.device import get_device
from mmengine.registry import MODEL_WRAPPERS
from torch.nn.parallel import DistributedDataParallel

from .versions import check_versions

__all__ = ['install_cpu_distributed', 'with_cpu_model_wrapper', 'WRITTEN_FOR']

#: Package -> the versions the patch was written for.
WRITTEN_FOR = {'mmengine': '==0.10.7'}

_MMENGINE_INIT_DIST_PYTORCH = mmengine_dist_utils._init_dist_pytorch
_MMENGINE_INIT_DIST_SLURM = mmengine_dist_utils._init_dist_slurm


def _on_cpu() -> bool:
    """Tell whether this machine has no accelerator mmengine knows."""
    return get_device() == 'cpu'


def _init_cpu_process_group(backend: str, init_backend: str,
                            **kwargs: Any) -> None:
    """Initialise the default process group without an accelerator.

    Args:
        backend (str): The configured backend; ``nccl`` becomes ``gloo``.
        init_backend (str): Must be ``torch`` on CPU.
        **kwargs: Keyword arguments of ``init_process_group``.
    """
    if init_backend != 'torch':
        raise ValueError(f'init_backend={init_backend!r} needs an '
                         'accelerator; on CPU only "torch" is supported')
    torch_dist.init_process_group(
        backend='gloo' if backend == 'nccl' else backend, **kwargs)


def _init_dist_pytorch(backend: str,
                       init_backend: str = 'torch',
                       **kwargs: Any) -> None:
    """mmengine's ``_init_dist_pytorch``, with ``gloo`` on CPU.

    Args:
        backend (str): Backend of torch.distributed.
        init_backend (str): ``torch``, ``deepspeed`` or ``colossalai``.
        **kwargs: Keyword arguments of ``init_process_group``.
    """
    if not _on_cpu():
        _MMENGINE_INIT_DIST_PYTORCH(
            backend, init_backend=init_backend, **kwargs)
        return
    _init_cpu_process_group(backend, init_backend, **kwargs)


def _init_dist_slurm(backend: str,
                     port: Optional[int] = None,
                     init_backend: str = 'torch',
                     **kwargs: Any) -> None:
    """mmengine's ``_init_dist_slurm``, with ``gloo`` on CPU.

    Sets ``MASTER_ADDR``, ``MASTER_PORT`` (else 29500), ``WORLD_SIZE``, ``RANK`` and
    ``LOCAL_RANK`` from SLURM's variables as mmengine does.

    Args:
        backend (str): Backend of torch.distributed.
        port (int, optional): The master port.
        init_backend (str): ``torch``, ``deepspeed`` or ``colossalai``.
        **kwargs: Keyword arguments of ``init_process_group``.
    """
    if not _on_cpu():
        _MMENGINE_INIT_DIST_SLURM(
            backend, port=port, init_backend=init_backend, **kwargs)
        return
    if port is not None:
        os.environ['MASTER_PORT'] = str(port)
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        hosts = subprocess.run(
            ['scontrol', 'show', 'hostname', os.environ['SLURM_NODELIST']],
            check=True,
            capture_output=True,
            text=True).stdout.split()
        os.environ['MASTER_ADDR'] = hosts[0]
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
    _init_cpu_process_group(backend, init_backend, **kwargs)


def with_cpu_model_wrapper(cfg: Config) -> Config:
    """Set ``model_wrapper_cfg``'s ``device_ids=None`` for a distributed run on CPU.

    DDP refuses device ids for a CPU module; a missing ``model_wrapper_cfg`` becomes mmengine's
    default wrapper. Other configs, and wrappers that are not DDP, are left as they are.

    Args:
        cfg (Config): A runner config.

    Returns:
        Config: ``cfg`` itself, or a copy with ``model_wrapper_cfg`` set.
    """
    if cfg.get('launcher', 'none') == 'none' or not _on_cpu():
        return cfg
    wrapper_cfg = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper_type = wrapper_cfg.get('type', 'MMDistributedDataParallel')
    if isinstance(wrapper_type, str):
        wrapper_type = MODEL_WRAPPERS.get(wrapper_type)
    if not (isinstance(wrapper_type, type)
            and issubclass(wrapper_type, DistributedDataParallel)):
        return cfg
    cfg = copy.deepcopy(cfg)
    cfg.model_wrapper_cfg = dict(wrapper_cfg, device_ids=None)
    return cfg


def install_cpu_distributed() -> None:
    """Let ``--launcher pytorch`` and ``--launcher slurm`` initialise on CPU; calling it again
    changes nothing.

    Raises:
        UnsupportedVersionError: If mmengine is not a version of :data:`WRITTEN_FOR`.
    """
    check_versions(__name__, WRITTEN_FOR)
    mmengine_dist_utils._init_dist_pytorch = _init_dist_pytorch
    mmengine_dist_utils._init_dist_slurm = _init_dist_slurm
