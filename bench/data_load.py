"""Data-layer build time against one training epoch of the light demo model, side by side.

A training run builds its datasets once; what a user feels is whether that build is noticeable
next to training. This measures, on one machine in one run:

- the build of both splits of an MVTec-FS-shaped tree through ``FewShotDataset`` (every labelme
  file parsed with ``json.load``, every image header read with PIL), at 1x and 16x the MVTec-FS
  tree and on a tree of about 100,000 annotation files (the 1x tree's categories repeated under
  new names, as hard links);
- the light demo model's training time per iteration (``configs/demo/demo_base.py``, batch 4, on
  the 1x tree), hence the time of one epoch of each tree's training split;

and prints the build as a share of one epoch, with PASS when it is at most 5% (issue 13).

    OMP_NUM_THREADS=1 python bench/data_load.py [--scale 0.25] [--copies 1 16 82] [--iters 30]
"""
import argparse
import math
import os
import os.path as osp
import sys
import tempfile
import time
from typing import List, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import init_default_scope

import mmfs_plugin  # noqa: F401  (registers the plugin)
from mmfs_plugin.datasets import FewShotDataset
from mmfs_plugin.engine import FewShotRunner
from mmfs_data.formats.mvtec_fs_layout import IMAGE_FOLDER, list_annotation_files
from mmfs_data.formats.mvtec_fs_table import mvtec_fs_classes
from mmfs_data.synthetic import generate_synthetic_mvtecfs

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_BASE = osp.join(REPO, 'configs', 'demo', 'demo_base.py')
TARGET = 0.05  # the build may cost at most 5% of one epoch


def replicate(root: str, copies: int, out: str) -> List[str]:
    """Make ``out`` a tree of ``copies`` times ``root``'s categories under new names.

    The files are hard links: distinct files to the reader (each image is its own, not a
    duplicate of another annotation file's) at no extra disk space.

    Returns:
        list[str]: The class list of the new tree.
    """
    categories = sorted(os.listdir(osp.join(root, IMAGE_FOLDER)))
    classes = []
    for copy in range(copies):
        for category in categories:
            name = category if copy == 0 else f'{category}_copy{copy}'
            source = osp.join(root, IMAGE_FOLDER, category)
            for folder, _, files in os.walk(source):
                target = osp.join(out, IMAGE_FOLDER, name, osp.relpath(folder, source))
                os.makedirs(target, exist_ok=True)
                for file in files:
                    os.link(osp.join(folder, file), osp.join(target, file))
            classes += [f'{name}/{defect.split("/", 1)[1]}'
                        for defect in mvtec_fs_classes([category])]
    return classes


def build(root: str, classes: Sequence[str], split: str) -> FewShotDataset:
    """One split of a tree through FewShotDataset, as a training run builds it."""
    return FewShotDataset(
        dataset=dict(type='MVTecFSDataset', data_root=root, split=split,
                     metainfo=dict(classes=tuple(classes)), test_mode=split == 'test'),
        test_mode=split == 'test', pipeline=[], filter_cfg=None if split == 'test' else dict(
            filter_empty_gt=True))


class IterTimes(Hook):
    """Record the wall time after each training iteration."""

    def __init__(self) -> None:
        self.stamps: List[float] = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.stamps.append(time.perf_counter())


def seconds_per_iteration(root: str, iters: int, work_dir: str) -> Tuple[float, int]:
    """Train the light demo model on ``root`` and time its iterations after a warm-up.

    Returns:
        tuple[float, int]: Seconds per iteration (over the iterations after the warm-up) and
        the batch size.
    """
    cfg = Config.fromfile(DEMO_BASE)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.dataset.update(data_root=f'{root}/',
                                           metainfo=dict(classes=tuple(mvtec_fs_classes())))
    cfg.train_cfg.max_iters = iters
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=iters + 1,
                                        save_last=False)
    cfg.work_dir = work_dir
    runner = FewShotRunner.from_cfg(cfg)
    hook = IterTimes()
    runner.register_hook(hook)
    runner.train()
    warmup = min(10, iters // 3)
    timed = hook.stamps[warmup:]
    return (timed[-1] - timed[0]) / (len(timed) - 1), cfg.train_dataloader.batch_size


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Measure and print the table.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        int: 0 when every tree passes.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--scale', type=float, default=0.25,
                        help='image size scale of the synthetic MVTec-FS tree (default 0.25)')
    parser.add_argument('--copies', type=int, nargs='+', default=[1, 16, 82],
                        help='tree sizes in copies of MVTec-FS (82: about 100,000 files)')
    parser.add_argument('--iters', type=int, default=30,
                        help='training iterations timed for the epoch time (default 30)')
    args = parser.parse_args(argv)
    init_default_scope('mmdet')
    with tempfile.TemporaryDirectory() as work:
        base = osp.join(work, 'mvtec_fs')
        generate_synthetic_mvtecfs(base, like_mvtec_fs=True, scale=args.scale, seed=0)
        per_iter, batch = seconds_per_iteration(base, args.iters, osp.join(work, 'train'))
        rows, passed = [], True
        for copies in args.copies:
            root = osp.join(work, f'x{copies}')
            classes = replicate(base, copies, root)
            start = time.perf_counter()
            train = build(root, classes, 'train')
            test = build(root, classes, 'test')
            build_s = time.perf_counter() - start
            files = sum(len(list_annotation_files(root, split)) for split in ('train', 'test'))
            epoch_s = per_iter * math.ceil(len(train) / batch)
            share = build_s / epoch_s
            passed &= share <= TARGET
            rows.append((f'{copies}x', files, build_s, epoch_s, share))
    print(f'light demo model: {per_iter:.3f} s/iteration at batch {batch} '
          f'(OMP_NUM_THREADS={os.environ.get("OMP_NUM_THREADS", "unset")})')
    print(f'{"tree":>5} {"files":>8} {"build s":>9} {"epoch s":>9} {"build/epoch":>12}')
    for name, files, build_s, epoch_s, share in rows:
        print(f'{name:>5} {files:>8} {build_s:>9.2f} {epoch_s:>9.1f} {share:>11.2%}  '
              f'{"PASS" if share <= TARGET else "FAIL"} (<= {TARGET:.0%})')
    return 0 if passed else 1


if __name__ == '__main__':
    sys.exit(main())
