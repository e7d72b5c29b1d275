"""RetentiveTFA: the base branch is the base detector (its detections, labels mapped by class
name); novel detections come from the fine-tuned detector; training leaves the base branch
untouched."""
import copy

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.structures import InstanceData

import mmfs_plugin  # noqa: F401
from mmfs_plugin.models import TFA

LIGHT_MODEL = 'configs/_base_/models/faster-rcnn_r18-light-fpn.py'
BASE, ALL = ('a', 'b'), ('a', 'b', 'novel')


def light(num_classes, **extra):
    """The light model (FasterRCNN) with ``num_classes``; every detection kept."""
    cfg = Config.fromfile(LIGHT_MODEL).model
    cfg.roi_head.bbox_head.num_classes = num_classes
    cfg.test_cfg.rcnn.score_thr = 0.0
    cfg.update(extra)
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


def retentive(base_cfg, classes=ALL):
    torch.manual_seed(1)
    return MODELS.build(light(len(classes), type='RetentiveTFA', frozen_parameters=[],
                              base_detector=base_cfg))


@pytest.fixture
def base():
    torch.manual_seed(0)
    cfg = light(len(BASE))
    return cfg, MODELS.build(cfg).eval()


def rows(instances):
    return sorted(zip(instances.labels.tolist(), instances.scores.tolist(),
                      map(tuple, instances.bboxes.tolist())))


def test_base_detections_are_the_base_detectors_and_novel_ones_the_fine_tuned(base):
    base_cfg, base_model = base
    model = retentive(base_cfg)
    model.load_base_detector(base_model.state_dict(), BASE, ALL)
    model.eval()
    inputs = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = base_model.predict(inputs, samples())
        got = model.predict(inputs, samples())
        finetuned = TFA.predict_detections(model, inputs, samples())  # the fine-tuned branch
    for want, have, ft in zip(expected, got, finetuned):
        have, want, ft = have.pred_instances, want.pred_instances, ft.pred_instances
        assert rows(have[have.labels < 2]) == rows(want)  # exactly the base detector's
        novel = have[have.labels == 2]
        assert torch.equal(novel.scores, ft.scores[ft.labels == 2].sort(descending=True).values)
        assert bool((have.scores[:-1] >= have.scores[1:]).all())
    assert model.retained().tolist() == [True, True, False]


def test_base_labels_follow_class_names_in_any_order(base):
    base_cfg, base_model = base
    classes = ('novel', 'b', 'a')
    model = retentive(base_cfg, classes)
    model.load_base_detector(base_model.state_dict(), BASE, classes)
    assert model.base_labels.tolist() == [2, 1]  # a -> 2, b -> 1
    model.eval()
    inputs = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        want = base_model.predict(inputs, samples(1))[0].pred_instances
        have = model.predict(inputs, samples(1))[0].pred_instances
    mapped = torch.tensor([2, 1])[want.labels]
    kept = have[have.labels != 0]  # label 0 is the novel class
    assert sorted(zip(kept.labels.tolist(), kept.scores.tolist())) == \
        sorted(zip(mapped.tolist(), want.scores.tolist()))


def test_training_trains_the_fine_tuned_detector_only(base):
    base_cfg, base_model = base
    model = retentive(base_cfg)
    model.load_base_detector(base_model.state_dict(), BASE, ALL)
    model.train()
    assert not model.base_detector.training
    before = copy.deepcopy(model.base_detector.state_dict())
    losses = model.loss(torch.randn(2, 3, 64, 64), samples())
    total = sum(v for k, v in losses.items() if 'loss' in k and isinstance(v, torch.Tensor))
    total.backward()
    assert all(p.grad is None for p in model.base_detector.parameters())
    assert any(p.grad is not None for p in model.backbone.parameters())
    assert all(torch.equal(v, before[k]) for k, v in model.base_detector.state_dict().items())
    assert 'base_labels' in model.state_dict()  # saved with the checkpoint


def test_without_retained_classes_it_predicts_as_tfa(base):
    base_cfg, base_model = base
    model = retentive(base_cfg, ('x', 'y', 'z'))
    inputs = torch.randn(1, 3, 64, 64)
    for loaded in (False, True):  # not loaded yet; loaded, but no base class in the space
        if loaded:
            model.load_base_detector(base_model.state_dict(), BASE, ('x', 'y', 'z'))
        model.eval()
        with torch.no_grad():
            got = model.predict(inputs, samples(1))[0].pred_instances
            plain = TFA.predict_detections(model, inputs, samples(1))[0].pred_instances
        assert torch.equal(got.scores, plain.scores)


def test_base_detector_from_a_config_file_and_mismatches_named(base, tmp_path):
    base_cfg, base_model = base
    config = tmp_path / 'base_training.py'
    config.write_text(f'model = {base_cfg.to_dict()!r}\n')
    model = retentive(str(config))
    model.load_base_detector(base_model.state_dict(), BASE, ALL)
    assert model.base_labels.tolist() == [0, 1]
    with pytest.raises(ValueError, match='3 classes, base_detector is built for 2'):
        model.load_base_detector(base_model.state_dict(), ALL, ALL)


def test_fine_tuned_detector_trains_as_tfa_with_the_same_seed(base):
    """Building the base branch draws nothing from torch's random stream."""
    base_cfg, _ = base
    torch.manual_seed(3)
    tfa = MODELS.build(light(3, type='TFA', frozen_parameters=[]))
    next_draw = torch.randn(4)
    torch.manual_seed(3)
    model = MODELS.build(light(3, type='RetentiveTFA', frozen_parameters=[],
                               base_detector=base_cfg))
    assert torch.equal(torch.randn(4), next_draw)
    tfa_state = tfa.state_dict()
    assert all(torch.equal(value, tfa_state[key]) for key, value in model.state_dict().items()
               if not key.startswith(('base_detector.', 'base_labels')))


def test_both_branches_predict_with_the_detectors_test_cfg(base):
    base_cfg, base_model = base
    base_cfg = base_cfg.copy()
    base_cfg.test_cfg = dict(base_cfg.test_cfg, rcnn=dict(base_cfg.test_cfg.rcnn, score_thr=0.9))
    model = retentive(base_cfg)
    assert model.base_detector.roi_head.test_cfg.score_thr == 0.0  # the detector's


def test_surgery_hook_names_a_base_branch_that_does_not_fit_the_checkpoint(base, tmp_path):
    from types import SimpleNamespace

    from mmengine.logging import MMLogger

    from mmfs_plugin.engine import FewShotSurgeryHook, SurgeryError
    base_cfg, base_model = base
    checkpoint = tmp_path / 'base.pth'
    torch.save(dict(state_dict=base_model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=list(BASE)))), checkpoint)
    other = light(len(BASE))
    other.roi_head.bbox_head.fc_out_channels = 128  # not the model of the checkpoint
    model = retentive(other)
    runner = SimpleNamespace(iter=0, model=model, seed=0, logger=MMLogger.get_current_instance(),
                             train_dataloader=SimpleNamespace(dataset=SimpleNamespace(
                                 metainfo=dict(classes=ALL, novel_classes=['novel']))))
    with pytest.raises(SurgeryError, match=r'base\.pth: model\.base_detector: the base training '
                       r'config it names does not build the model of this checkpoint'):
        FewShotSurgeryHook(str(checkpoint)).before_train(runner)


@pytest.mark.parametrize('share, parts, runs_once', [
    ('backbone', ('backbone', 'neck'), ('backbone',)),
    ('proposals', ('backbone', 'neck', 'rpn_head'), ('backbone', 'rpn_head',
                                                     'roi_head.bbox_roi_extractor'))])
def test_shared_parts_run_once_and_predict_as_two_detectors(base, share, parts, runs_once):
    base_cfg, base_model = base
    torch.manual_seed(1)
    with pytest.raises(ValueError, match=f"share='{share}' needs"):
        MODELS.build(light(3, type='RetentiveTFA', frozen_parameters=list(parts[:-1]),
                           share=share, base_detector=base_cfg))
    model = MODELS.build(light(3, type='RetentiveTFA', frozen_parameters=list(parts),
                               share=share, base_detector=base_cfg))
    with pytest.raises(ValueError, match='differ from the base checkpoint'):
        model.load_base_detector(base_model.state_dict(), BASE, ALL)
    # as the surgery hook does: the checkpoint into the model, then into the base branch
    shared = {k: v for k, v in base_model.state_dict().items() if k.startswith(parts)}
    model.load_state_dict(shared, strict=False)
    model.load_base_detector(base_model.state_dict(), BASE, ALL)
    model.eval()
    calls = []
    for name in runs_once:
        for detector in (model, model.base_detector):
            detector.get_submodule(name).register_forward_hook(
                lambda module, args, out, name=name: calls.append(name))
    inputs = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        got = model.predict(inputs, samples())
        assert calls == list(runs_once)  # once for both branches
        model.share = None
        expected = model.predict(inputs, samples())  # two whole detectors
    assert any(len(sample.pred_instances) for sample in got)
    for have, want in zip(got, expected):
        assert rows(have.pred_instances) == rows(want.pred_instances)


def test_shared_proposals_need_one_roi_extractor(base):
    base_cfg, _ = base
    other = copy.deepcopy(base_cfg)
    other.roi_head.bbox_roi_extractor.roi_layer.output_size = 5
    with pytest.raises(ValueError, match='RoI extractors differ'):
        MODELS.build(light(3, type='RetentiveTFA', share='proposals', base_detector=other,
                           frozen_parameters=['backbone', 'neck', 'rpn_head']))
    with pytest.raises(ValueError, match="share must be one of"):
        MODELS.build(light(3, type='RetentiveTFA', share='rpn', base_detector=base_cfg))
    decoupled = light(3, type='RetentiveTFA', share='proposals', base_detector=base_cfg,
                      frozen_parameters=['backbone', 'neck', 'rpn_head'])
    decoupled.roi_head.type = 'DecoupledStandardRoIHead'  # its layer would be skipped
    with pytest.raises(ValueError, match='own box forward'):
        MODELS.build(decoupled)
