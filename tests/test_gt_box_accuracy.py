"""GT-box classification accuracy (MVREC protocol) and the loops that score GT boxes."""
import os.path as osp

import mmcv
import mmdet
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmdet.datasets import BaseDetDataset
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import bbox2roi
from mmfs_plugin.evaluation import GTBoxAccuracy, GTBoxScoring

CLASSES = ('a/x', 'a/y', 'b/x', 'b/z', 'plain')
META = dict(classes=CLASSES, base_classes=['a/x', 'a/y', 'b/x'], novel_classes=['b/z', 'plain'])


def run_accuracy(samples, meta=META):
    evaluator = Evaluator([GTBoxAccuracy()])
    evaluator.dataset_meta = meta
    evaluator.process(samples)
    return evaluator.evaluate(len(samples))


def scored_sample(labels, scores, num_classes=len(CLASSES)):
    sample = DetDataSample(metainfo=dict(img_path='img/0.png'))
    sample.gt_box_labels = torch.tensor(labels, dtype=torch.long)
    sample.gt_box_scores = torch.tensor(scores, dtype=torch.float32).reshape(-1, num_classes)
    return sample


def test_accuracy_equals_hand_count_with_argmax_within_category():
    samples = [
        scored_sample([0, 1, 2], [[.1, .2, .6, .05, .05],    # a/x -> a/y: wrong
                                  [.1, .3, .5, .0, .1],      # a/y: right (b/x is outside a)
                                  [.9, .0, .05, .04, .01]]),  # b/x: right within b
        scored_sample([], []),
        scored_sample([3, 3, 4, 4], [[.0, .0, .3, .6, .1],   # b/z: right
                                     [.0, .0, .7, .2, .1],   # b/z -> b/x: wrong
                                     [.5, .3, .1, .05, .05],  # plain: alone in its group
                                     [.9, .0, .0, .0, .1]]),
    ]
    results = run_accuracy(samples)
    assert results == pytest.approx({
        'fs/acc_a': 1 / 2, 'fs/acc_b': 2 / 3, 'fs/acc_ungrouped': 1.0,
        'fs/acc': (1 / 2 + 2 / 3 + 1) / 3,
        'fs/acc_base': 2 / 3, 'fs/acc_novel': 3 / 4})


def test_missing_scores_and_reserved_categories_are_clear_errors():
    with pytest.raises(KeyError, match=r'img/0\.png: gt_box_labels: .*GTBoxScoringHook'):
        run_accuracy([DetDataSample(metainfo=dict(img_path='img/0.png'))])
    with pytest.raises(ValueError, match=r"categories \['base'\] collide"):
        run_accuracy([scored_sample([0], [[.4, .6]], num_classes=2)],
                     meta=dict(classes=('base/x', 'a/y')))


# --- the loops, on a tiny real Faster R-CNN -----------------------------------------------

def tiny_faster_rcnn():
    """Faster R-CNN R18-FPN with 64 channels, few proposals, no pretrained weights."""
    cfg = Config.fromfile(osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', '_base_',
                                   'models', 'faster-rcnn_r50_fpn.py'))
    cfg.merge_from_dict({
        'model.backbone.depth': 18, 'model.backbone.init_cfg': None,
        'model.neck.in_channels': [64, 128, 256, 512], 'model.neck.out_channels': 64,
        'model.rpn_head.in_channels': 64, 'model.rpn_head.feat_channels': 64,
        'model.roi_head.bbox_roi_extractor.out_channels': 64,
        'model.roi_head.bbox_head.in_channels': 64,
        'model.roi_head.bbox_head.fc_out_channels': 64,
        'model.roi_head.bbox_head.num_classes': len(CLASSES),
        'model.train_cfg.rpn.sampler.num': 64, 'model.train_cfg.rcnn.sampler.num': 32,
        'model.train_cfg.rpn_proposal.nms_pre': 200,
        'model.train_cfg.rpn_proposal.max_per_img': 50,
        'model.test_cfg.rpn.nms_pre': 100, 'model.test_cfg.rpn.max_per_img': 20,
    })
    return cfg.model


class TinyDataset(BaseDetDataset):
    """A BaseDetDataset over a given data_list."""

    def __init__(self, records, **kwargs):
        self.records = records
        super().__init__(metainfo=META, **kwargs)

    def load_data_list(self):
        return [dict(record) for record in self.records]


@pytest.fixture(scope='module')
def records(tmp_path_factory):
    """Four random images of 64-96 px; instances include an ignored one and an
    ``__ignore__`` region, which are not scored."""
    init_default_scope('mmdet')
    root = tmp_path_factory.mktemp('images')
    rng = np.random.default_rng(0)
    records = []
    for img_id, (height, width) in enumerate([(64, 96), (96, 80), (72, 72), (90, 64)]):
        path = str(root / f'{img_id}.png')
        mmcv.imwrite(rng.integers(0, 255, (height, width, 3), dtype=np.uint8), path)
        instances = []
        for index in range(3):
            x1, y1 = rng.uniform(0, width / 2), rng.uniform(0, height / 2)
            box = [x1, y1, x1 + rng.uniform(10, width / 2), y1 + rng.uniform(10, height / 2)]
            label, ignore = (-1, 1) if index == 2 and img_id == 0 else (
                int(rng.integers(len(CLASSES))), int(index == 2 and img_id == 1))
            instances.append(dict(bbox=box, bbox_label=label, ignore_flag=ignore,
                                  mask=[[box[0], box[1], box[2], box[1], box[2], box[3]]]))
        records.append(dict(img_path=path, img_id=img_id, height=height, width=width,
                            instances=instances))
    return records


META_KEYS = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'instances')


def test_loop_scoring_matches_roi_head_on_input_scale_boxes(records):
    """Scores of the kept GT boxes, from the test_step's own features (one backbone pass),
    equal the box head run on the pipeline-resized GT boxes."""
    torch.manual_seed(0)
    model = MODELS.build(tiny_faster_rcnn()).eval()
    # LoadAnnotations after Resize would leave gt_instances at the original scale; here it
    # runs first so that gt_instances give the reference boxes at the input scale.
    dataset = TinyDataset(records, test_mode=True, pipeline=[
        dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
        dict(type='Resize', scale=(80, 80), keep_ratio=True),
        dict(type='PackDetInputs', meta_keys=META_KEYS)])
    batch = pseudo_collate([dataset[0], dataset[1], dataset[3]])
    backbone_calls = []
    handle = model.backbone.register_forward_hook(lambda *args: backbone_calls.append(1))
    with GTBoxScoring(model):
        outputs = model.test_step(batch)
    handle.remove()
    assert len(backbone_calls) == 1
    assert all('pred_instances' in sample for sample in outputs)
    expected_labels = [[r['bbox_label'] for r in records[i]['instances']
                        if r['bbox_label'] >= 0 and not r['ignore_flag']] for i in (0, 1, 3)]
    assert [len(labels) for labels in expected_labels] == [2, 2, 3]
    for sample, labels in zip(outputs, expected_labels):
        assert sample.gt_box_labels.tolist() == labels
        assert sample.gt_box_scores.shape == (len(labels), len(CLASSES))
        assert bool((sample.gt_box_scores.sum(1) < 1).all())  # background left out

    with torch.no_grad():
        data = model.data_preprocessor(batch, False)
        rois = bbox2roi([s.gt_instances.bboxes for s in data['data_samples']])
        cls_score = model.roi_head._bbox_forward(model.extract_feat(data['inputs']),
                                                 rois)['cls_score']
    expected = cls_score.softmax(-1)[:, :len(CLASSES)]
    got = torch.cat([sample.gt_box_scores for sample in outputs])
    assert torch.allclose(got, expected, atol=1e-5)

    outside = model.test_step(batch)  # hooks are removed when the context exits
    assert 'gt_box_scores' not in outside[0]

    bare = DetDataSample(metainfo=dict(img_path='img/9.png', scale_factor=(1.0, 1.0)))
    with pytest.raises(KeyError, match=r'img/9\.png: instances: .*meta_keys'):
        GTBoxScoring(model).score(model.extract_feat(data['inputs']), [bare])
    with pytest.raises(TypeError, match='TwoStageDetector'):
        GTBoxScoring(torch.nn.Linear(2, 2))


def test_scores_of_an_image_do_not_depend_on_its_batch(records):
    """An image's GT-box scores are bit for bit those of the image scored alone, whatever
    else is in its batch (batch size and number of processes then change nothing)."""
    torch.manual_seed(0)
    model = MODELS.build(tiny_faster_rcnn()).eval()
    dataset = TinyDataset(records, test_mode=True, pipeline=[
        dict(type='LoadImageFromFile'), dict(type='Resize', scale=(80, 80), keep_ratio=True),
        dict(type='LoadAnnotations', with_bbox=True),
        dict(type='PackDetInputs', meta_keys=META_KEYS)])
    with torch.no_grad():
        data = model.data_preprocessor(pseudo_collate([dataset[i] for i in range(4)]), False)
        features = model.extract_feat(data['inputs'])
    scoring, samples = GTBoxScoring(model), data['data_samples']
    scoring.score(features, samples)
    in_batch = [sample.gt_box_scores for sample in samples]
    for index, sample in enumerate(samples):
        scoring.score(tuple(level[index:index + 1] for level in features), [sample])
        assert torch.equal(sample.gt_box_scores, in_batch[index])


def test_runner_validates_tests_and_saves_best_on_novel_ap(records, tmp_path):
    pipeline = [dict(type='LoadImageFromFile'),
                dict(type='Resize', scale=(80, 80), keep_ratio=True),
                dict(type='LoadAnnotations', with_bbox=True),
                dict(type='PackDetInputs', meta_keys=META_KEYS)]
    train_pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
                      dict(type='Resize', scale=(80, 80), keep_ratio=True),
                      dict(type='PackDetInputs')]
    loader = dict(batch_size=2, num_workers=0, collate_fn=dict(type='pseudo_collate'),
                  sampler=dict(type='DefaultSampler', shuffle=False),
                  dataset=TinyDataset(records, test_mode=True, pipeline=pipeline))
    evaluator = [dict(type='FewShotCocoMetric'), dict(type='GTBoxAccuracy')]
    runner = Runner(
        model=tiny_faster_rcnn(), work_dir=str(tmp_path), default_scope='mmdet',
        train_dataloader=dict(loader, dataset=TinyDataset(records, pipeline=train_pipeline)),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=1, val_interval=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.001, momentum=0.9)),
        val_dataloader=loader, val_cfg=dict(type='ValLoop'), val_evaluator=evaluator,
        test_dataloader=loader, test_cfg=dict(type='TestLoop'), test_evaluator=evaluator,
        custom_hooks=[dict(type='GTBoxScoringHook')],
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False,
                                           save_best='fs/bbox_nAP', rule='greater')),
        log_level='WARNING')
    runner.train()
    assert osp.isfile(osp.join(str(tmp_path), 'best_fs_bbox_nAP_iter_1.pth'))
    assert runner.message_hub.get_info('best_score') is not None

    metrics = runner.test()
    for key in ('fs/bbox_mAP', 'fs/bbox_bAP', 'fs/bbox_nAP', 'fs/acc', 'fs/acc_base',
                'fs/acc_novel', 'fs/acc_a'):
        assert key in metrics and -1 <= metrics[key] <= 1, key
