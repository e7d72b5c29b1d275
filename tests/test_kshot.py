"""The k-shot rule: seeded, stable, min(k, available), selection files."""
import json

import pytest

from mmfs_data.fewshot.kshot import (KShotSelection, canonical_order, check_seed,
                                        instance_key, select_kshot, shots_per_class)
from mmfs_data.fewshot.stable_random import stable_shuffle


def test_stable_shuffle_is_a_pinned_permutation():
    # Golden values: SHA-256 counter stream + Fisher-Yates; must never change.
    assert stable_shuffle(list(range(10)), 0, 'bottle/broken_large') == GOLDEN_SHUFFLE
    assert sorted(stable_shuffle(list(range(100)), 7, 'x')) == list(range(100))
    assert stable_shuffle(list(range(10)), 1, 'bottle/broken_large') != GOLDEN_SHUFFLE


GOLDEN_SHUFFLE = [2, 7, 6, 4, 8, 0, 9, 5, 1, 3]


def test_canonical_order_sorts_shape_index_numerically():
    keys = ['b.json#2', 'a.json#10', 'a.json#2']
    assert canonical_order(keys) == ['a.json#2', 'a.json#10', 'b.json#2']


def _candidates():
    return {
        'cat/a': [instance_key(f'img/{i:03d}.json', 0) for i in range(12)],
        'cat/b': [instance_key(f'img/{i:03d}.json', 1) for i in range(3)],
        'cat/c': [instance_key('img/100.json', s) for s in (0, 2, 11)],
    }


@pytest.mark.parametrize('k', [1, 3, 5])
@pytest.mark.parametrize('seed', range(5))
def test_selection_keeps_min_k_available(k, seed):
    cands = _candidates()
    sel = select_kshot(cands, {name: k for name in cands}, seed)
    for name, keys in cands.items():
        assert len(sel[name]) == min(k, len(keys))
        assert set(sel[name]) <= set(keys)
        assert sel[name] == canonical_order(sel[name])
    # deterministic, and the candidates' listing order does not matter
    shuffled = {name: list(reversed(keys)) for name, keys in cands.items()}
    assert select_kshot(shuffled, {name: k for name in cands}, seed) == sel


def test_seeds_differ_and_golden_selection():
    cands = _candidates()
    sels = [select_kshot(cands, {'cat/a': 3}, seed)['cat/a'] for seed in range(5)]
    assert len({tuple(s) for s in sels}) > 1
    assert sels[0] == GOLDEN_SELECTION


GOLDEN_SELECTION = ['img/005.json#0', 'img/008.json#0', 'img/010.json#0']


def test_shots_per_class():
    assert shots_per_class(['b1'], ['n1'], 5) == {'b1': 5, 'n1': 5}
    assert shots_per_class(['b1'], ['n1'], 5, 'all') == {'b1': None, 'n1': 5}
    assert shots_per_class(['b1'], ['n1'], 5, 10) == {'b1': 10, 'n1': 5}
    assert shots_per_class(['b1'], ['n1'], None) == {'b1': None, 'n1': None}
    with pytest.raises(ValueError, match='shots'):
        shots_per_class(['b1'], ['n1'], -1)


def test_selection_file_round_trip_and_errors(tmp_path):
    cands = _candidates()
    sel = KShotSelection(seed=2, shots=3, base_shots=None, classes=list(cands),
                         selection=select_kshot(cands, {n: 3 for n in cands}, 2))
    path = tmp_path / 'sel.json'
    sel.save(str(path))
    assert KShotSelection.load(str(path)) == sel
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps({'format': 'something else'}))
    with pytest.raises(ValueError, match=r'bad\.json: format'):
        KShotSelection.load(str(bad))
    data = json.loads(path.read_text())
    data['selection']['cat/a'] = ['no-hash-key']
    bad.write_text(json.dumps(data))
    with pytest.raises(ValueError, match='instance key'):
        KShotSelection.load(str(bad))


@pytest.mark.parametrize('seed', [1.0, True, '1', None])
def test_a_seed_that_is_not_an_int_is_refused_where_it_enters_the_rule(seed, tmp_path):
    """The rule hashes the seed's text: 1.0 or True would draw another selection than 1, one
    its selection file could not hold; '1' the same as 1, so it is refused alike."""
    assert check_seed(3) == 3
    with pytest.raises(ValueError, match=rf"^seed: must be an int, got {seed!r} "
                       rf"\({type(seed).__name__}\)$"):
        select_kshot(_candidates(), {'cat/a': 1}, seed)
    path = tmp_path / 'sel.json'
    KShotSelection(seed=1, shots=1, base_shots=None, classes=['cat/a']).save(str(path))
    data = json.loads(path.read_text())
    path.write_text(json.dumps(dict(data, seed=seed)))
    with pytest.raises(ValueError, match=r'sel\.json: seed: must be an int'):
        KShotSelection.load(str(path))
