"""DeFRCN's parts: the gradient-decoupled layer in front of the RPN and the RoI head (each its own
gradient factor into the backbone), and the prototypical calibration of test scores (by hand on
small cases; its features from the detector or from an image classifier; end to end: a
DeFRCN model trains on a k-shot set, and its prototypes are built from that set before testing)."""
import copy
import math
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import RUNNERS
from mmengine.structures import InstanceData

from mmdet.models.dense_heads import RPNHead
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import bbox2roi
from mmfs_plugin.models import (ClassifierRoIFeatures, DecoupledRPNHead,
                                DecoupledStandardRoIHead, GradientDecoupledLayer,
                                PrototypicalCalibration)
from mmfs_plugin.engine.prototype_hook import _leaf_pipeline
from mmfs_plugin.models.prototypical_calibration import _imagenet_normalised

from .tiny_coco import ANN_FILE, CLASSES, IMAGE_FOLDER, make_tiny_coco

RPN = dict(in_channels=8, feat_channels=8,
           anchor_generator=dict(type='AnchorGenerator', scales=[4], ratios=[1.0],
                                 strides=[4, 8]),
           bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4,
                           target_stds=[1.0] * 4))
ROI = dict(bbox_roi_extractor=dict(type='SingleRoIExtractor',
                                   roi_layer=dict(type='RoIAlign', output_size=7,
                                                  sampling_ratio=0),
                                   out_channels=8, featmap_strides=[4, 8]),
           bbox_head=dict(type='Shared2FCBBoxHead', in_channels=8, fc_out_channels=16,
                          roi_feat_size=7, num_classes=3,
                          bbox_coder=dict(type='DeltaXYWHBBoxCoder',
                                          target_means=[0.0] * 4,
                                          target_stds=[0.1, 0.1, 0.2, 0.2])))


def _features(seed: int = 0) -> tuple:
    generator = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(2, 8, size, size, generator=generator, requires_grad=True)
                 for size in (16, 8))


def _grads(head: torch.nn.Module, *args) -> list:
    features = _features()
    outputs = head(features, *args)
    total = sum(tensor.sum() for part in outputs for tensor in
                (part if isinstance(part, (list, tuple)) else [part]))
    total.backward()
    return [level.grad for level in features]


def test_the_layer_is_the_identity_at_start_and_scales_the_gradient():
    layer = GradientDecoupledLayer(8, backward_scale=0.25)
    features = _features()
    out = layer(features)
    assert all(torch.equal(a, b) for a, b in zip(out, features))
    sum(level.sum() * 3.0 for level in out).backward()
    assert all(torch.allclose(level.grad, torch.full_like(level, 0.75)) for level in features)
    # the affine parameters learn: d/dweight of sum(3 * x * w + b) = 3 * sum(x) per channel
    expected = sum(3.0 * level.detach().sum(dim=(0, 2, 3)) for level in features)
    assert torch.allclose(layer.weight.grad.flatten(), expected, atol=1e-4)
    assert torch.allclose(layer.bias.grad.flatten(), torch.full((8,), 3.0 * (2 * 256 + 2 * 64)))
    with pytest.raises(ValueError, match='backward_scale'):
        GradientDecoupledLayer(8, backward_scale=1.5)


@pytest.mark.parametrize('scale', [0.0, 0.01, 1.0])
def test_the_rpn_passes_its_scaled_gradient_into_the_features(scale):
    torch.manual_seed(0)
    plain = RPNHead(**RPN)
    decoupled = DecoupledRPNHead(backward_scale=scale, **RPN)
    # a plain head's weights load into the decoupled head (the layer starts as the identity)
    missing = decoupled.load_state_dict(plain.state_dict(), strict=False).missing_keys
    assert sorted(missing) == ['decouple.bias', 'decouple.weight']
    for mine, theirs in zip(_grads(decoupled), _grads(plain)):
        assert torch.allclose(mine, scale * theirs, atol=1e-7)


def test_the_roi_head_passes_its_scaled_gradient_into_the_features():
    torch.manual_seed(0)
    plain = StandardRoIHead(**ROI)
    decoupled = DecoupledStandardRoIHead(backward_scale=0.75, **ROI)
    decoupled.load_state_dict(plain.state_dict(), strict=False)
    proposals = [InstanceData(bboxes=torch.tensor([[4.0, 4.0, 40.0, 36.0],
                                                   [10.0, 2.0, 30.0, 60.0]]))] * 2
    for mine, theirs in zip(_grads(decoupled, proposals), _grads(plain, proposals)):
        assert torch.allclose(mine, 0.75 * theirs, atol=1e-7)
    assert decoupled.decouple.weight.shape == (1, 8, 1, 1)  # the RoI extractor's channels


@MODELS.register_module(force=True)
class BoxCornersAsFeatures:
    """Test extractor: a box's feature is its (x1, y1, x2, y2) in input pixels."""

    def __call__(self, detector, batch_inputs, boxes):
        assert sum(map(len, boxes)) > 0, 'called without boxes'  # mmcv's CUDA RoIAlign fails
        return torch.cat(list(boxes))


def _sample(bboxes, scores, labels, scale_factor=(1.0, 1.0)) -> DetDataSample:
    sample = DetDataSample(metainfo=dict(scale_factor=scale_factor))
    sample.pred_instances = InstanceData(
        bboxes=torch.as_tensor(bboxes, dtype=torch.float32).reshape(-1, 4),
        scores=torch.tensor(scores, dtype=torch.float32),
        labels=torch.tensor(labels, dtype=torch.long))
    return sample


def test_calibration_equals_the_hand_computation():
    pcb = PrototypicalCalibration(extractor=dict(type='BoxCornersAsFeatures'), alpha=0.5)
    classes, novel = ('base', 'novel_a', 'novel_b'), ('novel_a', 'novel_b')
    shots = torch.tensor([[1.0, 0.0, 0.0, 0.0],   # novel_a: prototype (1, 0, 0, 0)
                          [1.0, 0.0, 0.0, 0.0],
                          [0.0, 2.0, 0.0, 0.0],   # base: no prototype (DeFRCN: novel only)
                          [0.0, 0.0, 4.0, 0.0],   # novel_b: prototype (0, 0, 2, 2)
                          [0.0, 0.0, 0.0, 4.0]])
    assert pcb.set_prototypes(shots, torch.tensor([1, 1, 0, 2, 2]), classes, novel) == \
        ['novel_a', 'novel_b']
    assert torch.equal(pcb.prototypes[2], torch.tensor([0.0, 0.0, 2.0, 2.0]))
    sample = _sample([[1.0, 1.0, 0.0, 0.0],    # novel_a, cos = 1/sqrt(2)
                      [0.0, 0.0, 3.0, 0.0],    # novel_b, cos = 1/sqrt(2)
                      [0.0, 5.0, 0.0, 0.0],    # base: left alone
                      [7.0, 0.0, 0.0, 0.0],    # novel_a at 0.05: not above the lower bound
                      [0.0, 1.0, 0.0, 0.0]],   # novel_b, cos = 0 at score 1.0 (upper: kept)
                     [0.9, 0.4, 0.8, 0.05, 1.0], [1, 2, 0, 1, 2])
    [out] = pcb.calibrate(None, torch.zeros(1, 3, 8, 8), [sample], rescale=False)
    root_half = 1 / math.sqrt(2)
    expected = {0.9: 0.5 * 0.9 + 0.5 * root_half, 0.4: 0.5 * 0.4 + 0.5 * root_half,
                0.8: 0.8, 0.05: 0.05, 1.0: 0.5}
    assert out.pred_instances.scores.tolist() == pytest.approx(
        sorted(expected.values(), reverse=True))  # sorted by the new score
    assert out.pred_instances.labels.tolist() == [1, 0, 2, 2, 1]


def test_calibration_maps_rescaled_boxes_back_to_input_pixels():
    pcb = PrototypicalCalibration(extractor=dict(type='BoxCornersAsFeatures'), alpha=0.0,
                                  calibrated='all')
    pcb.set_prototypes(torch.tensor([[0.0, 0.0, 2.0, 2.0]]), torch.tensor([0]), ('a',))
    # a box of the original image; the input was resized by (2, 1): (1, 1, 1, 1) -> (2, 1, 2, 1)
    sample = _sample([[1.0, 1.0, 1.0, 1.0]], [0.5], [0], scale_factor=(2.0, 1.0))
    [out] = pcb.calibrate(None, torch.zeros(1, 3, 8, 8), [sample], rescale=True)
    cosine = (2 * 2 + 2 * 1) / (math.sqrt(10) * math.sqrt(8))  # (2,1,2,1) . (0,0,2,2)
    assert out.pred_instances.scores.item() == pytest.approx(cosine)
    assert out.pred_instances.bboxes.tolist() == [[1.0, 1.0, 1.0, 1.0]]  # boxes untouched


def test_calibration_without_prototypes_and_bad_arguments_are_errors():
    pcb = PrototypicalCalibration(extractor=dict(type='BoxCornersAsFeatures'))
    with pytest.raises(RuntimeError, match='PrototypeHook'):
        pcb.calibrate(None, torch.zeros(1, 3, 8, 8), [_sample([[0, 0, 1, 1]], [0.5], [0])],
                      rescale=False)
    with pytest.raises(ValueError, match='alpha'):
        PrototypicalCalibration(alpha=2.0)
    with pytest.raises(ValueError, match='calibrated'):
        PrototypicalCalibration(calibrated='some')


class _Preprocessor(torch.nn.Module):
    _enable_normalize, _channel_conversion = True, True

    def __init__(self):
        super().__init__()
        self.mean = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
        self.std = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)


class _TinyClassifier(torch.nn.Module):
    """A ResNet-shaped classifier: ``layer4`` at stride 32, then pooling and ``fc``."""

    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 4, 3, stride=4, padding=1)
        self.layer4 = torch.nn.Conv2d(4, 6, 3, stride=8, padding=1)
        self.fc = torch.nn.Linear(6, 5)

    def forward(self, x):
        return self.fc(self.layer4(self.stem(x)).mean(dim=(2, 3)))


def test_classifier_features_are_its_head_on_roi_aligned_layer4():
    preprocessor = _Preprocessor()
    # an RGB pixel of 255 normalised by the detector is ImageNet's (1 - mean) / std again
    pixels = (torch.full((1, 3, 2, 2), 255.0) - preprocessor.mean) / preprocessor.std
    expected = [(1 - m) / s for m, s in zip((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))]
    assert _imagenet_normalised(preprocessor, pixels)[0, :, 0, 0].tolist() == \
        pytest.approx(expected, rel=1e-5)

    torch.manual_seed(0)
    classifier = _TinyClassifier()
    extractor = ClassifierRoIFeatures(classifier)
    detector = torch.nn.Module()
    detector.data_preprocessor = preprocessor
    images = torch.randn(2, 3, 64, 64)
    # boxes of exactly one cell of layer4 (32 px): RoIAlign (aligned, 1 x 1) reads that cell
    boxes = [torch.tensor([[0.0, 0.0, 32.0, 32.0]]),
             torch.tensor([[32.0, 0.0, 64.0, 32.0], [32.0, 32.0, 64.0, 64.0]])]
    features = extractor(detector, images, boxes)
    with torch.no_grad():
        cells = classifier.layer4(classifier.stem(_imagenet_normalised(preprocessor, images)))
        expected = classifier.fc(torch.stack([cells[0, :, 0, 0], cells[1, :, 0, 1],
                                              cells[1, :, 1, 1]]))
    assert features.shape == (3, 5) and torch.allclose(features, expected, atol=1e-5)
    # the classifier stays out of the detector's checkpoints
    pcb = PrototypicalCalibration(extractor=dict(type='ClassifierRoIFeatures',
                                                 classifier=classifier))
    assert not pcb.state_dict() and not list(pcb.parameters())
    with pytest.raises(ValueError, match='checkpoint'):
        ClassifierRoIFeatures('resnet101')


CONFIG = """\
_base_ = ['mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py']
custom_imports = dict(imports=['mmfs_plugin'], allow_failed_imports=False)
runner_type = 'mmdet.FewShotRunner'
custom_hooks = [dict(type='PrototypeHook')]
fewshot = dict(setting='gfsod', class_split=dict(novel=['disc']), shots=1, seed=0,
               unselected='ignore')
data_root = {root!r}
metainfo = dict(classes={classes!r})
model = dict(
    type='TFA',
    frozen_parameters=['roi_head.bbox_head.shared_fcs'],
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=32),
    rpn_head=dict(type='DecoupledRPNHead', backward_scale=0.0, in_channels=32,
                  feat_channels=32),
    roi_head=dict(type='DecoupledStandardRoIHead', backward_scale=0.01,
                  bbox_roi_extractor=dict(out_channels=32),
                  bbox_head=dict(in_channels=32, fc_out_channels=64, num_classes=2)),
    pcb=dict(extractor=dict(type='DetectorRoIFeatures'), score_range=(0.0, 1.0)),
    train_cfg=dict(rpn_proposal=dict(nms_pre=100, max_per_img=50),
                   rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(rpn=dict(nms_pre=100, max_per_img=50), rcnn=dict(score_thr=0.0)))
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(96, 96), keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                                          'scale_factor', 'instances')),
]
coco = dict(type='CocoDataset', data_root=data_root, ann_file={ann!r},
            data_prefix=dict(img={images!r}), metainfo=metainfo)
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True), batch_sampler=None,
    dataset=dict(_delete_=True, type='FewShotDataset', dataset=coco, pipeline=pipeline))
val_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(_delete_=True, type='FewShotDataset', dataset=dict(coco, test_mode=True),
                 test_mode=True, pipeline=pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='FewShotCocoMetric')
test_evaluator = val_evaluator
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=2, val_interval=2)
param_scheduler = []
optim_wrapper = dict(optimizer=dict(lr=0.001))
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=2), logger=dict(interval=1))
log_level = 'WARNING'
"""


def test_defrcn_trains_and_tests_with_prototypes_of_its_kshot_set(tmp_path):
    make_tiny_coco(tmp_path / 'data', num_images=4)
    config = tmp_path / 'defrcn.py'
    config.write_text(CONFIG.format(root=str(tmp_path / 'data'),
                                    classes=CLASSES, ann=ANN_FILE, images=f'{IMAGE_FOLDER}/'))
    cfg = Config.fromfile(config)
    cfg.work_dir = str(tmp_path / 'work')
    runner = RUNNERS.build(cfg)
    runner.train()
    model, pcb = runner.model, runner.model.pcb
    # validation at the end of training built the prototypes: of the novel class only
    assert pcb.has_prototype.tolist() == [False, True]
    # the one selected disc, through the val pipeline (64 -> 96 px) and the model's RoI features
    train_set = runner.train_dataloader.dataset
    [(info, disc)] = [(train_set.get_data_info(i), inst) for i in range(len(train_set))
                      for inst in train_set.get_data_info(i)['instances']
                      if inst['bbox_label'] == 1 and not inst['ignore_flag']]
    packed = Compose(cfg.val_dataloader.dataset.pipeline)(copy.deepcopy(info))
    model.eval()
    with torch.no_grad():
        inputs = model.data_preprocessor(dict(inputs=[packed['inputs']],
                                              data_samples=[packed['data_samples']]))['inputs']
        rois = bbox2roi([torch.tensor([disc['bbox']]) * 1.5])
        extractor = model.roi_head.bbox_roi_extractor
        expected = extractor(model.extract_feat(inputs)[:extractor.num_inputs], rois)
    assert torch.allclose(pcb.prototypes[1], expected.mean(dim=(2, 3))[0], atol=1e-5)
    metrics = runner.test()
    assert {'fs/bbox_mAP', 'fs/bbox_nAP50', 'fs/bbox_bAP50'} <= set(metrics)


def test_detector_features_come_from_the_base_branch_of_a_retentive_model():
    light = Config.fromfile(Path(__file__).resolve().parents[1] / 'configs' / '_base_' /
                            'models' / 'faster-rcnn_r18-light-fpn.py').model
    light.roi_head.bbox_head.num_classes = 3
    model = MODELS.build(dict(light, type='RetentiveTFA', base_detector=light,
                              pcb=dict(extractor=dict(type='DetectorRoIFeatures'))))
    model.init_weights()
    model.eval()
    inputs, boxes = torch.randn(1, 3, 64, 64), [torch.tensor([[4.0, 4.0, 40.0, 30.0]])]

    def own_features(detector):
        extractor = detector.roi_head.bbox_roi_extractor
        return extractor(detector.extract_feat(inputs)[:extractor.num_inputs],
                         bbox2roi(boxes)).mean(dim=(2, 3))

    with torch.no_grad():
        # no class retained (the branch is not loaded, or every class is novel): the model's
        assert torch.allclose(model.pcb.features(model, inputs, boxes), own_features(model))
        torch.manual_seed(5)
        base = MODELS.build(light)
        model.load_base_detector(base.state_dict(), ('a', 'b', 'c'), ('a', 'x', 'y'))
        features = model.pcb.features(model, inputs, boxes)  # retained 'a': the base branch's
        assert torch.allclose(features, own_features(model.base_detector))
        assert not torch.allclose(features, own_features(model))
    assert features.shape == (1, 64)


def test_calibration_maps_each_image_with_its_own_scale_and_skips_empty_batches():
    pcb = PrototypicalCalibration(extractor=dict(type='BoxCornersAsFeatures'), alpha=0.0,
                                  calibrated='all')
    pcb.set_prototypes(torch.tensor([[1.0, 0.0, 0.0, 0.0]]), torch.tensor([0]), ('a',))
    # image 1 resized by (1, 1), image 2 by (0, 1) in x: its box (1, 1, 1, 1) -> (0, 1, 0, 1)
    first = _sample([[1.0, 0.0, 0.0, 0.0]], [0.5], [0])
    empty = _sample(torch.zeros(0, 4), [], [])
    second = _sample([[1.0, 1.0, 1.0, 1.0]], [0.5], [0], scale_factor=(0.0, 1.0))
    out = pcb.calibrate(None, torch.zeros(3, 3, 8, 8), [first, empty, second], rescale=True)
    assert [s.pred_instances.scores.tolist() for s in out] == [[1.0], [], [0.0]]
    empty_batch = [_sample(torch.zeros(0, 4), [], []) for _ in range(2)]
    assert pcb.calibrate(None, torch.zeros(2, 3, 8, 8), empty_batch, rescale=True) == empty_batch


def test_prototypes_use_the_first_view_of_a_tta_pipeline():
    pipeline = _leaf_pipeline(dict(type='FewShotDataset', pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='TestTimeAug', transforms=[
            [dict(type='Resize', scale=(64, 64)), dict(type='Resize', scale=(96, 96))],
            [dict(type='RandomFlip', prob=0.0), dict(type='RandomFlip', prob=1.0)],
            [dict(type='PackDetInputs')]])]))
    assert pipeline == [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(64, 64)),
                        dict(type='RandomFlip', prob=0.0), dict(type='PackDetInputs')]
