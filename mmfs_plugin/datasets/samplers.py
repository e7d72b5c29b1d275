"""The class-balanced sampler for few-shot training, with an optional fixed share of novel
images; docs/samplers.md states its weights and its determinism across ranks and resumption."""
import itertools
import logging
from typing import FrozenSet, Iterator, List, Optional, Sequence, Sized

import numpy as np
from mmengine.dataset import BaseDataset, ConcatDataset, RepeatDataset
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.logging import print_log
from torch.utils.data import Sampler

from mmdet.registry import DATA_SAMPLERS

#: Draws per call of the generator in the infinite stream (part of the stream's definition).
STREAM_CHUNK = 1024
#: Iterative proportional fitting: rounds at most, and the target of ``max |share - 1|``.
FIT_MAX_ROUNDS = 1000
FIT_TOLERANCE = 1e-9
#: Warn when the fitted per-class masses differ by more than this, relative to their mean.
BALANCE_WARN_SPREAD = 0.01

ClassSet = FrozenSet[int]


def image_class_sets(dataset: Sized) -> List[ClassSet]:
    """Return the set of non-ignored labels of every image, following ``ConcatDataset`` and
    ``RepeatDataset`` (mmengine's, mmdet's) down to datasets with ``get_cat_ids(idx)``.

    Args:
        dataset (Sized): The dataset the dataloader draws from.

    Returns:
        list[frozenset[int]]: One class set per index of ``dataset``.
    """
    if isinstance(dataset, ConcatDataset):
        return [cats for sub in dataset.datasets for cats in image_class_sets(sub)]
    if isinstance(dataset, RepeatDataset):
        return image_class_sets(dataset.dataset) * dataset.times
    get_cat_ids = getattr(type(dataset), 'get_cat_ids', None)
    if not callable(get_cat_ids) or get_cat_ids is BaseDataset.get_cat_ids:
        raise TypeError(f'{type(dataset).__name__}: get_cat_ids: the dataset must implement '
                        'get_cat_ids(idx), or be a ConcatDataset/RepeatDataset of such datasets')
    return [frozenset(int(label) for label in dataset.get_cat_ids(idx))
            for idx in range(len(dataset))]


def balanced_weights(class_sets: Sequence[ClassSet]) -> np.ndarray:
    """Return image weights under which every class present is held by the same mass, by
    iterative proportional fitting from uniform weights; images without a class get 0.

    Args:
        class_sets (Sequence[frozenset[int]]): The classes of each image.

    Returns:
        np.ndarray: Float64 weights, one per image, summing to 1.
    """
    signatures = sorted(set(class_sets) - {frozenset()}, key=sorted)
    if not signatures:
        raise ValueError('no image holds a class to balance')
    group_of = {signature: g for g, signature in enumerate(signatures)}
    counts = np.zeros(len(signatures))
    for cats in class_sets:
        if cats:
            counts[group_of[cats]] += 1
    classes = sorted(set().union(*signatures))
    holders = [np.array([g for g, signature in enumerate(signatures) if c in signature])
               for c in classes]

    def class_masses(weights: np.ndarray) -> np.ndarray:
        return np.array([counts[groups] @ weights[groups] for groups in holders])

    weights = np.ones(len(signatures))
    for _ in range(FIT_MAX_ROUNDS):
        for groups in holders:
            weights[groups] /= counts[groups] @ weights[groups]
        if np.abs(class_masses(weights) - 1).max() < FIT_TOLERANCE:
            break
    masses = class_masses(weights)
    spread = (masses.max() - masses.min()) / masses.mean()
    if spread > BALANCE_WARN_SPREAD:
        print_log(f'FewShotBalancedSampler: the images\' class sets allow no exact class '
                  f'balance; the classes\' expected shares differ by {spread:.1%} of their mean',
                  logger='current', level=logging.WARNING)
    image_weights = np.array([weights[group_of[cats]] if cats else 0.0 for cats in class_sets])
    return image_weights / image_weights.sum()


def novel_mixture_weights(class_sets: Sequence[ClassSet], novel_labels: ClassSet,
                          novel_ratio: float) -> np.ndarray:
    """Return weights drawing novel images (holding a label of ``novel_labels``) with
    probability ``novel_ratio``, balanced over the novel classes, the others over the base ones.

    Args:
        class_sets (Sequence[frozenset[int]]): The classes of each image.
        novel_labels (frozenset[int]): The labels of the novel classes.
        novel_ratio (float): The share of novel images, in ``(0, 1)``.

    Returns:
        np.ndarray: Float64 weights, one per image, summing to 1.
    """
    novel_sets = [cats & novel_labels for cats in class_sets]
    base_sets = [frozenset() if cats & novel_labels else cats for cats in class_sets]
    return (novel_ratio * balanced_weights(novel_sets) +
            (1 - novel_ratio) * balanced_weights(base_sets))


@DATA_SAMPLERS.register_module()
class FewShotBalancedSampler(Sampler):
    """Infinite class-balanced sampler for iteration-based few-shot training: every class is
    held by the same expected share of the drawn images (with replacement), whatever its
    instance count; optionally a share ``novel_ratio`` of them holds a novel class.

    Args:
        dataset (Sized): The dataset; ``metainfo['classes']`` names the labels, and
            ``metainfo['novel_classes']`` the novel ones when ``novel_ratio`` is set.
        seed (int, optional): Seed of the stream, the same on every rank. None: a random seed
            shared by the ranks. Defaults to None.
        novel_ratio (float, optional): Share of drawn images that hold a novel class, in
            ``(0, 1)``. None (default): all classes are balanced together.
    """

    def __init__(self,
                 dataset: Sized,
                 seed: Optional[int] = None,
                 novel_ratio: Optional[float] = None) -> None:
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        if seed is None:
            seed = sync_random_seed()
        if not isinstance(seed, int) or seed < 0:
            raise ValueError(f'{type(self).__name__}: seed must be a non-negative int, '
                             f'got {seed!r}')
        self.seed = seed
        self.novel_ratio = novel_ratio
        self.weights = self._sampling_weights()

    def _sampling_weights(self) -> np.ndarray:
        """Check the dataset's labels and metainfo, and compute the image weights."""
        name = type(self.dataset).__name__
        metainfo = getattr(self.dataset, 'metainfo', None)
        if not isinstance(metainfo, dict) or not metainfo.get('classes'):
            raise ValueError(f'{name}: metainfo[\'classes\']: the sampler needs the class names '
                             '(a ConcatDataset of datasets with different metainfo has none)')
        classes = list(metainfo['classes'])
        class_sets = image_class_sets(self.dataset)
        for idx, cats in enumerate(class_sets):
            outside = sorted(c for c in cats if not 0 <= c < len(classes))
            if outside:
                raise ValueError(f'{name}: get_cat_ids({idx}): labels {outside} are not indices '
                                 f'into metainfo[\'classes\'] ({len(classes)} classes)')
        if not any(class_sets):
            raise ValueError(f'{name}: get_cat_ids: no image holds a non-ignored instance')
        if self.novel_ratio is None:
            weights = balanced_weights(class_sets)
            summary = f'{len(set().union(*class_sets))} classes balanced'
        else:
            novel_labels = self._novel_labels(name, metainfo, classes, class_sets)
            weights = novel_mixture_weights(class_sets, novel_labels, self.novel_ratio)
            summary = (f'{len(novel_labels)} novel classes balanced on '
                       f'{self.novel_ratio:.0%} of the draws')
        print_log(f'{type(self).__name__}: {summary}; {np.count_nonzero(weights)} of '
                  f'{len(weights)} images drawable (seed {self.seed})', logger='current')
        return weights

    def _novel_labels(self, name: str, metainfo: dict, classes: List[str],
                      class_sets: List[ClassSet]) -> ClassSet:
        """Validate ``novel_ratio`` and the novel classes; return the novel labels."""
        if not (isinstance(self.novel_ratio, (int, float)) and 0 < self.novel_ratio < 1):
            raise ValueError(f'{type(self).__name__}: novel_ratio must be in (0, 1), '
                             f'got {self.novel_ratio!r}')
        novel_classes = metainfo.get('novel_classes')
        if not novel_classes:
            raise ValueError(f'{name}: metainfo[\'novel_classes\']: novel_ratio needs the '
                             'names of the novel classes')
        unknown = [c for c in novel_classes if c not in classes]
        if unknown:
            raise ValueError(f'{name}: metainfo[\'novel_classes\']: {unknown} are not in '
                             'metainfo[\'classes\']')
        novel_labels = frozenset(classes.index(c) for c in novel_classes)
        num_novel_images = sum(1 for cats in class_sets if cats & novel_labels)
        if num_novel_images == 0:
            raise ValueError(f'{name}: get_cat_ids: novel_ratio is set but no image holds a '
                             'novel class')
        if num_novel_images == sum(1 for cats in class_sets if cats):
            raise ValueError(f'{name}: get_cat_ids: novel_ratio is set but no image holds '
                             'base classes only')
        return novel_labels

    def _global_stream(self) -> Iterator[int]:
        """Yield the infinite stream of indices shared by all ranks."""
        rng = np.random.default_rng(self.seed)
        while True:
            yield from rng.choice(len(self.weights), size=STREAM_CHUNK, p=self.weights).tolist()

    def __iter__(self) -> Iterator[int]:
        """Iterate this rank's slice of the stream, from its start."""
        yield from itertools.islice(self._global_stream(), self.rank, None, self.world_size)

    def __len__(self) -> int:
        """Length of the dataset, as mmengine's ``InfiniteSampler``."""
        return len(self.weights)

    def set_epoch(self, epoch: int) -> None:
        """Not used in iteration-based training: the stream does not depend on epochs.

        Args:
            epoch (int): Epoch number.
        """

