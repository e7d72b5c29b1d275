"""FewShotBalancedSampler: class balance, novel share, rank slices, resumption, wrappers."""
import itertools
import re
from typing import Dict, List, Sequence
from unittest import mock

import numpy as np
import pytest
import torch
from mmdet.datasets import ConcatDataset as MMDetConcatDataset
from mmdet.registry import DATA_SAMPLERS
from mmengine.dataset import BaseDataset, ConcatDataset, RepeatDataset
from mmengine.model import BaseModel
from mmengine.runner import Runner

import mmfs_plugin  # noqa: F401  (installs the safe checkpoint loading that resuming needs)
from mmfs_plugin.datasets import samplers

CLASSES = ('rare', 'few', 'many', 'most')
NOVEL = ('rare', 'few')
IGNORE = -1
# Instance labels per image: 1, 5, 50 and 200 instances of the four classes, mostly on
# single-class images, three multi-class images (one mixing novel and base), one background
# image and one holding an ignore region only.
IMAGES = ([[0]] + [[1, 1, 1], [1]] + [[2]] * 44 + [[2, 2]] + [[3]] * 162 + [[3, 3]] * 18 +
          [[1, 2], [2, 3], [2, 2, 3]] + [[], [IGNORE]])
DRAWS = 10_000


class ToyDataset(BaseDataset):
    """Images given as lists of instance labels (``-1``: an ignore region); no files."""

    METAINFO = dict(classes=CLASSES, novel_classes=NOVEL)

    def __init__(self, images: Sequence[Sequence[int]], **kwargs) -> None:
        self.images = images
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        return [dict(img_id=i, instances=[dict(bbox_label=label, ignore_flag=int(label < 0))
                                          for label in labels])
                for i, labels in enumerate(self.images)]

    def get_cat_ids(self, idx: int) -> List[int]:
        return [inst['bbox_label'] for inst in self.get_data_info(idx)['instances']
                if not inst['ignore_flag']]


def class_sets(images: Sequence[Sequence[int]]) -> List[frozenset]:
    return [frozenset(label for label in labels if label >= 0) for labels in images]


def build(dataset, world_size: int = 1, rank: int = 0, seed: int = 0, **cfg):
    cfg.setdefault('type', 'FewShotBalancedSampler')
    with mock.patch.object(samplers, 'get_dist_info', return_value=(rank, world_size)):
        return DATA_SAMPLERS.build(cfg, default_args=dict(dataset=dataset, seed=seed))


def global_draws(dataset, world_size: int, num: int, **cfg) -> List[int]:
    """The first ``num`` draws of all ranks together, rank slices interleaved."""
    per_rank = [list(itertools.islice(build(dataset, world_size, rank, **cfg), num // world_size))
                for rank in range(world_size)]
    return [idx for step in zip(*per_rank) for idx in step]


def class_shares(draws: Sequence[int], sets: Sequence[frozenset], num_classes: int) -> np.ndarray:
    """Per class: the drawn images holding it, as a fraction of all (class, image) hits."""
    hits = np.zeros(num_classes)
    for idx in draws:
        for label in sets[idx]:
            hits[label] += 1
    return hits / hits.sum()


def test_fixture_is_imbalanced_as_stated():
    counts = [sum(labels.count(c) for labels in IMAGES) for c in range(len(CLASSES))]
    assert counts == [1, 5, 50, 200]


@pytest.mark.parametrize('world_size', [1, 2, 4])
def test_rank_slices_are_disjoint_and_cover_the_global_stream(world_size):
    dataset = ToyDataset(IMAGES)
    reference = list(itertools.islice(build(dataset), 400))
    slices = [list(itertools.islice(build(dataset, world_size, rank), 400 // world_size))
              for rank in range(world_size)]
    for rank, indices in enumerate(slices):
        assert indices == reference[rank::world_size]
    assert sorted(itertools.chain(*slices)) == sorted(reference)


@pytest.mark.parametrize('world_size', [1, 2, 4])
def test_every_class_is_drawn_equally_often(world_size):
    draws = global_draws(ToyDataset(IMAGES), world_size, DRAWS)
    assert len(draws) == DRAWS
    shares = class_shares(draws, class_sets(IMAGES), len(CLASSES))
    target = 1 / len(CLASSES)
    assert np.all(np.abs(shares - target) <= 0.1 * target), shares
    never_drawn = {len(IMAGES) - 2, len(IMAGES) - 1}  # background, ignore region only
    assert not never_drawn & set(draws)


@pytest.mark.parametrize('world_size', [1, 2, 4])
@pytest.mark.parametrize('novel_ratio', [0.25, 0.5])
def test_novel_ratio_holds(world_size, novel_ratio):
    draws = global_draws(ToyDataset(IMAGES), world_size, DRAWS, novel_ratio=novel_ratio)
    sets = class_sets(IMAGES)
    novel = {CLASSES.index(name) for name in NOVEL}
    novel_share = np.mean([bool(sets[idx] & novel) for idx in draws])
    assert abs(novel_share - novel_ratio) <= 0.03
    shares = class_shares(draws, sets, len(CLASSES))
    assert shares[0] == pytest.approx(shares[1], rel=0.1)  # novel classes balanced


def test_seed_determines_the_stream():
    dataset = ToyDataset(IMAGES)
    first = list(itertools.islice(build(dataset, seed=3), 200))
    assert list(itertools.islice(build(dataset, seed=3), 200)) == first
    sampler = build(dataset, seed=3)
    assert list(itertools.islice(sampler, 200)) == list(itertools.islice(sampler, 200)) == first
    assert list(itertools.islice(build(dataset, seed=4), 200)) != first


@pytest.mark.parametrize('concat', [ConcatDataset, MMDetConcatDataset])
def test_concat_dataset(concat):
    novel = {CLASSES.index(name) for name in NOVEL}
    base_images = [labels for labels in IMAGES if not set(labels) & novel]
    novel_images = [labels for labels in IMAGES if set(labels) & novel]
    dataset = concat([ToyDataset(base_images), ToyDataset(novel_images)])
    draws = global_draws(dataset, 2, DRAWS, novel_ratio=0.5)
    assert max(draws) < len(base_images) + len(novel_images)
    assert abs(np.mean([idx >= len(base_images) for idx in draws]) - 0.5) <= 0.03
    base_draws = [idx for idx in draws if idx < len(base_images)]
    shares = class_shares(base_draws, class_sets(base_images), len(CLASSES))
    assert shares[2] == pytest.approx(shares[3], rel=0.1)  # balanced on the base images


def test_repeat_dataset():
    dataset = RepeatDataset(ToyDataset(IMAGES), times=3)
    draws = global_draws(dataset, 1, DRAWS)
    assert max(draws) < 3 * len(IMAGES)
    assert {idx // len(IMAGES) for idx in draws} == {0, 1, 2}
    shares = class_shares([idx % len(IMAGES) for idx in draws], class_sets(IMAGES), len(CLASSES))
    assert np.all(np.abs(shares - 0.25) <= 0.025), shares


def test_dataset_built_with_indices():
    indices = list(range(1, len(IMAGES)))  # leaves out the only 'rare' image
    dataset = ToyDataset(IMAGES, indices=indices)
    draws = global_draws(dataset, 1, DRAWS)
    assert max(draws) < len(indices)
    sets = [class_sets(IMAGES)[i] for i in indices]
    shares = class_shares(draws, sets, len(CLASSES))
    assert shares[0] == 0
    assert np.all(np.abs(shares[1:] - 1 / 3) <= 0.1 / 3), shares


class NoCatIds(BaseDataset):
    METAINFO = dict(classes=CLASSES)

    def load_data_list(self) -> List[dict]:
        return [dict(img_id=0)]


@pytest.mark.parametrize('dataset, cfg, message', [
    (NoCatIds(), {}, "NoCatIds: get_cat_ids"),
    (ToyDataset(IMAGES, metainfo=dict(classes=())), {}, "ToyDataset: metainfo['classes']"),
    (ToyDataset([[0], [4]]), {}, 'ToyDataset: get_cat_ids(1): labels [4]'),
    (ToyDataset([[], [IGNORE]]), {}, 'ToyDataset: get_cat_ids: no image'),
    (ToyDataset(IMAGES, metainfo=dict(novel_classes=())), dict(novel_ratio=0.5),
     "ToyDataset: metainfo['novel_classes']: novel_ratio needs"),
    (ToyDataset(IMAGES, metainfo=dict(novel_classes=('crack', ))), dict(novel_ratio=0.5),
     "ToyDataset: metainfo['novel_classes']: ['crack'] are not in"),
    (ToyDataset([[2], [3]]), dict(novel_ratio=0.5), 'no image holds a novel class'),
    (ToyDataset([[0], [1, 2]]), dict(novel_ratio=0.5), 'no image holds base classes only'),
    (ToyDataset(IMAGES), dict(novel_ratio=1.0), 'novel_ratio must be in (0, 1)'),
])
def test_bad_input_is_named(dataset, cfg, message):
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        build(dataset, **cfg)


# -- resumption under a real Runner --------------------------------------------------------
def keep_img_id(results: dict) -> dict:
    """The toy pipeline: only the image id reaches the model."""
    return dict(img_id=results['img_id'])


class RecordingModel(BaseModel):
    """Records the image ids of every training batch it sees."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.batches: List[List[int]] = []

    def forward(self, img_id: List[int], mode: str = 'loss') -> Dict[str, torch.Tensor]:
        self.batches.append(list(img_id))
        return dict(loss=(self.weight - 1).pow(2).sum())


def train(work_dir: str, name: str, max_iters: int, checkpoint_interval: int,
          resume: bool = False) -> List[List[int]]:
    model = RecordingModel()
    runner = Runner(
        model=model,
        work_dir=work_dir,
        experiment_name=name,
        default_scope='mmdet',
        train_dataloader=dict(
            dataset=ToyDataset(IMAGES, pipeline=[keep_img_id]),
            sampler=dict(type='FewShotBalancedSampler', novel_ratio=0.5),
            batch_size=3, num_workers=1, persistent_workers=False,
            collate_fn=dict(type='pseudo_collate')),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=checkpoint_interval),
            logger=dict(type='LoggerHook', interval=1000)),
        randomness=dict(seed=11),
        resume=resume)
    runner.train()
    # Release the dataloader's worker now: left to a later garbage collection, its shutdown
    # waits for a timeout.
    runner.train_loop.dataloader_iterator = None
    return model.batches


def test_resumed_run_sees_the_batches_of_the_uninterrupted_run(tmp_path):
    n, m = 6, 5
    whole = train(str(tmp_path / 'whole'), 'whole', n + m, checkpoint_interval=n)
    first = train(str(tmp_path / 'split'), 'first', n, checkpoint_interval=n)
    resumed = train(str(tmp_path / 'split'), 'resumed', n + m, checkpoint_interval=n,
                    resume=True)
    assert len(whole) == n + m and len(resumed) == m
    assert first == whole[:n]
    assert resumed == whole[n:]
    assert len({tuple(batch) for batch in whole}) > 1
