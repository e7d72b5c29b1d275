"""Evaluation loops that score ground-truth boxes: kept until the configs use
``GTBoxScoringHook``."""
from typing import Sequence

from mmengine.runner import TestLoop, ValLoop

from mmdet.registry import LOOPS
from .gt_box_scoring import GTBoxScoring


@LOOPS.register_module()
class FewShotValLoop(ValLoop):
    """:class:`ValLoop` whose data samples also carry GT-box class scores (for
    ``GTBoxAccuracy``); see :class:`GTBoxScoring`. Arguments are those of ``ValLoop``."""

    def run(self) -> dict:
        """Launch validation with GT-box scoring.

        Returns:
            dict: The metrics of the evaluator.
        """
        with GTBoxScoring(self.runner.model):
            return super().run()


@LOOPS.register_module()
class FewShotTestLoop(TestLoop):
    """:class:`TestLoop` whose data samples also carry GT-box class scores (for
    ``GTBoxAccuracy``), also under test-time augmentation; see :class:`GTBoxScoring`.
    Arguments are those of ``TestLoop``."""

    _scoring: GTBoxScoring  # while run() runs

    def run(self) -> dict:
        """Launch testing with GT-box scoring.

        Returns:
            dict: The metrics of the evaluator.
        """
        with GTBoxScoring(self.runner.model) as self._scoring:
            return super().run()

    def run_iter(self, idx: int, data_batch: Sequence[dict]) -> None:
        """Test one batch, its TTA views scored together.

        Args:
            idx (int): The batch's index.
            data_batch (Sequence[dict]): The batch from the dataloader.
        """
        self._scoring.start_batch()
        super().run_iter(idx, data_batch)
