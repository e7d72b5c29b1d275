"""Tests of mmfs_plugin.engine.shutdown: close_distributed with gloo and NCCL, in bounded time.

NCCL needs a GPU: its branch is checked with a faked process group (which barrier arguments it
gets); the bounded wait is checked with fakes and in a real 2-process gloo group whose second
rank never reaches the barrier.
"""
import logging
import os
import re
import subprocess
import sys
import threading
import time
from typing import List

import pytest
import torch

from mmfs_plugin.engine import close_distributed, shutdown

from .tool_runs import free_port

# Two ranks of a gloo group; argv: whether rank 1 comes to the barrier ('present' or 'absent')
# and close_distributed's timeout. Each prints when it starts closing and when it is closed.
_TWO_RANK_SCRIPT = '''
import sys, time
import torch.distributed as dist
from mmfs_plugin.engine import close_distributed

dist.init_process_group('gloo')
if dist.get_rank() == 1 and sys.argv[1] == 'absent':
    time.sleep(300)
print(f'closing at {time.time()}', flush=True)
close_distributed(timeout=float(sys.argv[2]))
print(f'closed at {time.time()}', flush=True)
'''
#: close_distributed's timeout when rank 1 never comes.
TIMEOUT_S = 3
#: The most seconds close_distributed may take with every rank there.
CLOSE_S = 5
#: The most seconds a process may take to exit after close_distributed returned, or timed out:
#: the interpreter's shutdown (which alone takes seconds for torch and mmengine on 2 loaded
#: cores) or os._exit.
EXIT_S = 15


@pytest.mark.parametrize('backend, expected', [
    ('gloo', {}),
    ('nccl', dict(device_ids=[3])),
    ('cpu:gloo,cuda:nccl', dict(device_ids=[3])),
])
def test_the_barrier_runs_on_the_ranks_gpu_with_nccl(backend: str, expected: dict,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, 'current_device', lambda: 3)
    assert shutdown.barrier_kwargs(backend) == expected


@pytest.fixture
def fake_group(monkeypatch: pytest.MonkeyPatch) -> List[tuple]:
    """An initialised NCCL default group on CUDA device 1, faked: the calls it gets."""
    calls: List[tuple] = []
    dist = shutdown.torch_dist
    monkeypatch.setattr(dist, 'is_initialized', lambda: True)
    monkeypatch.setattr(dist, 'get_rank', lambda: 1)
    monkeypatch.setattr(dist, 'get_backend', lambda: 'nccl')
    monkeypatch.setattr(dist, 'barrier', lambda **kwargs: calls.append(('barrier', kwargs)))
    monkeypatch.setattr(dist, 'destroy_process_group', lambda: calls.append(('destroy', )))
    monkeypatch.setattr(torch.cuda, 'current_device', lambda: 1)
    return calls


@pytest.fixture
def exits(monkeypatch: pytest.MonkeyPatch) -> List[int]:
    """The statuses ``os._exit`` is called with (faked: the process goes on)."""
    statuses: List[int] = []
    monkeypatch.setattr(shutdown.os, '_exit', statuses.append)
    return statuses


def test_close_with_nccl_waits_on_the_ranks_gpu_then_destroys(fake_group: List[tuple],
                                                               exits: List[int]) -> None:
    close_distributed(timeout=0.1)
    time.sleep(0.3)  # past the timeout: the deadline was cancelled
    assert fake_group == [('barrier', dict(device_ids=[1])), ('destroy', )]
    assert exits == []


def test_close_without_a_group_does_nothing(fake_group: List[tuple],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutdown.torch_dist, 'is_initialized', lambda: False)
    close_distributed()
    assert fake_group == []


@pytest.mark.parametrize('hung, step', [
    ('barrier', 'waiting for every rank at the final barrier'),
    ('destroy_process_group', 'destroying the process group'),
])
def test_a_hung_close_logs_a_warning_and_exits(hung: str, step: str, fake_group: List[tuple],
                                               monkeypatch: pytest.MonkeyPatch,
                                               caplog: pytest.LogCaptureFixture) -> None:
    released = threading.Event()
    exited_after: List[float] = []
    start = time.monotonic()

    def fake_exit(status: int) -> None:
        exited_after.append(time.monotonic() - start)
        assert status == shutdown.HUNG_EXIT_STATUS != 0
        released.set()  # lets the main thread go on (a real exit would end it)

    monkeypatch.setattr(shutdown.torch_dist, hung, lambda **kwargs: released.wait(30))
    monkeypatch.setattr(shutdown.os, '_exit', fake_exit)
    logger = logging.getLogger('test_shutdown')
    monkeypatch.setattr(shutdown.MMLogger, 'get_current_instance', lambda: logger)
    with caplog.at_level(logging.WARNING, logger='test_shutdown'):
        close_distributed(timeout=0.2)
    assert len(exited_after) == 1 and 0.2 <= exited_after[0] < 5
    assert f'close_distributed (rank 1): still {step} after 0.2 s' in caplog.text


def _run_two_ranks(rank1: str, timeout: float) -> List[dict]:
    """Run :data:`_TWO_RANK_SCRIPT` as ranks 0 and 1; rank 1 is killed once rank 0 has exited.

    Args:
        rank1 (str): ``present``, or ``absent`` to keep rank 1 from the barrier.
        timeout (float): close_distributed's timeout.

    Returns:
        list[dict]: Per rank: ``status`` (the exit status), ``stdout``, ``closing``, ``closed``
        (when it started and ended close_distributed, None if it did not) and ``exited``
        (when it had exited, measured here).
    """
    env = dict(os.environ, OMP_NUM_THREADS='1', MASTER_ADDR='127.0.0.1',
               MASTER_PORT=free_port(), WORLD_SIZE='2')
    ranks = [subprocess.Popen([sys.executable, '-c', _TWO_RANK_SCRIPT, rank1, str(timeout)],
                              env=dict(env, RANK=str(rank), LOCAL_RANK=str(rank)),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for rank in (0, 1)]
    results = []
    try:
        for rank, process in enumerate(ranks):
            if rank == 1 and rank1 == 'absent':
                process.kill()  # sleeping where the barrier would be
            stdout, _ = process.communicate(timeout=600)
            times = {event: float(found[1]) if found else None
                     for event in ('closing', 'closed')
                     for found in [re.search(rf'{event} at ([\d.]+)', stdout)]}
            results.append(dict(status=process.returncode, stdout=stdout, exited=time.time(),
                                **times))
    finally:
        for process in ranks:
            if process.poll() is None:
                process.kill()
                process.wait()
    return results


def test_two_gloo_ranks_close_promptly() -> None:
    for rank, result in enumerate(_run_two_ranks('present', timeout=60)):
        assert result['status'] == 0, result['stdout'][-3000:]
        assert result['closed'] is not None, result['stdout'][-3000:]
        assert result['closed'] - result['closing'] < CLOSE_S, f'rank {rank}'
        assert result['exited'] - result['closed'] < EXIT_S, f'rank {rank}'


def test_a_rank_that_never_comes_ends_the_wait_after_the_timeout() -> None:
    rank0 = _run_two_ranks('absent', timeout=TIMEOUT_S)[0]
    assert rank0['status'] == shutdown.HUNG_EXIT_STATUS != 0, rank0['stdout'][-3000:]
    assert ('close_distributed (rank 0): still waiting for every rank at the final barrier '
            f'after {TIMEOUT_S} s') in rank0['stdout']
    assert rank0['closed'] is None
    assert TIMEOUT_S <= rank0['exited'] - rank0['closing'] < TIMEOUT_S + EXIT_S
