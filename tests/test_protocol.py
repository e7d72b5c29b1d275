"""The pure protocol steps over data_list entries: label space, candidates, selection, policy."""
import pytest

from mmfs_data.fewshot.kshot import (KShotSelection, ObjectRef, canonical_order,
                                      instance_sort_key)
from mmfs_data.fewshot.label_space import resolve_label_space
from mmfs_data.fewshot.protocol import (apply_selection, draw_selection, kshot_candidates,
                                          resolve_selection)

CLASSES = ('dent', 'scratch', 'crack')  # crack is novel


def entry(name, *instances):
    """An entry with instances given as (label, key, ignore_flag)."""
    return dict(img_path=f'{name}.png', img_id=name, height=10, width=10, instances=[
        dict(bbox=[0, 0, 1, 1], bbox_label=label, ignore_flag=flag, instance_key=key)
        for label, key, flag in instances])


ENTRIES = [
    entry('a', (0, 'a#0', 0), (2, 'a#1', 0), (-1, 'a#2', 1)),  # a dent, a crack, __ignore__
    entry('b', (1, 'b#0', 0), (1, 'b#1', 1)),  # a scratch, a crowd/difficult scratch
    entry('c', (2, 'c#0', 0)),
]


@pytest.mark.parametrize('setting, classes, base, novel', [
    ('base', ('dent', 'scratch'), ('dent', 'scratch'), ()),
    ('gfsod', CLASSES, ('dent', 'scratch'), ('crack',)),
    ('fsod', ('crack',), (), ('crack',)),
])
def test_label_space_of_each_setting(setting, classes, base, novel):
    space = resolve_label_space(CLASSES, dict(novel=['crack']), setting)
    assert (space.classes, space.base_classes, space.novel_classes) == (classes, base, novel)
    assert space.all_classes == CLASSES and space.num_classes == len(classes)


def test_label_space_errors():
    with pytest.raises(ValueError, match='setting must be one of'):
        resolve_label_space(CLASSES, None, 'novel')
    with pytest.raises(ValueError, match='label space is empty'):
        resolve_label_space(CLASSES, None, 'fsod')
    with pytest.raises(ValueError, match='not among the dataset classes'):
        resolve_label_space(CLASSES, dict(novel=['hole']), 'gfsod')
    with pytest.raises(ValueError, match=r"\['crak'\] are not among .*'crak': did you mean 'crack'\?"):
        resolve_label_space(CLASSES, dict(novel=['crak']), 'gfsod')


def test_candidates_are_the_non_ignored_instances_of_the_label_space():
    space = resolve_label_space(CLASSES, dict(novel=['crack']), 'base')
    assert kshot_candidates(ENTRIES, space) == {'dent': ['a#0'], 'scratch': ['b#0']}
    gfsod = resolve_label_space(CLASSES, dict(novel=['crack']), 'gfsod')
    assert kshot_candidates(ENTRIES, gfsod)['crack'] == ['a#1', 'c#0']


def test_a_repeated_or_missing_key_is_an_error():
    space = resolve_label_space(CLASSES)
    with pytest.raises(ValueError, match=r"b\.png: instances\[0\]\.instance_key: 'a#0' also "
                                         r"names an instance of a\.png"):
        kshot_candidates([ENTRIES[0], entry('b', (0, 'a#0', 0))], space)
    bare = entry('d', (0, 'x', 0))
    del bare['instances'][0]['instance_key']
    with pytest.raises(ValueError, match='instance_key: missing'):
        kshot_candidates([bare], space)


def test_policies_turn_unselected_instances_into_ignore_regions_drop_or_keep_them():
    space = resolve_label_space(CLASSES, dict(novel=['crack']), 'gfsod')
    selected = {'a#1': 'crack'}  # only image a is kept

    def flags(policy):
        (kept,) = apply_selection(ENTRIES, space, selected, policy)
        return [(i['instance_key'], i['bbox_label'], i['ignore_flag'])
                for i in kept['instances']]

    assert flags('ignore') == [('a#0', 0, 1), ('a#1', 2, 0), ('a#2', -1, 1)]
    assert flags('drop') == [('a#1', 2, 0), ('a#2', -1, 1)]
    assert flags('keep') == [('a#0', 0, 0), ('a#1', 2, 0), ('a#2', -1, 1)]


def test_relabelling_into_a_smaller_label_space():
    base = resolve_label_space(CLASSES, dict(novel=['crack']), 'fsod')  # crack only: label 0
    out = apply_selection(ENTRIES, base, None, 'ignore')
    assert [[(i['bbox_label'], i['ignore_flag']) for i in e['instances']] for e in out] == [
        [(-1, 1), (0, 0), (-1, 1)], [(-1, 1), (-1, 1)], [(0, 0)]]
    dropped = apply_selection(ENTRIES, base, None, 'drop')  # as for a test set
    assert [[i['instance_key'] for i in e['instances']] for e in dropped] == [
        ['a#1', 'a#2'], [], ['c#0']]
    assert ENTRIES[0]['instances'][1]['bbox_label'] == 2  # the input is left unchanged


def test_draw_and_check_a_selection():
    space = resolve_label_space(CLASSES, dict(novel=['crack']), 'gfsod')
    candidates = kshot_candidates(ENTRIES, space)
    selection = draw_selection(candidates, space, shots=1, base_shots='all', seed=0)
    assert [len(selection.selection[name]) for name in CLASSES] == [1, 1, 1]
    refs = {inst['instance_key']: ObjectRef(e['img_path'], tuple(inst['bbox']))
            for e in ENTRIES for inst in e['instances']}
    assert resolve_selection(selection, candidates, refs, space, 'sel.json')[1] == {}
    stale = KShotSelection(seed=0, shots=1, base_shots=None, classes=list(CLASSES),
                           selection={'crack': ['z#0']})
    with pytest.raises(ValueError, match=r"sel\.json: selection\.crack\[0\]: 'z#0' is not"):
        resolve_selection(stale, candidates, refs, space, 'sel.json')


def test_a_selection_of_images_this_dataset_lacks_names_data_root():
    """No image of the selection is one of the dataset (as named relative to data_root):
    another data_root, or another dataset, rather than changed annotations."""
    space = resolve_label_space(CLASSES, dict(novel=['crack']), 'gfsod')
    candidates = kshot_candidates(ENTRIES, space)
    refs = {inst['instance_key']: ObjectRef(e['img_path'], tuple(inst['bbox']))
            for e in ENTRIES for inst in e['instances']}
    elsewhere = KShotSelection(seed=0, shots=1, base_shots=None, classes=list(CLASSES),
                               selection={'crack': ['x.json#1']},
                               objects={'x.json#1': ObjectRef('other/a.png', (5, 5, 9, 9))})
    with pytest.raises(ValueError, match=r"selection\.crack\[0\]: the shot 'x\.json#1' .*"
                       r"Keys and image paths in a selection file are relative to the "
                       r"dataset's data_root \('/data/R/' here\), and none of its images is an "
                       r"image of this dataset"):
        resolve_selection(elsewhere, candidates, refs, space, 'sel.json', ['/data/R/'])
    # one of its images is here (a box moved): the annotations changed
    moved = KShotSelection(seed=0, shots=1, base_shots=None, classes=list(CLASSES),
                           selection={'crack': ['a#1']},
                           objects={'a#1': ObjectRef('a.png', (5, 5, 9, 9))})
    with pytest.raises(ValueError, match=r"here 'a#1' is a\.png box .*annotations changed"):
        resolve_selection(moved, candidates, refs, space, 'sel.json', ['/data/R/'])


def test_canonical_order_of_every_key_form():
    keys = ['b.json#10', 'b.json#2', 'a.json#0', 'VOC2007/Annotations/x.xml#1']
    assert canonical_order(keys) == ['VOC2007/Annotations/x.xml#1', 'a.json#0', 'b.json#2',
                                     'b.json#10']
    assert canonical_order(['12', '3', '100']) == ['3', '12', '100']  # COCO annotation ids
    with pytest.raises(ValueError, match='not an instance key'):
        instance_sort_key('a.json#x')
