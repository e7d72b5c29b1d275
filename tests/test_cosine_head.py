"""CosineSimBBoxHead: scaled cosine scores, mmdet's losses and predictions, training."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict

import mmfs_plugin  # noqa: F401  (registers the head)
from mmdet.registry import MODELS

IN_CHANNELS, ROI_SIZE, FC_DIM, NUM_CLASSES = 8, 2, 16, 3


def build_head(**kwargs) -> torch.nn.Module:
    head = MODELS.build(
        dict(type='CosineSimBBoxHead', in_channels=IN_CHANNELS, roi_feat_size=ROI_SIZE,
             fc_out_channels=FC_DIM, num_classes=NUM_CLASSES, **kwargs))
    head.init_weights()
    return head


def shared_features(head: torch.nn.Module, rois_feats: torch.Tensor) -> torch.Tensor:
    x = rois_feats.flatten(1)
    for fc in head.shared_fcs:
        x = F.relu(fc(x))
    return x


@pytest.mark.parametrize('scale', [20.0, 7.5])
def test_scores_are_scaled_cosine_similarities(scale):
    torch.manual_seed(0)
    head = build_head(scale=scale)
    feats = torch.randn(6, IN_CHANNELS, ROI_SIZE, ROI_SIZE)
    cls_score, bbox_pred = head(feats)

    x = shared_features(head, feats)
    w = head.fc_cls.weight
    expected = scale * (x / (x.norm(dim=1, keepdim=True) + 1e-5)) @ (
        w / (w.norm(dim=1, keepdim=True) + 1e-5)).t()
    assert cls_score.shape == (6, NUM_CLASSES + 1)
    torch.testing.assert_close(cls_score, expected)
    assert cls_score.abs().max() <= scale
    assert bbox_pred.shape == (6, 4 * NUM_CLASSES)
    assert head.fc_cls.bias is None


def test_default_scale_is_twenty_and_fixed():
    head = build_head()
    assert float(head.fc_cls.scale) == 20.0
    assert not any('scale' in name for name, _ in head.named_parameters())
    assert not any('scale' in key for key in head.state_dict())


def test_learnable_scale_is_a_trained_parameter():
    head = build_head(scale=10.0, learnable_scale=True)
    cls_score, _ = head(torch.randn(4, IN_CHANNELS, ROI_SIZE, ROI_SIZE))
    cls_score.sum().backward()
    assert head.fc_cls.scale.grad is not None
    assert float(head.state_dict()['fc_cls.scale']) == 10.0


def test_cls_predictor_cfg_is_refused():
    with pytest.raises(ValueError, match='cls_predictor_cfg'):
        build_head(cls_predictor_cfg=dict(type='Linear'))


def test_predict_by_feat_scores_are_the_softmax_of_the_cosine_logits():
    torch.manual_seed(0)
    head = build_head().eval()
    feats = torch.randn(5, IN_CHANNELS, ROI_SIZE, ROI_SIZE)
    rois = torch.tensor([[0, 4, 4, 30, 30]] * 5, dtype=torch.float)
    cls_score, bbox_pred = head(feats)
    results = head.predict_by_feat(
        rois=(rois, ), cls_scores=(cls_score, ), bbox_preds=(bbox_pred, ),
        batch_img_metas=[dict(img_shape=(64, 64), scale_factor=(1.0, 1.0))],
        rcnn_test_cfg=ConfigDict(score_thr=0.0, nms=None, max_per_img=100), rescale=False)
    probs = F.softmax(cls_score, dim=1)[:, :-1]
    assert torch.allclose(results[0].scores.sort().values, probs.flatten().sort().values)


def test_head_trains_on_a_toy_problem():
    torch.manual_seed(0)
    head = build_head()
    centres = torch.randn(NUM_CLASSES + 1, IN_CHANNELS, ROI_SIZE, ROI_SIZE)
    labels = torch.arange(NUM_CLASSES + 1).repeat(8)
    feats = centres[labels] + 0.3 * torch.randn(len(labels), IN_CHANNELS, ROI_SIZE, ROI_SIZE)
    rois = torch.zeros(len(labels), 5)
    bbox_targets = 0.1 * torch.randn(len(labels), 4)
    weights = torch.ones(len(labels))
    optimizer = torch.optim.SGD(head.parameters(), lr=0.02, momentum=0.9)

    def loss() -> torch.Tensor:
        cls_score, bbox_pred = head(feats)
        losses = head.loss(cls_score, bbox_pred, rois, labels, weights, bbox_targets,
                           weights[:, None].expand(-1, 4))
        return losses['loss_cls'] + losses['loss_bbox']

    first = loss().item()
    for _ in range(20):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
    assert loss().item() < 0.5 * first
    assert (head(feats)[0].argmax(dim=1) == labels).float().mean() > 0.9
