"""Distributed training and testing on machines without an accelerator.

mmengine's ``_init_dist_pytorch`` and ``_init_dist_slurm`` call
``torch.cuda.set_device`` unconditionally and the Runner wraps the model in
``MMDistributedDataParallel`` with ``device_ids=[LOCAL_RANK]``. After
:func:`install_cpu_distributed`, a machine without an accelerator initialises
the process group with ``gloo`` (``nccl`` needs CUDA) and wraps the model with
``device_ids=None``. With an accelerator mmengine's own code runs unchanged.
"""
import gc
import os
import subprocess
from typing import Any, Optional

import mmengine.dist.utils as mmengine_dist_utils
import torch.distributed as torch_dist
from mmengine.device import get_device
from mmengine.model import is_model_wrapper
from mmengine.registry import MODEL_WRAPPERS
from mmengine.runner import Runner
from torch import nn
from torch.nn.parallel import DistributedDataParallel

__all__ = ['install_cpu_distributed', 'close_distributed']

_MMENGINE_INIT_DIST_PYTORCH = mmengine_dist_utils._init_dist_pytorch
_MMENGINE_INIT_DIST_SLURM = mmengine_dist_utils._init_dist_slurm
_MMENGINE_WRAP_MODEL = Runner.wrap_model


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

    Sets ``MASTER_ADDR`` (the first host of ``SLURM_NODELIST`` unless set),
    ``MASTER_PORT`` (``port``, else the environment's, else 29500),
    ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK`` from SLURM's variables as
    mmengine does.

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


def _cpu_model_wrapper_cfg(model_wrapper_cfg: Optional[dict],
                           find_unused_parameters: bool) -> dict:
    """Return a wrapper config that builds DDP with ``device_ids=None``.

    Args:
        model_wrapper_cfg (dict, optional): The config's wrapper, if any.
        find_unused_parameters (bool): The config's setting, used when no
            wrapper is configured.

    Returns:
        dict: The wrapper config.
    """
    if model_wrapper_cfg is None:
        return dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=find_unused_parameters)
    wrapper_cfg = dict(model_wrapper_cfg)
    wrapper_type = wrapper_cfg.setdefault('type', 'MMDistributedDataParallel')
    wrapper_cls = (
        wrapper_type if isinstance(wrapper_type, type) else
        MODEL_WRAPPERS.get(wrapper_type))
    if issubclass(wrapper_cls, DistributedDataParallel):
        wrapper_cfg['device_ids'] = None
    return wrapper_cfg


def _wrap_model(self: Runner, model_wrapper_cfg: Optional[dict],
                model: nn.Module) -> nn.Module:
    """``Runner.wrap_model``, with ``device_ids=None`` for DDP on CPU.

    Args:
        model_wrapper_cfg (dict, optional): Config to wrap the model.
        model (nn.Module): The model to wrap.

    Returns:
        nn.Module: The (wrapped) model.
    """
    if self.distributed and _on_cpu() and not is_model_wrapper(model):
        model_wrapper_cfg = _cpu_model_wrapper_cfg(
            model_wrapper_cfg, self.cfg.get('find_unused_parameters', False))
    return _MMENGINE_WRAP_MODEL(self, model_wrapper_cfg, model)


def install_cpu_distributed() -> None:
    """Let ``--launcher pytorch`` and ``--launcher slurm`` run on CPU;
    calling it again changes nothing."""
    mmengine_dist_utils._init_dist_pytorch = _init_dist_pytorch
    mmengine_dist_utils._init_dist_slurm = _init_dist_slurm
    Runner.wrap_model = _wrap_model


def close_distributed() -> None:
    """Leave the default process group, if any, once every rank is done.

    Call it once the runner is gone (the tools call it after their ``main``
    returns). A model wrapped in ``DistributedDataParallel`` keeps the
    ``gloo`` group, and with it gloo's worker threads, alive after
    ``destroy_process_group``; a runner sits in reference cycles, so without a
    collection they are freed only at interpreter shutdown, where a worker
    thread releasing its last work object aborts the process (``terminate
    called without an active exception``) and ``torchrun`` reports a finished
    run as failed. So the garbage is collected first, and the group then
    destroyed with its threads while the interpreter is alive; the barrier
    lets the slowest rank finish its last collective before any rank leaves.
    """
    if not torch_dist.is_available() or not torch_dist.is_initialized():
        return
    gc.collect()
    torch_dist.barrier()
    torch_dist.destroy_process_group()
