"""CheckpointClassesHook: refuse to evaluate a checkpoint on another label space."""
from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmdet.registry import HOOKS


@HOOKS.register_module()
class CheckpointClassesHook(Hook):
    """Refuse to test or validate a loaded checkpoint whose classes are not the dataset's.

    A checkpoint saved by mmengine names its classes (``meta['dataset_meta']['classes']``).
    Tested on a dataset whose label space has other classes, or the same in another order,
    mmengine loads what fits and leaves the rest initialised at random (``size mismatch`` in the
    log), and the metrics score the wrong classes. This hook remembers the classes of the last
    checkpoint the runner loaded (``tools/test.py``'s, or a resumed one) and, before a test or
    validation epoch, raises unless the dataset has exactly those classes in that order. A
    checkpoint loaded before training is a starting point, not the model evaluated: training
    clears it.
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._classes: Optional[Sequence[str]] = None
        self._source = ''

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """Remember the loaded checkpoint's classes.

        Args:
            runner (Runner): The runner.
            checkpoint (dict): The loaded checkpoint.
        """
        meta = checkpoint.get('meta') or {}
        self._classes = (meta.get('dataset_meta') or {}).get('classes')
        self._source = str(runner.cfg.get('load_from') or 'the loaded checkpoint')

    def before_train(self, runner: Runner) -> None:
        """Forget the checkpoint: what is evaluated after training is the trained model."""
        self._classes = None

    def before_val_epoch(self, runner: Runner) -> None:
        """Check the validation dataset against the loaded checkpoint."""
        self._check(runner.val_dataloader.dataset.metainfo.get('classes'), 'val_dataloader')

    def before_test_epoch(self, runner: Runner) -> None:
        """Check the test dataset against the loaded checkpoint."""
        self._check(runner.test_dataloader.dataset.metainfo.get('classes'), 'test_dataloader')

    def _check(self, classes: Optional[Sequence[str]], where: str) -> None:
        if self._classes is None or classes is None:
            return
        if list(self._classes) != list(classes):
            raise ValueError(
                f'{self._source}: meta.dataset_meta.classes: the checkpoint was trained on '
                f'{list(self._classes)}, {where}.dataset has the label space {list(classes)}; '
                'evaluate it with the config (split, setting, classes) it was trained with')
