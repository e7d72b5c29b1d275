"""Class tables and base/novel splits."""
import json

import pytest

from mmfs_data.fewshot.splits import get_split, named_splits
from mmfs_data.formats.mvtec_fs_table import mvtec_fs_classes


def test_mvtec_fs_table_order_and_counts():
    classes = mvtec_fs_classes()
    assert len(classes) == 68 and len(set(classes)) == 68
    assert classes[0] == 'bottle/broken_large' and classes[-1] == 'zipper/split_teeth'
    assert mvtec_fs_classes(['wood']) == [
        'wood/color', 'wood/hole', 'wood/scratch', 'wood/liquid']


@pytest.mark.parametrize('name, num_base, num_novel, novel_categories', [
    ('split1', 49, 19, {'bottle', 'cable', 'hazelnut', 'tile'}),
    ('split2', 48, 20, {'capsule', 'grid', 'metal_nut', 'zipper'}),
    ('split3', 48, 20, {'carpet', 'leather', 'pill', 'transistor'}),
])
def test_named_category_splits(name, num_base, num_novel, novel_categories):
    classes = mvtec_fs_classes()
    base, novel = get_split(name, classes)
    assert (len(base), len(novel)) == (num_base, num_novel)
    assert {c.split('/')[0] for c in novel} == novel_categories
    assert not set(base) & set(novel) and set(base) | set(novel) == set(classes)
    assert base == [c for c in classes if c in set(base)]  # dataset order kept
    assert all(c.split('/')[0] not in novel_categories for c in base)
    # screw and wood are base in every named category split
    assert {'screw', 'wood'} <= {c.split('/')[0] for c in base}


def test_defect_split_is_the_last_class_of_each_category():
    classes = mvtec_fs_classes()
    base, novel = get_split('defect_split1', classes)
    assert len(novel) == 14 and len(base) == 54
    last = {}
    for c in classes:
        last[c.split('/')[0]] = c
    assert novel == [last[cat] for cat in last]


def test_named_split_restricts_to_a_subset_of_classes():
    demo = mvtec_fs_classes(['bottle', 'screw'])[:8]
    base, novel = get_split('split1', demo)
    assert novel == [c for c in demo if c.startswith('bottle/')]
    assert base == [c for c in demo if c.startswith('screw/')]


def test_explicit_lists_and_errors(tmp_path):
    classes = ['a', 'b', 'c', 'd']
    assert get_split(dict(novel=['c']), classes) == (['a', 'b', 'd'], ['c'])
    assert get_split(dict(base=['a', 'b']), classes) == (['a', 'b'], ['c', 'd'])
    assert get_split(None, classes) == (classes, [])
    with pytest.raises(ValueError, match=r"\['x'\] are not among"):
        get_split(dict(novel=['x']), classes)
    with pytest.raises(ValueError, match='both base and novel'):
        get_split(dict(base=['a', 'c'], novel=['c']), classes)
    with pytest.raises(ValueError, match='neither base nor novel'):
        get_split(dict(base=['a'], novel=['c']), classes)
    with pytest.raises(ValueError, match='neither a named split'):
        get_split('split9', classes)
    split_file = tmp_path / 'my_split.json'
    split_file.write_text(json.dumps({'novel': ['b', 'd']}))
    assert get_split(str(split_file), classes) == (['a', 'c'], ['b', 'd'])
    with pytest.raises(ValueError, match='novel_categories'):
        get_split('split1', classes)  # category splits need "<category>/<defect>" names


@pytest.mark.parametrize('key', ['novel', 'base', 'novel_classes', 'base_classes'])
def test_a_class_list_given_as_a_string_is_an_error_naming_the_key(key):
    """``novel='crack'`` would be read letter by letter (``['c', 'r', 'a', 'c', 'k']``)."""
    with pytest.raises(TypeError, match=rf"class split: {key} must be a list or tuple of class "
                       rf"names, got str 'crack': {key}=\['crack'\]"):
        get_split({key: 'crack'}, ['crack', 'dent'])
    with pytest.raises(TypeError, match='novel_categories must be a list or tuple of '
                       'categories, got str'):
        get_split(dict(novel_categories='bottle'), ['bottle/crack', 'cable/cut'])
    assert get_split({key: ('crack',)}, ['crack', 'dent'])[key.startswith('novel')] == ['crack']


def test_an_unknown_or_repeated_split_key_is_an_error_not_a_base_class():
    """``novel_class=['dent']`` (a typo) was ignored: dent trained as a base class with every
    instance, and its AP counted in bAP; ``novel`` beside ``novel_classes`` (a user's split
    merged into a shipped config's) ignored one list."""
    classes = ['crack', 'dent', 'stain']
    with pytest.raises(ValueError, match=r"class split: unknown key 'novel_class' \(did you "
                       r"mean 'novel_classes'\?\); a split takes \['novel', 'novel_classes'"):
        get_split(dict(novel=['crack'], novel_class=['dent']), classes)
    for spec in (dict(novel=['crack'], novel_classes=['dent']),
                 dict(base=['stain'], base_classes=['stain'], novel=['crack', 'dent'])):
        with pytest.raises(ValueError, match=r"given together: .*class_split=dict\(_delete_=True"):
            get_split(spec, classes)
    with pytest.raises(ValueError, match=r"\['base', 'novel_categories'\] given together"):
        get_split(dict(novel_categories=['bottle'], base=['cable/cut']),
                  ['bottle/crack', 'cable/cut'])
    # notes and mmengine's _delete_ (left where no base split was merged) are no classes
    assert get_split(dict(_delete_=True, novel=['dent'], description='d', source='s',
                          _comment='c'), classes) == (['crack', 'stain'], ['dent'])


def test_named_splits_are_data():
    assert set(named_splits()) >= {'split1', 'split2', 'split3', 'defect_split1'}


def test_benchmark_splits_of_the_fsod_literature():
    from mmdet.datasets import CocoDataset, VOCDataset
    voc = VOCDataset.METAINFO['classes']
    for name, novel in (('voc_split1', ['bird', 'bus', 'cow', 'motorbike', 'sofa']),
                        ('voc_split2', ['aeroplane', 'bottle', 'cow', 'horse', 'sofa']),
                        ('voc_split3', ['boat', 'cat', 'motorbike', 'sheep', 'sofa'])):
        base, got = get_split(name, voc)
        assert got == [c for c in voc if c in novel] and len(base) == 15
        assert named_splits()[name]['source']
    coco = CocoDataset.METAINFO['classes']
    base, novel = get_split('coco_fsod', coco)
    assert (len(base), len(novel)) == (60, 20)
    assert 'person' in novel and 'truck' in base
