"""The whole recipe on CPU: base training, surgery, 5-shot fine-tuning, test without the
training annotations, and mmdet's DetInferencer on the config file.

Runs the documented command lines (tools/train.py, tools/test.py) on the synthetic demo set with
the demo configs, as a user would, on a schedule of a few iterations: the test checks that the
steps work together (checkpoints, selection file, metrics, the config's label space), not how
well the detector learns, so it takes the same work on a fast and a slow machine and has no
wall-clock limit. What the recipe reaches is what ``make demo`` prints (README); the parts that
decide it (surgery, freezing, the cosine head, RetentiveTFA, the k-shot data) have their own
tests with exact values.
"""
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from .tool_runs import ROOT, data_root_options, run_command

#: Iterations of base training and of fine-tuning (the demo: 300 and 200).
BASE_ITERS, FINETUNE_ITERS = 20, 10
#: Detections kept at test time: every one (a detector of a few iterations is unsure).
SCORE_THR = 0.0


def run_tool(*args: str) -> subprocess.CompletedProcess:
    """Run a tool of the repo with the test's interpreter and two threads; fail with its
    output."""
    return run_command([sys.executable, *args], ROOT,
                       OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '2'))


@pytest.mark.slow
def test_base_surgery_finetune_test(demo_data: Path, tmp_path: Path) -> None:
    base_dir, ft_dir = tmp_path / 'base', tmp_path / '5shot'

    run_tool('tools/train.py', 'configs/demo/demo_base.py', '--work-dir', str(base_dir),
             '--cfg-options', *schedule(BASE_ITERS), *data_root_options(demo_data))
    base_ckpt = base_dir / f'iter_{BASE_ITERS}.pth'
    assert base_ckpt.is_file()

    run_tool('tools/train.py', 'configs/demo/demo_5shot.py', '--work-dir', str(ft_dir),
             '--cfg-options', f'fewshot.base_checkpoint={base_ckpt}', *schedule(FINETUNE_ITERS),
             *data_root_options(demo_data))
    ft_ckpt = ft_dir / f'iter_{FINETUNE_ITERS}.pth'
    assert ft_ckpt.is_file()
    selection = json.loads((ft_dir / 'kshot_selection.json').read_text())
    assert all(len(keys) == 5 for keys in selection['selection'].values())

    # Testing needs the test data only: the training annotations are absent here.
    test_dir, predictions = tmp_path / 'test', tmp_path / 'predictions.pkl'
    options = [option for option in data_root_options(demo_data)
               if not option.startswith('train_dataloader')]
    proc = run_tool('tools/test.py', 'configs/demo/demo_5shot.py', str(ft_ckpt), '--work-dir',
                    str(test_dir), '--out', str(predictions), '--cfg-options', *options,
                    f'model.test_cfg.rcnn.score_thr={SCORE_THR}',
                    f'train_dataloader.dataset.dataset.data_root={tmp_path}/absent/')
    print(proc.stdout[-2000:])
    [metrics_file] = test_dir.glob('*/*.json')
    metrics = json.loads(metrics_file.read_text())
    for key in ('fs/bbox_mAP', 'fs/bbox_bAP', 'fs/bbox_nAP', 'fs/bbox_nAP50', 'fs/acc',
                'fs/acc_base', 'fs/acc_novel'):
        assert key in metrics, key
    print({k: v for k, v in metrics.items() if k.startswith('fs/')})
    assert all(-1 <= metrics[key] <= 1 for key in metrics if key.startswith('fs/'))
    assert_inferencer_predicts_what_test_scored(ft_ckpt, predictions)


def schedule(iters: int) -> list:
    """``--cfg-options`` training for ``iters`` iterations with a checkpoint at the end."""
    return [f'train_cfg.max_iters={iters}', f'train_cfg.val_begin={iters + 1}',
            f'default_hooks.checkpoint.interval={iters}']  # no validation: tested once below


def assert_inferencer_predicts_what_test_scored(checkpoint: Path, predictions: Path) -> None:
    """mmdet's DetInferencer on the plugin config file (what demo/image_demo.py does) predicts
    the boxes, labels and scores tools/test.py scored: the config states the model its
    checkpoints hold."""
    from mmdet.apis import DetInferencer
    with open(predictions, 'rb') as f:
        scored = pickle.load(f)
    from mmengine.config import Config
    config = Config.fromfile(str(ROOT / 'configs/demo/demo_5shot.py'))
    config.model.test_cfg.rcnn.score_thr = SCORE_THR  # as tools/test.py ran
    inferencer = DetInferencer(model=config, weights=str(checkpoint), device='cpu',
                               show_progress=False)
    assert inferencer.model.dataset_meta['classes'][0] == 'bottle/broken_large'
    compared = 0
    for result in scored[:6]:
        [predicted] = inferencer(result['img_path'], return_datasamples=True)['predictions']
        ours, theirs = predicted.pred_instances, result['pred_instances']
        assert len(ours.scores) == len(theirs['scores']), result['img_path']
        n = min(len(theirs['scores']), 20)  # the 20 best: each is one of test.py's
        compared += n
        mine = np.concatenate([ours.bboxes[:n].numpy(), ours.scores[:n, None].numpy(),
                               ours.labels[:n, None].numpy()], axis=1)
        scored_rows = np.concatenate([theirs['bboxes'].numpy(), theirs['scores'][:, None].numpy(),
                                      theirs['labels'][:, None].numpy()], axis=1)
        for row in mine:  # matched row by row: equal scores may come in either order
            close = np.abs(scored_rows - row) <= [1e-3] * 4 + [1e-4, 0]
            assert close.all(axis=1).any(), (result['img_path'], row)
    assert compared > 0  # detections were compared
