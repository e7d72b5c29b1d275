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
    lists = (Path(__file__).resolve().parents[1] / 'configs' / '_base_' / 'datasets'
             / 'neu_det_splits')
    trainval, train, val, test = (lists.joinpath(f'{name}.txt').read_text().split()
                                  for name in ('trainval', 'train', 'val', 'test'))
    assert (len(trainval), len(train), len(val), len(test)) == (1440, 1152, 288, 360)
    assert TOOL['split_ids'](trainval + test) == (trainval, test)
    # val (where choices are made) is cut from trainval: never a test image, never a shot
    assert TOOL['split_ids'](trainval, seed=TOOL['VAL_SEED']) == (train, val)


def test_the_tool_writes_every_split(tmp_path, capsys):
    annotations = tmp_path / 'neu' / 'VOC' / 'Annotations'
    annotations.mkdir(parents=True)
    for i in range(1, 51):
        (annotations / f'patches_{i}.xml').write_text('<annotation/>')
    assert TOOL['main']([str(tmp_path / 'neu'), str(tmp_path / 'out')]) == 0
    sizes = {name: len((tmp_path / 'out' / f'{name}.txt').read_text().split())
             for name in ('trainval', 'train', 'val', 'test')}
    assert sizes == dict(trainval=40, train=32, val=8, test=10)
    assert '40 trainval, 32 train, 8 val, 10 test images' in capsys.readouterr().out
