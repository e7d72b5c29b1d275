"""DeFRCN's gradient decoupling: features unchanged, the heads' gradients into them scaled."""
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config

import mmfs_plugin  # noqa: F401
from mmfs_plugin.models.gradient_decoupling import scale_gradient


@pytest.mark.parametrize('scale', [0.0, 0.01, 1.0])
def test_scale_gradient_keeps_values_and_scales_gradients(scale):
    x = torch.randn(2, 3, requires_grad=True)
    (out,) = scale_gradient([x], scale)
    assert torch.equal(out, x)
    (out * torch.arange(3.0)).sum().backward()
    assert torch.allclose(x.grad, scale * torch.arange(3.0).expand(2, 3))
    with pytest.raises(ValueError, match='>= 0'):
        scale_gradient([x], -1)


def light_model(**extra):
    cfg = Config.fromfile('configs/demo/demo_5shot.py').model
    cfg.update(extra)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def backbone_grad(model, batch):
    model.zero_grad()
    losses = model.loss(*batch)
    sum(v for k, v in losses.items() if 'loss' in k and isinstance(v, torch.Tensor)).backward()
    return model.backbone.layer4[-1].conv2.weight.grad.clone(), losses


def test_the_backbone_gradient_is_the_scaled_sum_of_the_heads_gradients():
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    sample = DetDataSample(metainfo=dict(img_shape=(64, 64), pad_shape=(64, 64),
                                         batch_input_shape=(64, 64), scale_factor=(1.0, 1.0)))
    sample.gt_instances = InstanceData(bboxes=torch.tensor([[8.0, 8.0, 40.0, 36.0]]),
                                       labels=torch.tensor([1]))
    batch = (torch.randn(1, 3, 64, 64), [sample])
    free = dict(frozen_parameters=[])

    def grad(scale):
        torch.manual_seed(1)  # the same sampled RoIs in every run
        return backbone_grad(light_model(**free, backbone_grad_scale=scale), batch)

    full, losses = grad(None)
    rpn_only, rpn_losses = grad(dict(rpn=1.0, roi=0.0))
    roi_only, _ = grad(dict(rpn=0.0, roi=1.0))
    mixed, mixed_losses = grad(dict(rpn=0.0, roi=0.25))
    assert torch.allclose(rpn_only + roi_only, full, atol=1e-6)
    assert torch.allclose(mixed, 0.25 * roi_only, atol=1e-7)
    assert set(mixed_losses) == set(losses)  # the same losses, the same values
    for key in losses:
        if isinstance(losses[key], torch.Tensor):
            assert torch.allclose(torch.as_tensor(mixed_losses[key]).float().sum(),
                                  torch.as_tensor(losses[key]).float().sum()), key
    with pytest.raises(ValueError, match='unknown keys'):
        light_model(backbone_grad_scale=dict(neck=0.0))
