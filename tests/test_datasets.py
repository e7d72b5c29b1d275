"""LabelmeDataset and MVTecFSDataset: data_list schema, splits, k-shot, policies, errors."""
import json
import os

import numpy as np
import pytest
from mmdet.registry import DATASETS
from mmengine.registry import init_default_scope

import mmfs_plugin  # noqa: F401  (registers the datasets)
from mmfs_plugin.fewshot.kshot import KShotSelection
from mmfs_plugin.formats.labelme_records import LabelmeError

from .labelme_tree import small_tree_spec, square, write_tree

CLASSES = ('bottle/broken_large', 'bottle/broken_small', 'screw/scratch_head',
           'screw/thread_side')


@pytest.fixture()
def tree(tmp_path):
    root = str(tmp_path / 'mvtec_fs')
    write_tree(root, small_tree_spec())
    return root


def build(root, cache_dir, **kwargs):
    cfg = dict(type='MVTecFSDataset', data_root=root, cache_dir=cache_dir,
               metainfo=dict(classes=CLASSES), pipeline=[])
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def test_data_list_schema_and_metainfo(tree, tmp_path):
    ds = build(tree, str(tmp_path / 'cache'), class_split='split1')
    assert len(ds) == 6 + 6 + 2
    assert ds.metainfo['classes'] == CLASSES
    assert ds.metainfo['novel_classes'] == CLASSES[:2]  # bottle is novel in split1
    assert ds.metainfo['base_classes'] == CLASSES[2:]
    assert len(ds.metainfo['palette']) == 4
    info = ds.get_data_info(0)
    assert os.path.isfile(info['img_path'])
    assert (info['height'], info['width']) == (64, 64)
    inst = info['instances'][0]
    assert set(inst) >= {'bbox', 'bbox_label', 'ignore_flag', 'mask', 'instance_key'}
    assert inst['bbox'] == [4.0, 4.0, 14.0, 14.0]
    assert inst['mask'] == [[4.0, 4.0, 14.0, 4.0, 14.0, 14.0, 4.0, 14.0]]
    assert ds.get_cat_ids(0) == [0, 1]


def test_default_classes_follow_table_1(tree, tmp_path):
    ds = DATASETS.build(dict(type='MVTecFSDataset', data_root=tree, pipeline=[],
                             cache_dir=str(tmp_path / 'c')))
    classes = ds.metainfo['classes']
    assert classes[:3] == ('bottle/broken_large', 'bottle/broken_small', 'bottle/contamination')
    assert len(classes) == 3 + 5  # bottle and screw rows of Table 1


def test_test_split_and_ignore_regions(tree, tmp_path):
    ds = build(tree, str(tmp_path / 'c'), split='test', test_mode=True)
    assert len(ds) == 4
    screw = [ds.get_data_info(i) for i in range(len(ds))
             if 'screw' in ds.get_data_info(i)['json_path']][0]
    ignored = [inst for inst in screw['instances'] if inst['ignore_flag']]
    assert len(ignored) == 1 and ignored[0]['bbox_label'] == -1
    assert ds.get_cat_ids(ds.get_data_info(0)['img_id']) == [0]


def test_base_subset_turns_novel_instances_into_ignore_regions(tree, tmp_path):
    ds = build(tree, str(tmp_path / 'c'), class_split='split1', subset='base',
               filter_cfg=dict(filter_empty_gt=True))
    assert ds.metainfo['classes'] == CLASSES[2:]
    assert ds.metainfo['novel_classes'] == ()
    # bottle images hold only novel instances: filtered out as empty
    assert all('screw' in ds.get_data_info(i)['json_path'] for i in range(len(ds)))
    ds_all = build(tree, str(tmp_path / 'c'), class_split='split1', subset='base')
    bottle = ds_all.get_data_info(0)
    assert all(inst['ignore_flag'] == 1 for inst in bottle['instances'])


@pytest.mark.parametrize('k', [1, 3, 5])
@pytest.mark.parametrize('seed', range(5))
def test_kshot_keeps_min_k_available(tree, tmp_path, k, seed):
    ds = build(tree, str(tmp_path / 'c'), class_split='split1', shots=k, seed=seed)
    available = {CLASSES[0]: 6, CLASSES[1]: 6, CLASSES[2]: 6, CLASSES[3]: 2}
    counts = {name: 0 for name in CLASSES}
    for i in range(len(ds)):
        for inst in ds.get_data_info(i)['instances']:
            if not inst['ignore_flag']:
                counts[CLASSES[inst['bbox_label']]] += 1
    assert counts == {name: min(k, n) for name, n in available.items()}
    selected = ds.kshot_selection.selection
    assert {name: len(keys) for name, keys in selected.items()} == counts


def test_selection_file_reloads_to_the_same_data_list(tree, tmp_path):
    ds = build(tree, str(tmp_path / 'c'), class_split='split1', shots=3, seed=4)
    path = str(tmp_path / 'sel.json')
    ds.kshot_selection.save(path)
    again = build(tree, str(tmp_path / 'c'), class_split='split1', load_selection=path)
    assert [again.get_data_info(i) for i in range(len(again))] == \
        [ds.get_data_info(i) for i in range(len(ds))]
    assert KShotSelection.load(path).classes == list(CLASSES)
    wrong = build(tree, str(tmp_path / 'c'), class_split='split1', subset='base', shots=1)
    wrong.kshot_selection.save(path)
    with pytest.raises(ValueError, match='sel.json: classes'):
        build(tree, str(tmp_path / 'c'), class_split='split1', load_selection=path)


def test_unselected_policies(tree, tmp_path):
    # bottle images hold one broken_large and one broken_small instance each
    def flags(policy):
        ds = build(tree, str(tmp_path / 'c'), class_split='split1', shots=1, seed=0,
                   unselected=policy)
        return sorted(inst['ignore_flag'] for i in range(len(ds))
                      for inst in ds.get_data_info(i)['instances']), len(ds)
    ignore_flags, n_ignore = flags('ignore')
    drop_flags, n_drop = flags('drop')
    keep_flags, n_keep = flags('keep')
    assert n_ignore == n_drop == n_keep
    assert sum(drop_flags) == 0 and len(drop_flags) == 4  # the four selected instances
    assert sum(keep_flags) == 0 and len(keep_flags) > 4
    assert len(ignore_flags) == len(keep_flags) and sum(ignore_flags) == len(keep_flags) - 4


def test_mmdet_dataset_features(tree, tmp_path):
    full = build(tree, str(tmp_path / 'c'))
    subset = build(tree, str(tmp_path / 'c'), indices=[0, 2])
    assert len(subset) == 2
    assert subset.get_data_info(1)['img_path'] == full.get_data_info(2)['img_path']
    unserialized = build(tree, str(tmp_path / 'c'), serialize_data=False)
    assert unserialized.get_data_info(3) == full.get_data_info(3)
    small = build(tree, str(tmp_path / 'c'), filter_cfg=dict(min_size=100), serialize_data=False)
    assert len(small) == 0


def test_pipeline_loads_images_and_boxes(tree, tmp_path):
    init_default_scope('mmdet')
    ds = build(tree, str(tmp_path / 'c'), pipeline=[
        dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True,
                                             with_mask=True),
        dict(type='PackDetInputs')])
    sample = ds[0]
    gt = sample['data_samples'].gt_instances
    assert sample['inputs'].shape == (3, 64, 64)
    np.testing.assert_allclose(gt.bboxes.numpy()[0], [4, 4, 14, 14])
    assert gt.labels.tolist() == [0, 1]


def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def cache_files(cache_dir):
    return sorted(name for name in os.listdir(cache_dir) if name.startswith('dataset-'))


def test_cached_reload_equals_first_load_and_reads_no_file(tree, tmp_path, monkeypatch):
    first = build(tree, str(tmp_path / 'c'), class_split='split1', shots=2, on_error='skip')
    assert len(cache_files(tmp_path / 'c')) == 1

    def no_read(*args, **kwargs):
        raise AssertionError('a cached reload read an annotation file')

    monkeypatch.setattr('mmfs_plugin.datasets.labelme_dataset.read_labelme', no_read)
    second = build(tree, str(tmp_path / 'c'), class_split='split1', shots=2, on_error='skip')
    assert infos(second) == infos(first)
    assert second.metainfo == first.metainfo
    assert second.kshot_selection == first.kshot_selection
    assert second.skip_summary == first.skip_summary
    monkeypatch.undo()
    for _ in range(2):  # built, then read from its own cache entry
        unserialized = build(tree, str(tmp_path / 'c'), class_split='split1', shots=2,
                             on_error='skip', serialize_data=False)
        assert infos(unserialized) == infos(first)
    assert len(cache_files(tmp_path / 'c')) == 2


def test_cache_rebuilds_when_a_file_changes(tree, tmp_path):
    first = build(tree, str(tmp_path / 'c'))
    path = os.path.join(tree, first.get_data_info(0)['json_path'])
    doc = json.load(open(path))
    doc['shapes'][0]['points'] = square(2, 2, 30)
    json.dump(doc, open(path, 'w'))
    os.utime(path, ns=(1, 10**18))
    second = build(tree, str(tmp_path / 'c'))
    assert second.get_data_info(0)['instances'][0]['bbox'] == [2.0, 2.0, 32.0, 32.0]
    assert len(cache_files(tmp_path / 'c')) == 1  # replaced, not added
    stat = os.stat(path)  # the same size, another mtime
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    doc['shapes'][0]['points'] = square(3, 3, 30)
    with open(path, 'r+') as f:
        f.write(json.dumps(doc).ljust(stat.st_size))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert os.stat(path).st_size == stat.st_size
    third = build(tree, str(tmp_path / 'c'))
    assert third.get_data_info(0)['instances'][0]['bbox'] == [3.0, 3.0, 33.0, 33.0]


def test_cache_rebuilds_when_a_file_is_added_or_removed(tree, tmp_path):
    first = build(tree, str(tmp_path / 'c'), split='test')
    extra = {('bottle', 'testing', 'broken_large', '099'): [('broken_large', square(1, 1, 9))]}
    write_tree(tree, extra)
    added = build(tree, str(tmp_path / 'c'), split='test')
    assert len(added) == len(first) + 1
    assert 'image/bottle/testing/broken_large/099.json' in {
        info['json_path'] for info in infos(added)}
    os.remove(os.path.join(tree, 'image/bottle/testing/broken_large/099.json'))
    removed = build(tree, str(tmp_path / 'c'), split='test')
    assert infos(removed) == infos(first)


def test_cache_rebuilds_when_an_image_beside_the_files_is_removed(tree, tmp_path):
    path = os.path.join(tree, 'image/bottle/testing/broken_large/010.json')
    doc = json.load(open(path))
    doc['imagePath'] = 'elsewhere.png'  # the image is then found by the JSON's stem
    json.dump(doc, open(path, 'w'))
    assert build(tree, str(tmp_path / 'c'), split='test').get_data_info(0)['img_path'] \
        .endswith('010.png')
    os.rename(path[:-len('.json')] + '.png', os.path.join(tree, 'moved.png'))
    with pytest.raises(LabelmeError, match='image not found'):
        build(tree, str(tmp_path / 'c'), split='test')


def test_images_are_found_through_the_listing_and_a_missing_one_is_named(tree, tmp_path,
                                                                           monkeypatch):
    # An unnormalised data_root: the listing and the reader must still agree on the image paths.
    monkeypatch.chdir(os.path.dirname(tree))
    root = f'./{os.path.basename(tree)}/../{os.path.basename(tree)}/'
    ds = build(root, str(tmp_path / 'c'), split='test', cache=False)
    assert all(os.path.isfile(ds.get_data_info(i)['img_path']) for i in range(len(ds)))
    image = os.path.join(tree, 'image/bottle/testing/broken_large/010.png')
    os.remove(image)
    with pytest.raises(LabelmeError, match=r'010\.json.*imagePath.*image not found'):
        build(root, str(tmp_path / 'c'), split='test', cache=False)


def test_cache_rebuilds_when_arguments_change(tree, tmp_path):
    one = build(tree, str(tmp_path / 'c'), class_split='split1', shots=1, seed=0)
    other = build(tree, str(tmp_path / 'c'), class_split='split1', shots=1, seed=3)
    assert one.kshot_selection.seed == 0 and other.kshot_selection.seed == 3
    base = build(tree, str(tmp_path / 'c'), class_split='split1', subset='base')
    assert base.metainfo['classes'] == CLASSES[2:]
    merged = build(tree, str(tmp_path / 'c'), merge_same_names=True,
                   metainfo=dict(classes=('broken_large', 'broken_small', 'scratch_head',
                                          'thread_side')))
    assert merged.metainfo['classes'][0] == 'broken_large'
    assert len(cache_files(tmp_path / 'c')) == 4
    assert infos(build(tree, str(tmp_path / 'c'), class_split='split1', shots=1, seed=0)) == \
        infos(one)


def test_damaged_cache_file_is_rebuilt(tree, tmp_path):
    first = build(tree, str(tmp_path / 'c'))
    cache_file = os.path.join(tmp_path / 'c', cache_files(tmp_path / 'c')[0])
    with open(cache_file, 'r+b') as f:
        f.truncate(100)
    assert infos(build(tree, str(tmp_path / 'c'))) == infos(first)
    assert os.path.getsize(cache_file) > 100


def test_image_sizes_are_checked_when_asked(tree, tmp_path):
    path = os.path.join(tree, 'image/screw/testing/scratch_head/010.json')
    doc = json.load(open(path))
    doc['imageHeight'] = 65
    json.dump(doc, open(path, 'w'))
    trusted = build(tree, str(tmp_path / 'c'), split='test')  # the JSON's size, no image read
    assert {(info['height'], info['width']) for info in infos(trusted)} == {(64, 64), (65, 64)}
    with pytest.raises(LabelmeError, match=r'010\.json: imageHeight: disagrees with the image'):
        build(tree, str(tmp_path / 'c'), split='test', check_images=True)
    checked = build(tree, str(tmp_path / 'c'), split='test', check_images=True, on_error='skip')
    assert checked.skip_summary.by_reason == {'disagrees with the image': 2}
    assert len(checked) == len(trusted) - 1


def test_unknown_label_names_file_and_field(tree, tmp_path):
    path = os.path.join(tree, 'image/screw/training/thread_side/000.json')
    doc = json.load(open(path))
    doc['shapes'][0]['label'] = 'mystery'
    json.dump(doc, open(path, 'w'))
    with pytest.raises(LabelmeError, match=r'000\.json: shapes\[0\]\.label'):
        build(tree, str(tmp_path / 'c'))
    ds = build(tree, str(tmp_path / 'c'), on_error='skip')
    summary = ds.skip_summary
    assert summary.num_skipped == 1
    assert summary.num_parsed + summary.num_skipped == summary.num_read


def test_general_labelme_dataset_discovers_sorted_classes(tree, tmp_path):
    ds = DATASETS.build(dict(type='LabelmeDataset', data_root=tree, ann_file='image/screw',
                             pipeline=[], cache_dir=str(tmp_path / 'c')))
    assert ds.metainfo['classes'] == ('scratch_head', 'thread_side')
    assert len(ds) == 6 + 2 + 2
    assert ds.get_data_info(0)['json_path'].startswith('image/screw/')
