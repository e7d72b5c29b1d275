"""mmdet's own tools (``mmdet/.mim/tools`` in the mmdet wheel) run the plugin's configs: the
configs name their runner (``runner_type='mmdet.FewShotRunner'``) and load the plugin
(``custom_imports``), so base training, surgery and fine-tuning, and the few-shot test metrics
need nothing of ``tools/``."""
import json
import sys
from pathlib import Path

import mmdet

from .tool_runs import ROOT, data_root_options, run_command

MMDET_TOOLS = Path(mmdet.__file__).parent / '.mim' / 'tools'
ITERS = 4


def short(iters: int) -> list:
    """``--cfg-options`` of a run of ``iters`` iterations with a checkpoint at its end."""
    return [f'train_cfg.max_iters={iters}', f'train_cfg.val_begin={iters + 1}',
            f'default_hooks.checkpoint.interval={iters}']


def test_mmdet_train_and_test_run_the_demo_configs(demo_data: Path, tmp_path: Path) -> None:
    python = [sys.executable]
    base, finetuned = tmp_path / 'base', tmp_path / '5shot'
    run_command(python + [MMDET_TOOLS / 'train.py', 'configs/demo/demo_base.py', '--work-dir',
                          base, '--cfg-options', *short(ITERS),
                          *data_root_options(demo_data)], ROOT)
    proc = run_command(python + [
        MMDET_TOOLS / 'train.py', 'configs/demo/demo_5shot.py', '--work-dir', finetuned,
        '--cfg-options', *short(ITERS), f'fewshot.base_checkpoint={base / f"iter_{ITERS}.pth"}',
        *data_root_options(demo_data)], ROOT)
    assert 'Weight surgery (randinit): 6 classes copied by name' in proc.stdout + proc.stderr
    selection = json.loads((finetuned / 'kshot_selection.json').read_text())
    assert all(len(shots) == 5 for shots in selection['selection'].values())
    test_dir = tmp_path / 'test'
    run_command(python + [MMDET_TOOLS / 'test.py', 'configs/demo/demo_5shot.py',
                          finetuned / f'iter_{ITERS}.pth', '--work-dir', test_dir,
                          '--cfg-options', 'test_dataloader.dataset.indices=8',
                          *data_root_options(demo_data)], ROOT)
    [metrics_file] = [path for path in test_dir.glob('*/*.json')
                      if path.stem == path.parent.name]
    metrics = json.loads(metrics_file.read_text())
    assert {'fs/bbox_mAP', 'fs/bbox_bAP', 'fs/bbox_nAP'} <= set(metrics)
