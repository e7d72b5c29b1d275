"""The test metrics file written by the main process only.

mmengine 0.10.7's ``LoggerHook.after_test_epoch`` dumps the test metrics to
``<work_dir>/<timestamp>/<timestamp>.json`` on every rank. The ranks share the
timestamp, so in a distributed test they all write the same file at once: the
file may hold another rank's timings, or a mix of two writes that is not JSON
at all. (Validation metrics go through the visualizer, which writes on the main
process only.) After :func:`install_rank_zero_test_dump` only the main process
writes the file; the other ranks still log the line as before.
"""
from typing import Dict, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import LoggerHook
from mmengine.runner import Runner

__all__ = ['install_rank_zero_test_dump']

_MMENGINE_AFTER_TEST_EPOCH = LoggerHook.after_test_epoch


def _after_test_epoch(self: LoggerHook,
                      runner: Runner,
                      metrics: Optional[Dict[str, float]] = None) -> None:
    """``LoggerHook.after_test_epoch``, dumping the metrics on the main process only.

    Args:
        runner (Runner): The runner of the testing process.
        metrics (dict[str, float], optional): The test metrics.
    """
    if is_main_process():
        _MMENGINE_AFTER_TEST_EPOCH(self, runner, metrics)
        return
    _, log_str = runner.log_processor.get_log_after_epoch(
        runner, len(runner.test_dataloader), 'test', with_non_scalar=True)
    runner.logger.info(log_str)


def install_rank_zero_test_dump() -> None:
    """Let only the main process write the test metrics file; calling it again changes
    nothing."""
    LoggerHook.after_test_epoch = _after_test_epoch
