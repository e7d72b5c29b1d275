"""tools/dataset_converters/neu_det_split.py: the documented NEU-DET train/test rule, on generated
ids."""
import runpy
from pathlib import Path

import pytest

TOOL = runpy.run_path(str(Path(__file__).resolve().parents[1] / 'tools' / 'dataset_converters'
                          / 'neu_det_split.py'))


def test_twenty_percent_of_each_file_name_class_are_held_out_the_same_way_every_time():
    ids = [f'{name}_{i}' for name in ('crazing', 'rolled-in_scale') for i in range(1, 301)]
    train, test = TOOL['split_ids'](ids)
    assert len(test) == 120 and len(train) == 480 and not set(train) & set(test)
    assert sum(i.startswith('crazing') for i in test) == 60
    assert train == sorted(train) and test == sorted(test)
    assert TOOL['split_ids'](list(reversed(ids))) == (train, test)  # input order is irrelevant
    other = TOOL['split_ids'](ids, seed=1)[1]
    assert other != test


def test_ids_must_name_their_class():
    with pytest.raises(ValueError, match='not an id'):
        TOOL['split_ids'](['crazing'])


def test_the_shipped_lists_follow_the_rule():
    lists = Path(__file__).resolve().parents[1] / 'configs' / '_base_' / 'datasets' / 'neu_det_splits'
    train = lists.joinpath('train.txt').read_text().split()
    test = lists.joinpath('test.txt').read_text().split()
    assert (len(train), len(test)) == (1440, 360)
    assert TOOL['split_ids'](train + test) == (train, test)
