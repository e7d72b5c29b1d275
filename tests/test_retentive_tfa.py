"""RetentiveTFA: the base branch reproduces the base detector (to float32 rounding); novel detections come
from the fine-tuned detector; training leaves the base branch untouched."""
import copy

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.structures import InstanceData

import mmfs_plugin  # noqa: F401
from mmfs_plugin.engine.surgery import SurgerySource, surgery

BASE, ALL = ('a', 'b'), ('a', 'b', 'novel')


def light(num_classes, **extra):
    cfg = Config.fromfile('configs/demo/demo_5shot.py').model
    cfg.roi_head.bbox_head.num_classes = num_classes
    cfg.test_cfg.rcnn.score_thr = 0.0  # every detection, to compare them all
    cfg.update(extra)
    if cfg.type == 'FasterRCNN':  # the demo's recipe model (RetentiveTFA) made mmdet's own
        cfg.pop('frozen_parameters')
        cfg.pop('base_bbox_head')
        cfg.roi_head.bbox_head.pop('scale')
    return cfg


def samples(n=2):
    out = []
    for _ in range(n):
        sample = DetDataSample(metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64),
                                             pad_shape=(64, 64), batch_input_shape=(64, 64),
                                             scale_factor=(1.0, 1.0)))
        sample.gt_instances = InstanceData(bboxes=torch.tensor([[8.0, 8.0, 40.0, 36.0]]),
                                           labels=torch.tensor([2]))
        out.append(sample)
    return out


def retentive_from(base):
    """A RetentiveTFA whose base branch is ``base`` (classes a, b) by surgery."""
    torch.manual_seed(1)
    model = MODELS.build(light(3, type='RetentiveTFA', frozen_parameters=[],
                               base_bbox_head=dict(type='Shared2FCBBoxHead', scale=None)))
    head = model.base_detector.roi_head.bbox_head
    state = surgery([SurgerySource(base.state_dict(), BASE, 'base.pth')], ALL, 'randinit',
                    novel_classes=['novel'], reg_class_agnostic=head.reg_class_agnostic)
    model.load_base_detector({k: state[k] for k in model.base_detector.state_dict()},
                             [True, True, False])
    return model.eval()


def rows(instances):
    """Detections as ``[label, score, x1, y1, x2, y2]`` rows, sorted by label, then by box
    and score rounded to 0.01 (float32 noise does not reorder them)."""
    table = [[label, score] + box for label, score, box in zip(
        instances.labels.tolist(), instances.scores.tolist(), instances.bboxes.tolist())]
    return sorted(table, key=lambda row: [row[0]] + [round(v, 2) for v in row[2:] + row[1:2]])


def test_base_detections_are_the_base_detectors_and_novel_ones_the_fine_tuned():
    torch.manual_seed(0)
    base = MODELS.build(light(2, type='FasterRCNN', roi_head=dict(
        bbox_head=dict(type='Shared2FCBBoxHead')))).eval()
    model = retentive_from(base)
    inputs = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = base.predict(inputs, samples())
        got = model.predict(inputs, samples())
        finetuned = super(type(model), model).predict(inputs, samples())
    for want, have, ft in zip(expected, got, finetuned):
        have, want, ft = have.pred_instances, want.pred_instances, ft.pred_instances
        # the same detections: labels exact; boxes and scores to float32 rounding (the
        # softmax runs over one more, masked, logit); rows in one order, as equal scores tie
        mine, theirs = rows(have[have.labels < 2]), rows(want)
        assert [r[0] for r in mine] == [r[0] for r in theirs]
        assert torch.allclose(torch.tensor([r[1:] for r in mine]),
                              torch.tensor([r[1:] for r in theirs]), rtol=1e-5, atol=1e-5)
        novel = have[have.labels == 2]
        assert torch.equal(novel.scores, ft.scores[ft.labels == 2].sort(descending=True).values)
        assert bool((have.scores[:-1] >= have.scores[1:]).all())


def test_training_trains_the_fine_tuned_detector_only():
    torch.manual_seed(0)
    base = MODELS.build(light(2, type='FasterRCNN', roi_head=dict(
        bbox_head=dict(type='Shared2FCBBoxHead'))))
    model = retentive_from(base).train()
    assert not model.base_detector.training
    before = copy.deepcopy(model.base_detector.state_dict())
    losses = model.loss(torch.randn(2, 3, 64, 64), samples())
    total = sum(v for k, v in losses.items() if 'loss' in k and isinstance(v, torch.Tensor))
    total.backward()
    assert all(p.grad is None for p in model.base_detector.parameters())
    assert any(p.grad is not None for p in model.backbone.parameters())
    assert all(torch.equal(v, before[k]) for k, v in model.base_detector.state_dict().items())
    assert model.retained.tolist() == [True, True, False]
    assert 'retained' in model.state_dict()  # saved with the checkpoint


def test_without_retained_classes_it_predicts_as_tfa():
    torch.manual_seed(0)
    model = MODELS.build(light(3, type='RetentiveTFA', frozen_parameters=[],
                               base_bbox_head=dict(type='Shared2FCBBoxHead', scale=None))).eval()
    inputs = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        got = model.predict(inputs, samples(1))[0].pred_instances
        plain = super(type(model), model).predict(inputs, samples(1))[0].pred_instances
    assert torch.equal(got.scores, plain.scores)
