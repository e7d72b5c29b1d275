"""A LoggerHook whose test metrics file is written by the main process only.

mmengine 0.10.7's ``LoggerHook.after_test_epoch`` dumps the test metrics to
``<work_dir>/<timestamp>/<timestamp>.json`` on every rank. The ranks share the timestamp, so
in a distributed test they all write the same file at once: the file may hold another rank's
timings, or a mix of two writes that is not JSON at all. (Validation metrics go through the
visualizer, which writes on the main process only.) :class:`RankZeroDumpLoggerHook`, the
logger of ``configs/_base_/fewshot_runtime.py``, writes the file on the main process only; the
other ranks still log the line.
"""
from typing import Dict, Optional

from mmdet.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import LoggerHook
from mmengine.runner import Runner

__all__ = ['RankZeroDumpLoggerHook']


@HOOKS.register_module()
class RankZeroDumpLoggerHook(LoggerHook):
    """mmengine's :class:`~mmengine.hooks.LoggerHook`, with the test metrics file written by
    the main process only.

    Use it as ``default_hooks.logger``, with LoggerHook's arguments.
    """

    def after_test_epoch(self,
                         runner: Runner,
                         metrics: Optional[Dict[str, float]] = None) -> None:
        """Log the test metrics; the main process also dumps them to the metrics file.

        Args:
            runner (Runner): The runner of the testing process.
            metrics (dict[str, float], optional): The test metrics.
        """
        if is_main_process():
            super().after_test_epoch(runner, metrics)
            return
        _, log_str = runner.log_processor.get_log_after_epoch(
            runner, len(runner.test_dataloader), 'test', with_non_scalar=True)
        runner.logger.info(log_str)
