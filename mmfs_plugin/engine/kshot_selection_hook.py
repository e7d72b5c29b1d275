"""KShotSelectionHook: write the k-shot selection of the training set into the work dir."""
import os
from typing import Iterator

from mmdet.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import Runner
from torch.utils.data import Dataset


def iter_leaf_datasets(dataset: Dataset) -> Iterator[Dataset]:
    """Yield the datasets inside mmengine's wrappers (Concat, Repeat, ClassBalanced)."""
    if hasattr(dataset, 'datasets'):
        for inner in dataset.datasets:
            yield from iter_leaf_datasets(inner)
    elif hasattr(dataset, 'dataset'):
        yield from iter_leaf_datasets(dataset.dataset)
    else:
        yield dataset


@HOOKS.register_module()
class KShotSelectionHook(Hook):
    """Save the k-shot selection of every training dataset as JSON in the work dir.

    The file (``kshot_selection.json``; ``kshot_selection_<i>.json`` when several wrapped
    datasets carry one) can be given back to a dataset as ``load_selection``. Only rank 0
    writes.

    Args:
        filename (str): The file name inside ``runner.work_dir``.
            Defaults to ``'kshot_selection.json'``.
    """

    priority = 'VERY_LOW'

    def __init__(self, filename: str = 'kshot_selection.json') -> None:
        self.filename = filename

    def before_train(self, runner: Runner) -> None:
        """Write the selections before training starts (not when only testing or validating:
        a test's work dir gets no selection file, and no training set is built for it)."""
        if not is_main_process():
            return
        selections = [ds.kshot_selection for ds in iter_leaf_datasets(
            runner.train_loop.dataloader.dataset)
                      if getattr(ds, 'kshot_selection', None) is not None]
        stem, ext = os.path.splitext(self.filename)
        for i, selection in enumerate(selections):
            name = self.filename if len(selections) == 1 else f'{stem}_{i}{ext}'
            path = os.path.join(runner.work_dir, name)
            selection.save(path)
            runner.logger.info(f'k-shot selection written to {path}')
