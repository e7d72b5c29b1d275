"""Training overhead of the plugin's data path, measured side by side in one run.

The same light Faster R-CNN (the demo model) trains on the same synthetic images, fed either by
``MVTecFSDataset`` + ``FewShotBalancedSampler`` or by mmdet's ``CocoDataset`` +
``InfiniteSampler`` over the ``tools/dataset_converters/labelme2coco.py`` export of the same tree. Blocks of
iterations alternate between the two feeds so that machine drift hits both alike; the script
prints the median seconds per iteration of each and their ratio (target <= 1.03).

    python bench/train_overhead.py [--iters 20] [--rounds 4]
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mmfs_plugin  # noqa: F401
from mmfs_data.synthetic.generator import generate_synthetic_mvtecfs
from mmfs_plugin.engine import apply_fewshot_settings

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.03


def build_loaders(data: Path, coco_file: Path) -> dict:
    """Return the two training dataloaders and the resolved config."""
    cfg = Config.fromfile(str(ROOT / 'configs/demo/demo_5shot.py'))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.dataset.data_root = f'{data}/'
    cfg.fewshot.shots = None  # every instance: the same images on both sides
    cfg = apply_fewshot_settings(cfg)
    plugin = cfg.train_dataloader.copy()
    plugin.sampler = dict(type='FewShotBalancedSampler')
    plugin.batch_sampler = None
    classes = [name.split('/', 1)[1]
               for name in cfg.train_dataloader.dataset.dataset.metainfo.classes]
    coco = cfg.train_dataloader.copy()
    coco.sampler = dict(type='InfiniteSampler', shuffle=True)
    coco.batch_sampler = None
    coco.dataset = dict(type='CocoDataset', data_root='', ann_file=str(coco_file),
                        data_prefix=dict(img=''), metainfo=dict(classes=classes),
                        filter_cfg=dict(filter_empty_gt=True),
                        pipeline=cfg.train_dataloader.dataset.pipeline)
    return dict(cfg=cfg, plugin=Runner.build_dataloader(plugin, seed=0),
                coco=Runner.build_dataloader(coco, seed=0))


def time_block(model: torch.nn.Module, optim_wrapper, iterator, iters: int) -> float:
    """Seconds per training iteration over ``iters`` batches (data loading included)."""
    start = time.perf_counter()
    for _ in range(iters):
        model.train_step(next(iterator), optim_wrapper)
    return (time.perf_counter() - start) / iters


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--iters', type=int, default=20, help='iterations per block')
    parser.add_argument('--rounds', type=int, default=4, help='alternating rounds')
    args = parser.parse_args()
    init_default_scope('mmdet')
    with tempfile.TemporaryDirectory() as tmp:
        data, coco_file = Path(tmp) / 'demo', Path(tmp) / 'train_coco.json'
        generate_synthetic_mvtecfs(str(data))
        subprocess.run([sys.executable, str(ROOT / 'tools/dataset_converters/labelme2coco.py'),
                        str(data / 'image'), str(coco_file),
                        '--image-dir', str(Path(tmp) / 'embedded')], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # labelme2coco reads both splits; keep the training images only
        doc = json.loads(coco_file.read_text())
        keep = {img['id'] for img in doc['images'] if '/training/' in img['file_name']}
        doc['images'] = [img for img in doc['images'] if img['id'] in keep]
        doc['annotations'] = [a for a in doc['annotations'] if a['image_id'] in keep]
        for img in doc['images']:
            img['file_name'] = str((coco_file.parent / img['file_name']).resolve())
        coco_file.write_text(json.dumps(doc))

        loaders = build_loaders(data, coco_file)
        cfg = loaders['cfg']
        model_cfg = cfg.model.copy()
        model_cfg.pop('frozen_parameters', None)
        model_cfg['type'] = 'FasterRCNN'
        model = MODELS.build(model_cfg)
        model.train()
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
        iters = {name: iter(loaders[name]) for name in ('plugin', 'coco')}
        time_block(model, optim_wrapper, iters['plugin'], 3)  # warm-up
        time_block(model, optim_wrapper, iters['coco'], 3)
        times = {'plugin': [], 'coco': []}
        for round_index in range(args.rounds):
            order = ('plugin', 'coco') if round_index % 2 == 0 else ('coco', 'plugin')
            for name in order:
                times[name].append(time_block(model, optim_wrapper, iters[name], args.iters))
    plugin, coco = statistics.median(times['plugin']), statistics.median(times['coco'])
    ratio = plugin / coco
    print(f'{"feed":<44} {"s/iter (median)":>16}')
    print(f'{"MVTecFSDataset + FewShotBalancedSampler":<44} {plugin:>16.4f}')
    print(f'{"CocoDataset (labelme2coco export) + Infinite":<44} {coco:>16.4f}')
    print(f'ratio plugin/coco = {ratio:.3f} (target <= {TARGET}): '
          f'{"PASS" if ratio <= TARGET else "FAIL"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
