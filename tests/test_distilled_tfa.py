"""DistilledTFA: one detector at test time; in training the base detector's retained classes
are distilled into it (zero where the student already agrees with the teacher on them, the
novel classes left free), the base branch untouched."""
import copy
import math

import pytest
import torch
from mmdet.registry import MODELS

import mmfs_plugin  # noqa: F401
from mmfs_plugin.models import TFA
from mmfs_plugin.models.distilled_tfa import (box_distillation, class_distillation,
                                              objectness_distillation)
from .test_retentive_tfa import ALL, BASE, light, samples

DISTILL = ('loss_distill_cls', 'loss_distill_bbox', 'loss_distill_rpn')


def distilled(base_cfg, classes=ALL, **extra):
    torch.manual_seed(1)
    return MODELS.build(light(len(classes), type='DistilledTFA', frozen_parameters=[],
                              base_detector=base_cfg, **extra))


@pytest.fixture
def base():
    torch.manual_seed(0)
    cfg = light(len(BASE))
    return cfg, MODELS.build(cfg).eval()


def as_teacher(model, base_model, classes=ALL):
    """The student given the teacher's weights: the same network, its classifier and box
    regressor rows copied by class name, the other classes' rows left as they were."""
    theirs = base_model.state_dict()
    own = model.state_dict()
    for key, value in theirs.items():
        if key in own and own[key].shape == value.shape:
            own[key] = value.clone()
    for name in ('fc_cls', 'fc_reg'):
        prefix = f'roi_head.bbox_head.{name}.'
        per_row = 1 if name == 'fc_cls' else 4
        for param in ('weight', 'bias'):
            ours, src = own[prefix + param], theirs[prefix + param]
            for i, cls in enumerate(BASE):
                j = classes.index(cls)
                ours[j * per_row:(j + 1) * per_row] = src[i * per_row:(i + 1) * per_row]
            if name == 'fc_cls':  # the background row is the last
                ours[-1] = src[-1]
    model.load_state_dict(own)


def total(losses):
    return sum(v for k, v in losses.items() if 'loss' in k and isinstance(v, torch.Tensor))


def test_the_test_pass_runs_the_fine_tuned_detector_alone(base):
    base_cfg, base_model = base
    model = distilled(base_cfg)
    model.load_base_detector(base_model.state_dict(), BASE, ALL)
    model.eval()
    calls = []
    model.base_detector.register_forward_pre_hook(lambda *args: calls.append(1))
    model.base_detector.backbone.register_forward_pre_hook(lambda *args: calls.append(1))
    inputs = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        got = model.predict(inputs, samples())
        plain = TFA.predict_detections(model, inputs, samples())
    assert not calls
    for have, want in zip(got, plain):
        assert torch.equal(have.pred_instances.scores, want.pred_instances.scores)
        assert torch.equal(have.pred_instances.labels, want.pred_instances.labels)


def test_no_distillation_where_the_student_is_the_teacher_on_the_retained_classes(base):
    base_cfg, base_model = base
    classes = ('novel', 'b', 'a')  # the label order differs from the teacher's
    model = distilled(base_cfg, classes)
    model.load_base_detector(base_model.state_dict(), BASE, classes)
    as_teacher(model, base_model, classes)
    model.train()
    losses = model.loss(torch.randn(2, 3, 64, 64), samples())
    assert set(DISTILL) <= set(losses)
    for name in DISTILL:
        assert float(losses[name]) == pytest.approx(0.0, abs=1e-5), name
    # the novel class's score is free: the distillation renormalises it away
    with torch.no_grad():
        model.roi_head.bbox_head.fc_cls.weight[0].normal_()
        model.roi_head.bbox_head.fc_cls.bias[0] = 3.0
    losses = model.loss(torch.randn(2, 3, 64, 64), samples())
    assert float(losses['loss_distill_cls']) == pytest.approx(0.0, abs=1e-5)
    # a retained class's row is not
    with torch.no_grad():
        model.roi_head.bbox_head.fc_cls.bias[2] += 2.0  # 'a'
    losses = model.loss(torch.randn(2, 3, 64, 64), samples())
    assert float(losses['loss_distill_cls']) > 1e-3


def test_distillation_trains_the_student_only_and_its_weights_scale_the_terms(base):
    base_cfg, base_model = base
    model = distilled(base_cfg, distill_cls=2.0, distill_bbox=0.0)
    model.load_base_detector(base_model.state_dict(), BASE, ALL)
    model.train()
    assert not model.base_detector.training
    before = copy.deepcopy(model.base_detector.state_dict())
    inputs = torch.randn(2, 3, 64, 64)
    torch.manual_seed(5)
    losses = model.loss(inputs, samples())
    unweighted = distilled(base_cfg)
    unweighted.load_state_dict(model.state_dict())
    unweighted.train()
    torch.manual_seed(5)
    reference = unweighted.loss(inputs, samples())
    assert float(losses['loss_distill_cls']) == pytest.approx(
        2.0 * float(reference['loss_distill_cls']), rel=1e-5)
    assert float(losses['loss_distill_bbox']) == 0.0
    total(losses).backward()
    assert all(p.grad is None for p in model.base_detector.parameters())
    assert model.backbone.conv1.weight.grad is not None
    assert all(torch.equal(v, before[k]) for k, v in model.base_detector.state_dict().items())


def test_without_retained_classes_it_trains_and_predicts_as_tfa(base):
    base_cfg, base_model = base
    model = distilled(base_cfg, ('x', 'y', 'z'))
    model.train()
    assert not set(DISTILL) & set(model.loss(torch.randn(1, 3, 64, 64), samples(1)))
    model.load_base_detector(base_model.state_dict(), BASE, ('x', 'y', 'z'))
    assert not set(DISTILL) & set(model.loss(torch.randn(1, 3, 64, 64), samples(1)))


def test_novel_classes_of_the_split_are_not_distilled(base):
    base_cfg, base_model = base
    model = distilled(base_cfg)
    model.load_base_detector(base_model.state_dict(), BASE, ALL, novel_classes=('b',))
    as_teacher(model, base_model)
    with torch.no_grad():  # 'b' differs from the teacher's; it is novel here
        model.roi_head.bbox_head.fc_cls.bias[1] += 2.0
        model.roi_head.bbox_head.fc_reg.bias[4:8] += 1.0
    model.train()
    losses = model.loss(torch.randn(2, 3, 64, 64), samples())
    assert float(losses['loss_distill_cls']) == pytest.approx(0.0, abs=1e-5)
    assert float(losses['loss_distill_bbox']) == pytest.approx(0.0, abs=1e-5)


def test_bad_arguments_are_named(base):
    base_cfg, _ = base
    with pytest.raises(ValueError, match='share'):
        distilled(base_cfg, share='backbone')
    assert distilled(base_cfg, share=None).share is None  # nothing shared, as said
    with pytest.raises(ValueError, match='negative'):
        distilled(base_cfg, distill_rpn=-1.0)
    with pytest.raises(ValueError, match='temperature'):
        distilled(base_cfg, temperature=0.0)


def test_class_distillation_is_the_kl_divergence_at_the_temperature():
    student = torch.tensor([[0.0, 0.0], [1.0, -1.0]])
    teacher = torch.tensor([[math.log(3.0), 0.0], [1.0, -1.0]])
    # row 0: KL((3/4, 1/4) || (1/2, 1/2)); row 1: identical distributions
    want = (0.75 * math.log(1.5) + 0.25 * math.log(0.5)) / 2
    assert float(class_distillation(student, teacher, 1.0)) == pytest.approx(want)
    # at temperature 2 the logits are halved and the divergence multiplied by 4
    halved = (torch.tensor([0.75, 0.25]).sqrt() / torch.tensor([0.75, 0.25]).sqrt().sum())
    want2 = 4 * float((halved * (halved / 0.5).log()).sum()) / 2
    assert float(class_distillation(student, teacher, 2.0)) == pytest.approx(want2, rel=1e-5)
    assert float(class_distillation(student[:0], teacher[:0], 1.0)) == 0.0


def test_box_distillation_weights_squared_errors_by_class():
    deltas = torch.zeros(2, 2, 4)
    teacher = torch.zeros(2, 2, 4)
    teacher[0, 0] = torch.tensor([1.0, 0.0, 0.0, 2.0])  # squared error 5
    teacher[1, 1] = torch.tensor([0.0, 3.0, 0.0, 0.0])  # squared error 9
    weights = torch.tensor([[0.5, 1.0], [1.0, 0.1]])
    assert float(box_distillation(deltas, teacher, weights)) == pytest.approx((2.5 + 0.9) / 2)


def test_objectness_distillation_pulls_up_never_down():
    logit = math.log(0.9 / 0.1)  # the teacher's probability 0.9
    teacher = [torch.tensor([logit, -5.0, logit]).view(1, 3, 1, 1)]
    # anchor 0: the student at 0.5, short by 0.4; anchor 1: the teacher sees no object;
    # anchor 2: the student above the teacher (no loss)
    student = [torch.tensor([0.0, 5.0, 5.0]).view(1, 3, 1, 1)]
    assert float(objectness_distillation(student, teacher)) == pytest.approx(0.4 ** 2 / 2)
    nothing = [torch.full((1, 3, 1, 1), -5.0)]
    assert float(objectness_distillation(student, nothing)) == 0.0
    with pytest.raises(ValueError, match='same anchors'):
        objectness_distillation([torch.zeros(1, 2, 1, 1)], teacher)
    # above a threshold of 0.95 the teacher sees nothing here
    assert float(objectness_distillation(student, teacher, 0.95)) == 0.0


def test_the_box_heads_are_distilled_through_the_roi_heads_own_forward(base):
    """A gradient-decoupled RoI head (DeFRCN) applies its layer on the distillation's path
    too: with the layer at identity the student equals the teacher, with it scaled it does
    not."""
    base_cfg, base_model = base
    torch.manual_seed(1)
    cfg = light(len(ALL), type='DistilledTFA', frozen_parameters=[], base_detector=base_cfg)
    cfg.roi_head.type = 'DecoupledStandardRoIHead'
    model = MODELS.build(cfg)
    model.load_base_detector(base_model.state_dict(), BASE, ALL)
    as_teacher(model, base_model)
    model.train()
    inputs = torch.randn(2, 3, 64, 64)
    assert float(model.loss(inputs, samples())['loss_distill_cls']) == pytest.approx(0, abs=1e-5)
    with torch.no_grad():
        model.roi_head.decouple.weight.mul_(1.5)
    assert float(model.loss(inputs, samples())['loss_distill_cls']) > 1e-4


def test_other_anchors_than_the_base_detectors_are_refused(base):
    base_cfg, _ = base
    cfg = light(len(ALL), type='DistilledTFA', frozen_parameters=[], base_detector=base_cfg)
    cfg.rpn_head.anchor_generator.scales = [8]  # the same number of anchors, other sizes
    with pytest.raises(ValueError, match='anchor_generator differs'):
        MODELS.build(cfg)


def test_a_batch_without_an_object_for_the_base_rpn_is_warned_about_once(base, monkeypatch):
    base_cfg, base_model = base
    warnings = []
    monkeypatch.setattr('mmfs_plugin.models.distilled_tfa.print_log',
                        lambda message, **kwargs: warnings.append(message))
    model = distilled(base_cfg, rpn_threshold=0.999)  # above any objectness here
    model.load_base_detector(base_model.state_dict(), BASE, ALL)
    model.train()
    for _ in range(2):
        assert float(model.loss(torch.randn(1, 3, 64, 64), samples(1))['loss_distill_rpn']) == 0
    assert len(warnings) == 1 and 'rpn_threshold=0.999' in warnings[0]


def test_the_calibration_takes_the_fine_tuned_detectors_features(base):
    """DistilledTFA's base branch is a teacher: a calibration's features come from the
    fine-tuned detector, so the test pass runs one detector (RetentiveTFA's come from its
    base branch)."""
    from mmfs_plugin.models import DetectorRoIFeatures
    base_cfg, base_model = base
    model = distilled(base_cfg)
    model.load_base_detector(base_model.state_dict(), BASE, ALL)
    model.eval()
    calls = []
    model.base_detector.backbone.register_forward_pre_hook(lambda *args: calls.append(1))
    boxes = [torch.tensor([[4.0, 4.0, 30.0, 30.0]])]
    with torch.no_grad():
        DetectorRoIFeatures()(model, torch.randn(1, 3, 64, 64), boxes)
    assert not calls


@pytest.mark.parametrize('extra, message', [
    (dict(distill_rois=0), 'distill_rois'), (dict(rpn_threshold=1.0), 'rpn_threshold')])
def test_bad_numbers_of_rois_and_thresholds_are_named(base, extra, message):
    with pytest.raises(ValueError, match=message):
        distilled(base[0], **extra)
