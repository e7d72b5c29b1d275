"""The end of a distributed run, with gloo or NCCL, in bounded time.

:func:`close_distributed` collects the garbage (a DDP model keeps gloo's worker threads, which
abort the interpreter at shutdown), waits at a barrier (on the rank's GPU with NCCL) and
destroys the process group; a barrier or destruction that does not return makes the process
log a warning and exit with :data:`HUNG_EXIT_STATUS` (1) after a bounded wait.
"""
import gc
import os
import sys
import threading
from typing import List

import torch
import torch.distributed as torch_dist
from mmengine.logging import MMLogger

__all__ = ['close_distributed', 'barrier_kwargs', 'SHUTDOWN_TIMEOUT_S', 'HUNG_EXIT_STATUS']

#: How long (seconds) :func:`close_distributed` waits for the barrier and the destruction
#: together: long enough for a rank still saving its last checkpoint, short enough to notice.
SHUTDOWN_TIMEOUT_S = 60.0
#: The exit status of a process whose shutdown timed out (not 0: a rank hung).
HUNG_EXIT_STATUS = 1


def barrier_kwargs(backend: str) -> dict:
    """Return the keyword arguments of the final ``barrier`` for a backend.

    NCCL runs the barrier on a device; without ``device_ids`` torch guesses it (the device of
    an earlier collective, else the global rank modulo the local device count), so it is given
    the rank's own: the current CUDA device, which mmengine sets to the local rank.

    Args:
        backend (str): ``torch.distributed.get_backend()``, e.g. ``gloo``, ``nccl`` or
            ``cpu:gloo,cuda:nccl``.

    Returns:
        dict: ``device_ids=[<current CUDA device>]`` with NCCL, nothing otherwise.
    """
    if 'nccl' in backend:
        return dict(device_ids=[torch.cuda.current_device()])
    return {}


def _exit_after_timeout(rank: int, timeout: float, step: List[str]) -> None:
    """Log that the shutdown did not finish in time, flush the logs and exit with
    :data:`HUNG_EXIT_STATUS`.

    Runs on a timer thread while the main thread is stuck in ``step[0]``.

    Args:
        rank (int): This process's rank.
        timeout (float): The time waited, in seconds.
        step (list[str]): One item: what the main thread is doing.
    """
    logger = MMLogger.get_current_instance()
    logger.warning(
        f'close_distributed (rank {rank}): still {step[0]} after {timeout:g} s; exiting with '
        f'status {HUNG_EXIT_STATUS} (the run itself had finished; a rank did not)')
    for handler in logger.handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(HUNG_EXIT_STATUS)


def close_distributed(timeout: float = SHUTDOWN_TIMEOUT_S) -> None:
    """Leave the default process group, if any, once every rank is done.

    Call it once the runner is gone (the tools call it after their ``main`` returns). It
    collects the garbage, waits at a barrier (on the rank's GPU with NCCL, see
    :func:`barrier_kwargs`) and destroys the group. If the barrier and the destruction have not
    returned within ``timeout`` seconds, it logs a warning and ends the process with
    :data:`HUNG_EXIT_STATUS` (``os._exit``: a thread stuck in the backend cannot be
    interrupted).

    Args:
        timeout (float): Seconds to wait for the barrier and the destruction together.
            Defaults to :data:`SHUTDOWN_TIMEOUT_S`.
    """
    if not torch_dist.is_available() or not torch_dist.is_initialized():
        return
    gc.collect()
    step = ['waiting for every rank at the final barrier']
    deadline = threading.Timer(
        timeout, _exit_after_timeout, args=(torch_dist.get_rank(), timeout, step))
    deadline.daemon = True
    deadline.start()
    try:
        torch_dist.barrier(**barrier_kwargs(torch_dist.get_backend()))
        step[0] = 'destroying the process group'
        torch_dist.destroy_process_group()
    finally:
        deadline.cancel()
        deadline.join()  # the timer thread ends at once when cancelled; leave none behind
