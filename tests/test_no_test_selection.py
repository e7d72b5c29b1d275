"""No shipped config chooses a checkpoint on test images: a config that keeps the best
checkpoint (``save_best``) validates on a set other than its test set."""
import re
from pathlib import Path

import pytest
from mmengine.config import Config

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / 'configs').rglob('*.py')
                 if '_base_' not in p.parts)


def _images(loader: dict) -> list:
    """What a dataloader's dataset reads: (type, data_root, ann_file, data_prefix) at every
    level of its wrappers."""
    found, dataset = [], loader.get('dataset')
    while isinstance(dataset, dict):
        found.append(tuple(str(dataset.get(key)) for key in
                           ('type', 'data_root', 'ann_file', 'data_prefix')))
        dataset = dataset.get('dataset')
    return found


@pytest.mark.parametrize('config', CONFIGS)
def test_best_checkpoint_is_never_chosen_on_the_test_set(config):
    cfg = Config.fromfile(str(ROOT / config))
    save_best = ((cfg.get('default_hooks') or {}).get('checkpoint') or {}).get('save_best')
    if save_best:
        assert _images(cfg.val_dataloader) != _images(cfg.test_dataloader), (
            f'{config}: default_hooks.checkpoint.save_best={save_best!r} chooses the '
            'checkpoint on the test set (val_dataloader reads the test images)')


# the configs on NEU-DET's splits (`_neu-det_`, `_neu-det-novel_`; not CD-FSOD's NEU-DET files)
NEU_DET = [config for config in CONFIGS if re.search(r'_neu-det(-[a-z]+)?_', config)]


@pytest.mark.parametrize('config', NEU_DET)
def test_neu_det_choices_see_no_test_image_and_shots_no_validation_image(config):
    cfg = Config.fromfile(str(ROOT / config))
    split = {name: Path(cfg[name].dataset.dataset.ann_file).name
             for name in ('train_dataloader', 'val_dataloader', 'test_dataloader')}
    assert split['val_dataloader'] == 'val.txt' and split['test_dataloader'] == 'test.txt'
    # base training and the oracle read every training image; the k shots come from train, and
    # so does the base-model study, whose choice is made on val
    shipped_base = (config.startswith('configs/base_training/')
                    and '/base_model_study/' not in config)
    expected = 'trainval.txt' if shipped_base else 'train.txt'
    assert split['train_dataloader'] == expected
