"""Fine-tuning a tiny TFA: frozen parameters, frozen batch norms, surgery hook under the Runner."""
import copy
import shutil

import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.dataset import pseudo_collate
from mmengine.hooks import Hook
from mmengine.hub import get_config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import DataLoader, Dataset

import mmfs_plugin  # noqa: F401  (registers TFA, CosineSimBBoxHead, FewShotSurgeryHook)
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmfs_plugin.engine import SurgeryError, load_surgery_source, surgery
from mmfs_plugin.models.freezing import freeze_parameters

FROZEN = ['backbone', 'neck', 'rpn_head', 'roi_head.bbox_head.shared_fcs']
BASE_CLASSES = ['a', 'b']
FT_CLASSES = ['b', 'n', 'a']  # a permuted base order and one novel class


@pytest.fixture(autouse=True, scope='module')
def mmdet_scope() -> None:
    init_default_scope('mmdet')


def tiny_faster_rcnn(num_classes: int) -> ConfigDict:
    """Faster R-CNN R18, 64-channel FPN and few proposals: fast on one CPU thread."""
    cfg = get_config('mmdet::_base_/models/faster-rcnn_r50_fpn.py').model
    cfg.backbone.update(depth=18, init_cfg=None, frozen_stages=-1, norm_eval=False)
    cfg.neck.update(in_channels=[64, 128, 256, 512], out_channels=64)
    cfg.rpn_head.update(in_channels=64, feat_channels=64)
    cfg.roi_head.bbox_roi_extractor.out_channels = 64
    cfg.roi_head.bbox_head.update(in_channels=64, fc_out_channels=64, num_classes=num_classes)
    cfg.train_cfg.rpn_proposal.update(nms_pre=200, max_per_img=50)
    cfg.train_cfg.rcnn.sampler.num = 32
    cfg.test_cfg.rpn.update(nms_pre=100, max_per_img=50)
    return cfg


def tiny_tfa() -> ConfigDict:
    cfg = tiny_faster_rcnn(len(FT_CLASSES))
    cfg.type = 'TFA'
    cfg.frozen_parameters = FROZEN
    cfg.roi_head.bbox_head.type = 'CosineSimBBoxHead'
    return cfg


def batch(num_classes: int, seed: int = 0) -> dict:
    torch.manual_seed(seed)
    return demo_mm_inputs(batch_size=2, image_shapes=[(3, 64, 96), (3, 80, 64)],
                          num_items=[2, 1], num_classes=num_classes)


def is_frozen(name: str) -> bool:
    return any(name == p or name.startswith(p + '.') for p in FROZEN)


def test_prefixes_match_whole_name_components_and_typos_fail():
    model = nn.ModuleDict(dict(neck=nn.Linear(2, 2), necktie=nn.Linear(2, 2)))
    assert freeze_parameters(model, ['neck']) == ['neck.weight', 'neck.bias']
    assert all(p.requires_grad for p in model['necktie'].parameters())
    with pytest.raises(ValueError, match="'nek' matches no parameter"):
        freeze_parameters(model, ['nek'])
    with pytest.raises(TypeError, match='list of prefixes'):
        freeze_parameters(model, 'neck')


def test_frozen_parameters_stay_bit_identical_while_the_rest_trains():
    torch.manual_seed(0)
    model = MODELS.build(tiny_tfa())
    model.init_weights()
    optim_wrapper = build_optim_wrapper(
        model, dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-3)))
    before = copy.deepcopy(model.state_dict())
    model.train()
    for step in range(3):
        losses = model.train_step(batch(len(FT_CLASSES), seed=step), optim_wrapper)
        assert torch.isfinite(sum(losses.values()))

    after = model.state_dict()
    params = dict(model.named_parameters())
    frozen = [name for name in params if is_frozen(name)]
    trained = [name for name in params if not is_frozen(name)]
    assert trained == ['roi_head.bbox_head.fc_cls.weight', 'roi_head.bbox_head.fc_reg.weight',
                       'roi_head.bbox_head.fc_reg.bias']
    assert all(torch.equal(before[name], after[name]) for name in frozen)
    assert all(not torch.equal(before[name], after[name]) for name in trained)
    assert not any(params[name].requires_grad for name in frozen)
    state = optim_wrapper.optimizer.state
    assert {name for name in params if params[name] in state} == set(trained)
    # batch-norm statistics of the frozen backbone did not move: its BNs stayed in eval mode
    bn_buffers = [k for k in before if k.startswith('backbone.') and 'running_' in k]
    assert bn_buffers and all(torch.equal(before[k], after[k]) for k in bn_buffers)
    assert not any(m.training for m in model.backbone.modules())
    assert model.training and model.roi_head.bbox_head.fc_cls.training


class PackedSamples(Dataset):
    """Two packed samples with the metainfo of a fine-tuning set."""

    metainfo = dict(classes=tuple(FT_CLASSES), novel_classes=('n', ))

    def __init__(self) -> None:
        packed = batch(len(FT_CLASSES))
        self.items = [dict(inputs=i, data_samples=s)
                      for i, s in zip(packed['inputs'], packed['data_samples'])]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        return self.items[index]


def save_model(cfg: ConfigDict, classes: list[str], path: str, seed: int) -> dict:
    torch.manual_seed(seed)
    model = MODELS.build(cfg)
    model.init_weights()
    state = model.state_dict()
    torch.save(dict(meta=dict(dataset_meta=dict(classes=classes)), state_dict=state), path)
    return state


class RecordStartWeights(Hook):
    """Keep a copy of the weights as training starts, after the surgery hook."""

    priority = 'LOWEST'

    def before_train(self, runner: Runner) -> None:
        self.state = copy.deepcopy(runner.model.state_dict())


def fine_tune_runner(work_dir: str, max_iters: int, checkpoint: str, hooks: list[Hook],
                     **kwargs) -> Runner:
    return Runner(
        model=tiny_tfa(),
        work_dir=work_dir,
        train_dataloader=DataLoader(PackedSamples(), batch_size=2, collate_fn=pseudo_collate),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.02, momentum=0.9)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2,
                                           by_epoch=False)),
        custom_hooks=[dict(type='FewShotSurgeryHook', checkpoint=checkpoint), *hooks],
        default_scope='mmdet',
        randomness=dict(seed=0),
        log_level='WARNING',
        **kwargs)


@pytest.fixture(scope='module')
def fine_tuned(tmp_path_factory) -> dict:
    """Two fine-tuning iterations from a base model, with a stray ``load_from``."""
    tmp_path = tmp_path_factory.mktemp('fine_tune')
    base_ckpt, other_ckpt = str(tmp_path / 'base.pth'), str(tmp_path / 'other.pth')
    base = save_model(tiny_faster_rcnn(len(BASE_CLASSES)), BASE_CLASSES, base_ckpt, seed=1)
    save_model(tiny_tfa(), FT_CLASSES, other_ckpt, seed=2)
    recorder = RecordStartWeights()
    runner = fine_tune_runner(str(tmp_path / 'work'), 2, base_ckpt, [recorder],
                              load_from=other_ckpt)
    runner.train()
    return dict(base_ckpt=base_ckpt, base=base, start=recorder.state, seed=runner.seed,
                tuned=copy.deepcopy(runner.model.state_dict()), work_dir=tmp_path / 'work')


def frozen_keys(state: dict) -> list[str]:
    """Frozen parameters and the batch-norm statistics of the frozen modules."""
    return [k for k in state if is_frozen(k) and not k.endswith('num_batches_tracked')]


def head_keys(state: dict) -> list[str]:
    return [k for k in state if k.startswith(('roi_head.bbox_head.fc_cls',
                                              'roi_head.bbox_head.fc_reg'))]


def test_runner_fine_tunes_from_the_surgered_base_checkpoint(fine_tuned):
    base, tuned = fine_tuned['base'], fine_tuned['tuned']
    # the hook overrode load_from, and freezing kept the base weights and statistics exactly
    assert any('running_mean' in k for k in frozen_keys(tuned))
    assert all(torch.equal(tuned[k], base[k]) for k in frozen_keys(tuned))
    # the head started from the surgery of base.pth (rows by name, seed = runner seed) ...
    expected = surgery(load_surgery_source(fine_tuned['base_ckpt']), FT_CLASSES,
                       novel_classes=['n'], seed=fine_tuned['seed'])
    head = head_keys(tuned)
    assert head and all(torch.equal(fine_tuned['start'][k], expected[k]) for k in head)
    # ... and trained on from there
    assert not torch.equal(tuned[head[0]], expected[head[0]])


def test_resumed_run_does_not_redo_the_surgery(fine_tuned, tmp_path):
    work_dir = shutil.copytree(fine_tuned['work_dir'], tmp_path / 'work')
    new_base = str(tmp_path / 'new_base.pth')
    save_model(tiny_faster_rcnn(len(BASE_CLASSES)), BASE_CLASSES, new_base, seed=3)
    recorder = RecordStartWeights()
    runner = fine_tune_runner(str(work_dir), 3, new_base, [recorder], resume=True)
    runner.train()
    assert runner.iter == 3
    tuned = fine_tuned['tuned']
    assert all(torch.equal(recorder.state[k], tuned[k])
               for k in frozen_keys(tuned) + head_keys(tuned))


def test_base_head_of_another_width_is_named_with_both_shapes(tmp_path):
    base_cfg = tiny_faster_rcnn(len(BASE_CLASSES))
    base_cfg.roi_head.bbox_head.fc_out_channels = 32
    base_ckpt = str(tmp_path / 'base.pth')
    save_model(base_cfg, BASE_CLASSES, base_ckpt, seed=1)
    runner = fine_tune_runner(str(tmp_path / 'work'), 1, base_ckpt, [])
    with pytest.raises(SurgeryError, match=r"base\.pth: roi_head\.bbox_head\.fc_cls\.weight: "
                       r"shape \(4, 32\) after surgery does not fit the model's \(4, 64\)"):
        runner.train()
