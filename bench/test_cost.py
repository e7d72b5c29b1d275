"""Test-time cost of the few-shot methods against the plain anchor, measured side by side in one
run.

The NEU-DET 5-shot configs' models (the light model at 200 px, six classes) predict the same
batches: plain fine-tuning (``configs/finetune``), the recipe (``RetentiveTFA``: two detectors),
the recipe with a shared backbone and with shared proposals (its ablations
``retentive-tfa-shared-{backbone,proposals}``: the base branch runs only its RPN and RoI head,
or only its box head), the recipe distilled into one detector (its ablation ``distilled-tfa``:
the base detector teaches in training and does not run at test time), DeFRCN
(``configs/defrcn``: the calibration runs the detector's RoI features again) and the recipe with
DeFRCN's parts. Blocks of batches alternate between the models so that machine drift hits them
alike; the script prints each model's median seconds per batch and its ratio to plain (target:
the recipe's default at most 1.2x). With ``--base-checkpoint`` every model (and base branch)
starts from the NEU-DET base weights, so the detections per image are those of a trained
model; otherwise from a base detector of PyTorch's default init.

    OMP_NUM_THREADS=1 python bench/test_cost.py [--batches 4] [--rounds 5] [--models ...] \\
        [--base-checkpoint work_dirs/neu_det/base/iter_3000.pth]
"""
import argparse
import statistics
import time
from pathlib import Path
from typing import Dict, List, Optional

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmfs_plugin  # noqa: F401  (registers the plugin)

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {
    'plain': 'configs/finetune/finetune_r18-light-fpn_neu-det_5shot.py',
    'recipe': 'configs/retentive_tfa/retentive-tfa_r18-light-fpn_neu-det_5shot.py',
    'recipe, shared backbone': 'configs/retentive_tfa/ablations/'
                               'retentive-tfa-shared-backbone_r18-light-fpn_neu-det_5shot.py',
    'recipe, shared proposals': 'configs/retentive_tfa/ablations/'
                                'retentive-tfa-shared-proposals_r18-light-fpn_neu-det_5shot.py',
    'recipe, distilled': 'configs/retentive_tfa/ablations/'
                         'distilled-tfa_r18-light-fpn_neu-det_5shot.py',
    'DeFRCN': 'configs/defrcn/defrcn_r18-light-fpn_neu-det_5shot.py',
    'recipe + DeFRCN': 'configs/defrcn/retentive-defrcn_r18-light-fpn_neu-det_5shot.py',
}
BASE_CONFIG = 'configs/base_training/faster-rcnn_r18-light-fpn_neu-det_base.py'
BASE_CLASSES = ('crazing', 'inclusion', 'patches', 'rolled-in_scale')
CLASSES = ('crazing', 'inclusion', 'patches', 'pitted_surface', 'rolled-in_scale', 'scratches')
TARGET = 1.2


def build_model(config: str, base_state: dict) -> torch.nn.Module:
    """The config's model in eval mode, with the base weights (the box head's last layers keep
    their init; base branches hold them all) and, for the calibration, prototypes of one box
    per class."""
    cfg = Config.fromfile(str(ROOT / config))
    cfg.model.roi_head.bbox_head.num_classes = len(CLASSES)
    model = MODELS.build(cfg.model)
    own = model.state_dict()
    model.load_state_dict({k: v for k, v in base_state.items()
                           if k in own and own[k].shape == v.shape}, strict=False)
    if hasattr(model, 'load_base_detector'):
        model.load_base_detector(base_state, BASE_CLASSES, CLASSES)
    model.eval()
    if getattr(model, 'pcb', None) is not None:
        with torch.no_grad():
            boxes = [torch.tensor([[20.0, 20.0, 120.0, 90.0]] * len(CLASSES))]
            features = model.pcb.features(model, torch.randn(1, 3, 200, 200), boxes)
        model.pcb.set_prototypes(features, torch.arange(len(CLASSES)), CLASSES,
                                 ('pitted_surface', 'scratches'))
    return model


def load_base_state(checkpoint: Optional[str]) -> dict:
    """The base weights: ``checkpoint``'s, or a base detector's of PyTorch's default init."""
    if checkpoint:
        return torch.load(checkpoint, map_location='cpu', weights_only=False)['state_dict']
    return MODELS.build(Config.fromfile(str(ROOT / BASE_CONFIG)).model).state_dict()


def batch(size: int, seed: int) -> tuple:
    """Random images of 200 x 200 (NEU-DET's size) and their data samples."""
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(size, 3, 200, 200, generator=generator)
    meta = dict(img_shape=(200, 200), ori_shape=(200, 200), pad_shape=(200, 200),
                batch_input_shape=(200, 200), scale_factor=(1.0, 1.0))
    return inputs, [DetDataSample(metainfo=meta) for _ in range(size)]


def time_block(model: torch.nn.Module, batches: List[tuple]) -> float:
    """Seconds per batch of ``model.predict`` over ``batches``."""
    start = time.perf_counter()
    with torch.no_grad():
        for inputs, samples in batches:
            model.predict(inputs, samples)
    return (time.perf_counter() - start) / len(batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--batches', type=int, default=4, help='batches per block')
    parser.add_argument('--batch-size', type=int, default=8,
                        help="images per batch (the NEU-DET test loader's)")
    parser.add_argument('--rounds', type=int, default=5, help='blocks per model')
    parser.add_argument('--models', nargs='+', default=list(CONFIGS), choices=list(CONFIGS),
                        help='the models (plain and the recipe always run)')
    parser.add_argument('--base-checkpoint', help='the NEU-DET base checkpoint')
    args = parser.parse_args()
    init_default_scope('mmdet')
    torch.manual_seed(0)
    base_state = load_base_state(args.base_checkpoint)
    names = ['plain', 'recipe'] + [name for name in args.models if name not in ('plain', 'recipe')]
    models = {name: build_model(CONFIGS[name], base_state) for name in names}
    batches = [batch(args.batch_size, seed) for seed in range(args.batches)]
    for model in models.values():  # warm-up
        time_block(model, batches[:1])
    times: Dict[str, List[float]] = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            times[name].append(time_block(model, batches))
    plain = statistics.median(times['plain'])
    print(f'{"model":<28} {"s/batch":>8} {"x plain":>8}')
    for name, values in times.items():
        print(f'{name:<28} {statistics.median(values):8.3f} '
              f'{statistics.median(values) / plain:8.2f}')
    ratio = statistics.median(times['recipe']) / plain
    print(f'recipe (default) / plain: {ratio:.2f} '
          f'({"PASS" if ratio <= TARGET else "FAIL"}, target <= {TARGET})')


if __name__ == '__main__':
    main()
