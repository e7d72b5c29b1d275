"""Image-level inspection rates: what a production line decides per part, pass or reject.

An image is rejected when it has a detection whose score is above the score threshold
(``score > score_thr``; a score equal to the threshold passes). Per class set (``all``, and
``base`` and ``novel`` where the dataset names them), with an image's score the highest score
of its detections of the set's classes (0 without one):

- **escape rate**: the share of defective images (a ground-truth defect of the set, not
  ignored) that pass;
- **overkill rate**: the share of defect-free images (no ground-truth instance at all) that are
  rejected;
- **AUROC** of the image score, defective against defect-free (ties count one half:
  the Mann-Whitney U statistic over n_defective * n_good);
- the **threshold at the configured overkill rate** (the lowest threshold whose overkill rate
  is at most ``overkill_rate``: the ``floor(overkill_rate * n_good) + 1``-th highest
  defect-free score) and the escape rate there.

Images left out of a set: those whose defects are all of other classes (in ``base`` and
``novel``), and, from every set, those without a defect of the label space that are not
defect-free either: their only ground truth is ignored (an ignored instance or an
``__ignore__`` region) or outside the label space (a class the evaluation drops: the other
classes of a ``'base'`` or ``'fsod'`` evaluation; an object the reader left out: an
``on_error='skip'``, a labelme point or line, a COCO box mmdet does not read), counted in the
log. A defect-free image has no annotated object at all.
A rate without images to count is NaN (left out of means over seeds by
``tools/fewshot/run_seeds.py``, where a -1 would be averaged in).
"""
import math
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from scipy.stats import mannwhitneyu
from terminaltables import AsciiTable

from mmdet.registry import METRICS

#: value of a rate with no image to count
UNDEFINED = float('nan')


def image_level_rates(defective: Sequence[float], good: Sequence[float], score_thr: float,
                      overkill_rate: float) -> Dict[str, float]:
    """The inspection rates of image scores (see the module doc).

    Args:
        defective (Sequence[float]): Scores of the defective images.
        good (Sequence[float]): Scores of the defect-free images.
        score_thr (float): An image is rejected when its score is above it.
        overkill_rate (float): The overkill rate the returned threshold meets, in [0, 1].

    Returns:
        dict[str, float]: ``escape_rate``, ``overkill_rate``, ``auroc``,
        ``threshold_at_overkill`` and ``escape_at_overkill`` (NaN where undefined), and the
        counts ``defective_images`` and ``good_images``.
    """
    defective = np.asarray(defective, dtype=np.float64)
    good = np.asarray(good, dtype=np.float64)
    rates = dict(defective_images=float(len(defective)), good_images=float(len(good)),
                 escape_rate=_share(defective <= score_thr),
                 overkill_rate=_share(good > score_thr), auroc=UNDEFINED,
                 threshold_at_overkill=UNDEFINED, escape_at_overkill=UNDEFINED)
    if len(defective) and len(good):
        u_statistic = mannwhitneyu(defective, good, alternative='two-sided').statistic
        rates['auroc'] = float(u_statistic) / (len(defective) * len(good))
    if len(good):
        allowed = math.floor(overkill_rate * len(good) + 1e-9)  # rejections allowed
        ranked = np.sort(good)[::-1]
        threshold = float(ranked[allowed]) if allowed < len(ranked) else 0.0
        rates['threshold_at_overkill'] = threshold
        rates['escape_at_overkill'] = _share(defective <= threshold)
    return rates


def _share(flags: np.ndarray) -> float:
    """The share of true flags, or NaN without any flag."""
    return float(flags.mean()) if flags.size else UNDEFINED


@METRICS.register_module()
class InspectionMetric(BaseMetric):
    """Image-level escape and overkill rates, AUROC and the threshold at a configured overkill
    rate, per class set (see the module doc). Keys (prefix ``inspect``): ``escape_rate``,
    ``overkill_rate``, ``auroc``, ``threshold_at_overkill``, ``escape_at_overkill``,
    ``defective_images``, ``good_images``, for every class; the same with ``_base`` and
    ``_novel`` appended for the dataset's ``base_classes`` and ``novel_classes``.

    The ground truth is each data sample's ``instances`` and ``left_out_instances`` (the
    image's annotated objects that are in no instance, which the plugin's datasets record: add
    both to the ``meta_keys`` of ``PackDetInputs``, as ``'instances'`` is for
    ``FewShotCocoMetric``); the evaluation set must keep its defect-free images (mmdet's test
    sets do: ``filter_cfg`` applies to training).

    Args:
        score_thr (float): An image is rejected when a detection's score is above it.
            Defaults to 0.5.
        overkill_rate (float): The overkill rate of the reported threshold, in [0, 1].
            Defaults to 0.01 (1%).
        **kwargs: The arguments of mmengine's ``BaseMetric`` (``collect_device``,
            ``prefix``).

    Raises:
        ValueError: ``overkill_rate`` outside [0, 1].
    """
    default_prefix: Optional[str] = 'inspect'

    def __init__(self, score_thr: float = 0.5, overkill_rate: float = 0.01, **kwargs) -> None:
        super().__init__(**kwargs)
        if not 0.0 <= overkill_rate <= 1.0:
            raise ValueError(f'InspectionMetric: overkill_rate: expected a number in [0, 1], '
                             f'got {overkill_rate!r}')
        self.score_thr = score_thr
        self.overkill_rate = overkill_rate

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Keep, per image, its defect labels, whether it has ground truth that is ignored or
        outside the label space, and the highest detection score per label.

        Args:
            data_batch (dict): A batch from the dataloader (unused).
            data_samples (Sequence[dict]): Data samples with ``pred_instances`` and the
                ``instances`` and ``left_out_instances`` of their ``data_list`` entry.

        Raises:
            KeyError: A data sample without ``instances`` or ``left_out_instances`` (named by
                its image).
        """
        for sample in data_samples:
            for key in ('instances', 'left_out_instances'):
                if key not in sample:
                    source = sample.get('img_path', f"img_id {sample.get('img_id')}")
                    raise KeyError(f"{source}: {key}: missing from the data sample; add "
                                   f"'{key}' to the meta_keys of PackDetInputs in the "
                                   "evaluation pipeline (the plugin's datasets record "
                                   'left_out_instances)')
            ignored = [bool(inst.get('ignore_flag', 0)) or inst['bbox_label'] < 0
                       for inst in sample['instances']]
            labels = {inst['bbox_label'] for inst, skip in zip(sample['instances'], ignored)
                      if not skip}
            pred = sample['pred_instances']
            best: Dict[int, float] = {}
            for label, score in zip(pred['labels'].tolist(), pred['scores'].tolist()):
                best[label] = max(score, best.get(label, 0.0))
            self.results.append(dict(labels=labels, best=best, has_ignored=any(ignored)
                                     or sample['left_out_instances'] > 0))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """The rates of every class set.

        Args:
            results (list[dict]): What :meth:`process` kept for every image.

        Returns:
            dict[str, float]: The metrics, keyed without the ``inspect/`` prefix.
        """
        classes = list(self.dataset_meta['classes'])
        sets = [('', set(range(len(classes))))]
        for name in ('base', 'novel'):
            members = set(self.dataset_meta.get(f'{name}_classes') or ())
            if members:
                sets.append((f'_{name}', {classes.index(c) for c in members}))
        only_ignored = sum(1 for r in results if not r['labels'] and r['has_ignored'])
        good = [r for r in results if not r['labels'] and not r['has_ignored']]
        metrics: Dict[str, float] = {}
        rows = [['classes', 'defective', 'good', 'escape', 'overkill', 'AUROC',
                 f'thr @ {self.overkill_rate:.1%} overkill', 'escape there']]
        for suffix, labels in sets:
            defective = [_image_score(r, labels) for r in results if r['labels'] & labels]
            rates = image_level_rates(defective, [_image_score(r, labels) for r in good],
                                      self.score_thr, self.overkill_rate)
            metrics.update({f'{key}{suffix}': value for key, value in rates.items()})
            rows.append([suffix.strip('_') or 'all', len(defective), len(good)] + [
                _percent(rates[key]) for key in ('escape_rate', 'overkill_rate', 'auroc')] + [
                    _number(rates['threshold_at_overkill']),
                    _percent(rates['escape_at_overkill'])])
        MMLogger.get_current_instance().info(
            f'InspectionMetric: an image is rejected when a detection scores above '
            f'{self.score_thr}; {only_ignored} images left out (their only ground truth '
            'ignored or outside the label space)\n'
            + AsciiTable(rows).table)
        return metrics


def _image_score(result: dict, labels: set) -> float:
    """An image's score for a class set: its highest detection score of those classes."""
    return max((score for label, score in result['best'].items() if label in labels),
               default=0.0)


def _percent(value: float) -> str:
    return 'n/a' if math.isnan(value) else f'{100 * value:.1f}'


def _number(value: float) -> str:
    return 'n/a' if math.isnan(value) else f'{value:.3f}'
