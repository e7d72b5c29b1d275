"""GTBoxScoringHook: ground-truth boxes scored during evaluation, where ``GTBoxAccuracy`` is."""
from typing import Optional, Sequence

from mmengine.evaluator import Evaluator
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmdet.registry import HOOKS
from ..evaluation.gt_box_accuracy import GTBoxAccuracy
from ..evaluation.gt_box_scoring import GTBoxScoring


@HOOKS.register_module()
class GTBoxScoringHook(Hook):
    """Attach the class scores of the ground-truth boxes to the data samples
    (:class:`~mmfs_plugin.evaluation.GTBoxScoring`) during validation and testing, when the
    loop's evaluator has a :class:`~mmfs_plugin.evaluation.GTBoxAccuracy`; otherwise it does
    nothing. The detector must then be a two-stage one with a ``StandardRoIHead``."""

    priority = 'NORMAL'

    def __init__(self) -> None:
        self._scoring: Optional[GTBoxScoring] = None

    def _start(self, runner: Runner, evaluator: Evaluator) -> None:
        if any(isinstance(metric, GTBoxAccuracy) for metric in evaluator.metrics):
            self._scoring = GTBoxScoring(runner.model).__enter__()

    def _stop(self) -> None:
        if self._scoring is not None:
            self._scoring.__exit__(None, None, None)
            self._scoring = None

    def before_val(self, runner: Runner) -> None:
        """Start scoring if the validation evaluator has a ``GTBoxAccuracy``."""
        self._start(runner, runner.val_loop.evaluator)

    def after_val(self, runner: Runner) -> None:
        """Stop scoring."""
        self._stop()

    def before_test(self, runner: Runner) -> None:
        """Start scoring if the test evaluator has a ``GTBoxAccuracy``."""
        self._start(runner, runner.test_loop.evaluator)

    def after_test(self, runner: Runner) -> None:
        """Stop scoring."""
        self._stop()

    def before_test_iter(self, runner: Runner, batch_idx: int,
                         data_batch: Optional[Sequence[dict]] = None) -> None:
        """A new batch: its test-time augmentation views are merged together."""
        if self._scoring is not None:
            self._scoring.start_batch()
