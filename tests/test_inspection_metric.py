"""InspectionMetric: image-level escape and overkill rates, AUROC and the threshold at an overkill
rate, per class set, equal to a hand computation on a small case (defect-free images, ties at
the threshold, images whose only ground truth is ignored or outside the label space)."""
import math

import pytest
import torch

from mmfs_plugin.evaluation import InspectionMetric
from mmfs_plugin.evaluation.inspection_metric import image_level_rates

A, B, C = 0, 1, 2  # classes a, b (base) and c (novel)


def sample(instances, predictions, name, left_out=0):
    """A data sample as mmengine's Evaluator hands it over (a dict); ``left_out``: the image's
    annotated objects in no instance (a class outside the label space, a skipped object)."""
    labels = [label for label, _ in predictions]
    scores = [score for _, score in predictions]
    return dict(img_path=name, instances=[dict(bbox=[0, 0, 4, 4], bbox_label=label,
                                               ignore_flag=ignore)
                                          for label, ignore in instances],
                left_out_instances=left_out,
                pred_instances=dict(labels=torch.tensor(labels, dtype=torch.long),
                                    scores=torch.tensor(scores)))


SAMPLES = [
    sample([(A, 0)], [(A, 0.9)], 'defect a'),
    sample([(C, 0)], [(C, 0.5), (A, 0.3)], 'defect c, scored at the threshold'),
    sample([(A, 0), (C, 0), (B, 1)], [(C, 0.7)], 'defects a and c, an ignored b'),
    sample([], [(A, 0.6)], 'good, a false a'),
    sample([], [], 'good, no detection'),
    sample([], [(C, 0.5)], 'good, a false c at the threshold'),
    sample([(A, 1)], [(A, 0.95)], 'only an ignored a: left out'),
    sample([(-1, 0)], [(C, 0.99)], 'only an __ignore__ region: left out'),
    sample([], [(B, 0.2)], 'good, a false b'),
    sample([], [(A, 0.8)], 'only a defect of a class outside the label space: left out', 1),
    sample([], [], 'only a skipped object: left out', 2),
]


def test_the_rates_equal_the_hand_computation():
    metric = InspectionMetric(score_thr=0.5, overkill_rate=0.25)
    metric.dataset_meta = dict(classes=('a', 'b', 'c'), base_classes=('a', 'b'),
                               novel_classes=('c', ))
    metric.process({}, SAMPLES)
    got = metric.evaluate(len(SAMPLES))
    # every class: defective scores 0.9, 0.5, 0.7; defect-free 0.6, 0, 0.5, 0.2.
    # A score equal to the threshold passes: 0.5 escapes, the good 0.5 is not overkill.
    # AUROC: 0.9 beats all 4; 0.5 beats 0 and 0.2 and ties 0.5; 0.7 beats all 4: 10.5 / 12.
    # 25% overkill allows floor(0.25 * 4) = 1 rejection: the threshold is the 2nd highest
    # defect-free score, 0.5; the defective images at or below it: 0.5.
    assert got == pytest.approx({
        'inspect/escape_rate': 1 / 3, 'inspect/overkill_rate': 1 / 4, 'inspect/auroc': 10.5 / 12,
        'inspect/threshold_at_overkill': 0.5, 'inspect/escape_at_overkill': 1 / 3,
        'inspect/defective_images': 3, 'inspect/good_images': 4,
        # base (a, b): defective 0.9 and 0 (image 3 has no base detection); defect-free 0.6,
        # 0, 0 (its c does not count), 0.2. AUROC: 4 + 2 ties / 2 = 5 / 8; threshold 0.2.
        'inspect/escape_rate_base': 1 / 2, 'inspect/overkill_rate_base': 1 / 4,
        'inspect/auroc_base': 5 / 8, 'inspect/threshold_at_overkill_base': 0.2,
        'inspect/escape_at_overkill_base': 1 / 2, 'inspect/defective_images_base': 2,
        'inspect/good_images_base': 4,
        # novel (c): defective 0.5, 0.7; defect-free 0, 0, 0.5, 0. AUROC: (3.5 + 4) / 8;
        # threshold: the 2nd highest defect-free score, 0: no defective image at or below it.
        'inspect/escape_rate_novel': 1 / 2, 'inspect/overkill_rate_novel': 0.0,
        'inspect/auroc_novel': 7.5 / 8, 'inspect/threshold_at_overkill_novel': 0.0,
        'inspect/escape_at_overkill_novel': 0.0, 'inspect/defective_images_novel': 2,
        'inspect/good_images_novel': 4,
    })


def test_undefined_rates_are_nan_and_a_zero_overkill_threshold_is_the_top_score():
    rates = image_level_rates([0.8, 0.3], [], score_thr=0.5, overkill_rate=0.01)
    assert rates['escape_rate'] == 0.5
    assert all(math.isnan(rates[key]) for key in ('overkill_rate', 'auroc',
                                                  'threshold_at_overkill'))
    # 1% of 3 images allows no rejection: the threshold is the highest defect-free score
    rates = image_level_rates([0.8, 0.3], [0.4, 0.1, 0.0], score_thr=0.5, overkill_rate=0.01)
    assert (rates['threshold_at_overkill'], rates['escape_at_overkill']) == (0.4, 0.5)
    with pytest.raises(ValueError, match='overkill_rate'):
        InspectionMetric(overkill_rate=5)


def test_a_sample_without_instances_is_named():
    metric = InspectionMetric()
    with pytest.raises(KeyError, match='img.png: instances'):
        metric.process({}, [dict(img_path='img.png', pred_instances={})])
    with pytest.raises(KeyError, match="img.png: left_out_instances: .*'left_out_instances'"):
        metric.process({}, [dict(img_path='img.png', instances=[], pred_instances={})])
