"""Classification accuracy on ground-truth boxes, per product category (the MVREC protocol)."""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from terminaltables import AsciiTable

from mmdet.registry import METRICS
from mmfs_data.fewshot.classes import class_category

#: The group of the class names without a ``/``.
UNGROUPED = 'ungrouped'
#: The class subsets with their own accuracy; their names are reserved (key collision).
SUBSETS = ('base', 'novel')


@METRICS.register_module()
class GTBoxAccuracy(BaseMetric):
    """Top-1 accuracy of the detector's classification of each ground-truth box.

    Consumes ``gt_box_labels`` and ``gt_box_scores`` attached to the data samples by
    ``GTBoxScoringHook`` (in ``custom_hooks``). Each box's prediction is the argmax of its class
    scores restricted to the classes of its ground-truth class's category (class names
    ``<category>/<defect>``; the names without ``/`` form one group, ``ungrouped``).
    Returned keys (prefix ``fs``), fractions in [0, 1]:

    - ``fs/acc_<category>``: accuracy over the category's boxes;
    - ``fs/acc``: mean of the per-category accuracies (categories with boxes only);
    - ``fs/acc_base``, ``fs/acc_novel``: accuracy over the boxes of the base (novel) classes,
      ``dataset_meta['base_classes']`` (``['novel_classes']``); absent when there are none.

    Args:
        collect_device (str): Device used to collect results across ranks, ``'cpu'`` or
            ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to None (``'fs'``).
    """
    default_prefix: Optional[str] = 'fs'

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Keep the ground-truth labels and class scores of a batch.

        Args:
            data_batch (dict): A batch from the dataloader (unused).
            data_samples (Sequence[dict]): Data samples with ``gt_box_labels`` and
                ``gt_box_scores``.
        """
        for data_sample in data_samples:
            for key in ('gt_box_labels', 'gt_box_scores'):
                if key not in data_sample:
                    source = data_sample.get('img_path', f"img_id {data_sample.get('img_id')}")
                    raise KeyError(f'{source}: {key}: missing from the data sample; add '
                                   "dict(type='GTBoxScoringHook') to custom_hooks")
            self.results.append((data_sample['gt_box_labels'].cpu().numpy(),
                                 data_sample['gt_box_scores'].cpu().numpy()))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Compute the accuracies from the collected results.

        Args:
            results (list): ``(labels, scores)`` pairs of every evaluated image.

        Returns:
            dict[str, float]: The metrics, keyed without the ``fs/`` prefix.
        """
        classes = list(self.dataset_meta['classes'])
        categories = [class_category(name) or UNGROUPED for name in classes]
        reserved = sorted(set(categories) & set(SUBSETS))
        if reserved:
            raise ValueError(f"GTBoxAccuracy: dataset_meta['classes']: categories {reserved} "
                             'collide with the acc_base/acc_novel keys')
        num_classes = len(classes)
        labels = np.concatenate([labels for labels, _ in results]).astype(np.int64)
        scores = np.concatenate([scores.reshape(-1, num_classes) for _, scores in results])
        correct = restricted_top1(labels, scores, categories) == labels

        per_category: Dict[str, Tuple[int, float]] = {}  # category -> (boxes, accuracy)
        box_categories = np.array(categories, dtype=object)[labels]
        for category in dict.fromkeys(categories):
            hits = correct[box_categories == category]
            if hits.size:
                per_category[category] = (hits.size, float(hits.mean()))
        eval_results = {f'acc_{category}': accuracy
                        for category, (_, accuracy) in per_category.items()}
        if per_category:
            eval_results['acc'] = float(np.mean([acc for _, acc in per_category.values()]))
        for subset in SUBSETS:
            field = f'{subset}_classes'
            names = self.dataset_meta.get(field) or ()
            unknown = [name for name in names if name not in classes]
            if unknown:
                raise ValueError(f"GTBoxAccuracy: dataset_meta['{field}']: classes {unknown} "
                                 "are not in dataset_meta['classes']")
            hits = correct[np.isin(labels, [classes.index(name) for name in names])]
            if hits.size:
                eval_results[f'acc_{subset}'] = float(hits.mean())
        rows = [['category', 'boxes', 'acc']] + [
            [category, str(boxes), f'{accuracy:.4f}']
            for category, (boxes, accuracy) in per_category.items()]
        MMLogger.get_current_instance().info(
            'Classification accuracy on ground-truth boxes (argmax within the category):\n' +
            AsciiTable(rows).table)
        return eval_results


def restricted_top1(labels: np.ndarray, scores: np.ndarray,
                    categories: Sequence[str]) -> np.ndarray:
    """Top-1 class of each box among the classes of its ground-truth class's category.

    Args:
        labels (np.ndarray): Shape (n,), the ground-truth class of each box.
        scores (np.ndarray): Shape (n, num_classes), the class scores of each box.
        categories (Sequence[str]): The category of each class.

    Returns:
        np.ndarray: Shape (n,), the predicted class of each box.
    """
    category_of = np.array(categories, dtype=object)
    same_category = category_of[:, None] == category_of[None, :]  # (class, class)
    restricted = np.where(same_category[labels], scores, -np.inf)
    return restricted.argmax(axis=1)
