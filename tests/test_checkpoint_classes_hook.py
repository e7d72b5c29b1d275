"""CheckpointClassesHook: a tested checkpoint must have the test set's classes, in order."""
from types import SimpleNamespace

import pytest

from mmfs_plugin.engine import CheckpointClassesHook


def runner(classes):
    dataset = SimpleNamespace(metainfo=dict(classes=classes))
    loader = SimpleNamespace(dataset=dataset)
    return SimpleNamespace(test_dataloader=loader, val_dataloader=loader,
                           cfg=dict(load_from='work/iter_10.pth'))


def checkpoint(classes):
    return dict(meta=dict(dataset_meta=dict(classes=classes)))


def test_the_same_classes_pass_and_other_ones_are_named():
    hook = CheckpointClassesHook()
    hook.after_load_checkpoint(runner(('a', 'b')), checkpoint(('a', 'b')))
    hook.before_test_epoch(runner(('a', 'b')))
    with pytest.raises(ValueError, match=r"iter_10\.pth: meta\.dataset_meta\.classes: the "
                                         r"checkpoint was trained on \['a', 'b'\], "
                                         r"test_dataloader\.dataset has the label space "
                                         r"\['b', 'a'\]"):
        hook.before_test_epoch(runner(('b', 'a')))
    with pytest.raises(ValueError, match='val_dataloader'):
        hook.before_val_epoch(runner(('a', 'b', 'c')))


def test_a_checkpoint_loaded_before_training_is_not_checked():
    hook = CheckpointClassesHook()
    hook.after_load_checkpoint(runner(('a',)), checkpoint(('a',)))  # a base checkpoint
    hook.before_train(runner(('a', 'b')))
    hook.before_val_epoch(runner(('a', 'b')))  # the fine-tuned model: nothing to compare
    hook.after_load_checkpoint(runner(('a',)), dict(meta={}))  # no classes recorded
    hook.before_test_epoch(runner(('x',)))
