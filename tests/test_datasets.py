"""FewShotDataset over the labelme datasets: data_list schema, splits, k-shot, policies, errors;
LabelmeDataset and MVTecFSDataset on their own."""
import json
import os

import numpy as np
import pytest
from mmdet.registry import DATASETS
from mmengine.registry import init_default_scope

import mmfs_plugin  # noqa: F401  (registers the datasets)
from mmfs_data.fewshot.kshot import KShotSelection
from mmfs_data.formats.labelme_records import LabelmeError

from .labelme_tree import small_tree_spec, write_tree

CLASSES = ('bottle/broken_large', 'bottle/broken_small', 'screw/scratch_head',
           'screw/thread_side')


@pytest.fixture()
def tree(tmp_path):
    root = str(tmp_path / 'mvtec_fs')
    write_tree(root, small_tree_spec())
    return root


def mvtec(root, **kwargs):
    return dict(dict(type='MVTecFSDataset', data_root=root, metainfo=dict(classes=CLASSES)),
                **kwargs)


def build(root, inner=None, **kwargs):
    cfg = dict(type='FewShotDataset', dataset=mvtec(root, **(inner or {})), pipeline=[])
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def test_data_list_schema_and_metainfo(tree):
    ds = build(tree, class_split='split1')
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
    assert inst['instance_key'] == 'image/bottle/training/broken_large/000.json#0'
    assert ds.get_cat_ids(0) == [0, 1]


def test_metainfo_is_known_without_reading_the_data(tmp_path):
    # lazy: the label space comes from the config alone, even with no data on disk
    ds = DATASETS.build(dict(type='FewShotDataset', dataset=mvtec(str(tmp_path / 'nothing')),
                             class_split='split1', setting='base', lazy_init=True))
    assert ds.metainfo['classes'] == CLASSES[2:]
    mvtec_default = DATASETS.build(dict(
        type='FewShotDataset', setting='fsod', class_split='split1', lazy_init=True,
        dataset=dict(type='MVTecFSDataset', data_root=str(tmp_path / 'nothing'))))
    assert len(mvtec_default.metainfo['classes']) == 19  # the novel classes of split1


def test_default_classes_follow_table_1(tree):
    ds = DATASETS.build(dict(type='MVTecFSDataset', data_root=tree, pipeline=[],
                             categories=['bottle', 'screw']))
    classes = ds.metainfo['classes']
    assert classes[:3] == ('bottle/broken_large', 'bottle/broken_small', 'bottle/contamination')
    assert len(classes) == 3 + 5  # bottle and screw rows of Table 1
    assert len(DATASETS.build(dict(type='MVTecFSDataset', data_root=tree, lazy_init=True))
               .metainfo['classes']) == 68


def test_test_split_keeps_ignore_regions_and_drops_other_classes(tree):
    ds = build(tree, inner=dict(split='test', test_mode=True), test_mode=True)
    assert len(ds) == 4
    screw = [info for info in infos(ds) if 'screw' in info['json_path']][0]
    ignored = [inst for inst in screw['instances'] if inst['ignore_flag']]
    assert len(ignored) == 1 and ignored[0]['bbox_label'] == -1
    base = build(tree, inner=dict(split='test', test_mode=True), test_mode=True,
                 class_split='split1', setting='base')
    bottle = [info for info in infos(base) if 'bottle' in info['json_path']]
    assert len(bottle) == 2 and all(not info['instances'] for info in bottle)


def test_base_setting_turns_novel_instances_into_ignore_regions(tree):
    ds = build(tree, class_split='split1', setting='base', filter_cfg=dict(filter_empty_gt=True))
    assert ds.metainfo['classes'] == CLASSES[2:]
    assert ds.metainfo['novel_classes'] == ()
    # bottle images hold only novel instances: filtered out as empty
    assert all('screw' in info['json_path'] for info in infos(ds))
    ds_all = build(tree, class_split='split1', setting='base')
    bottle = ds_all.get_data_info(0)
    assert all(inst['ignore_flag'] == 1 and inst['bbox_label'] == -1
               for inst in bottle['instances'])


def test_fsod_setting_is_the_novel_classes(tree):
    ds = build(tree, class_split='split1', setting='fsod', shots=1)
    assert ds.metainfo['classes'] == CLASSES[:2]
    assert ds.metainfo['base_classes'] == ()
    assert {name: len(keys) for name, keys in ds.kshot_selection.selection.items()} == {
        CLASSES[0]: 1, CLASSES[1]: 1}


@pytest.mark.parametrize('k', [1, 3, 5])
@pytest.mark.parametrize('seed', range(5))
def test_kshot_keeps_min_k_available(tree, k, seed):
    ds = build(tree, class_split='split1', shots=k, seed=seed)
    available = {CLASSES[0]: 6, CLASSES[1]: 6, CLASSES[2]: 6, CLASSES[3]: 2}
    counts = {name: 0 for name in CLASSES}
    for info in infos(ds):
        for inst in info['instances']:
            if not inst['ignore_flag']:
                counts[CLASSES[inst['bbox_label']]] += 1
    assert counts == {name: min(k, n) for name, n in available.items()}
    selected = ds.kshot_selection.selection
    assert {name: len(keys) for name, keys in selected.items()} == counts


def test_selection_file_reloads_to_the_same_data_list(tree, tmp_path):
    ds = build(tree, class_split='split1', shots=3, seed=4)
    path = str(tmp_path / 'sel.json')
    ds.kshot_selection.save(path)
    again = build(tree, class_split='split1', load_selection=path)
    assert infos(again) == infos(ds)
    assert KShotSelection.load(path).classes == list(CLASSES)
    wrong = build(tree, class_split='split1', setting='base', shots=1)
    wrong.kshot_selection.save(path)
    with pytest.raises(ValueError, match='sel.json: classes'):
        build(tree, class_split='split1', load_selection=path)


def test_a_stale_selection_file_is_an_error_naming_the_instance(tree, tmp_path):
    ds = build(tree, class_split='split1', shots=1)
    path = str(tmp_path / 'sel.json')
    ds.kshot_selection.selection[CLASSES[0]] = ['image/bottle/training/nowhere.json#0']
    ds.kshot_selection.save(path)
    with pytest.raises(ValueError, match=r'sel\.json: selection\.bottle/broken_large.*nowhere'):
        build(tree, class_split='split1', load_selection=path)


def test_unselected_policies(tree):
    # bottle images hold one broken_large and one broken_small instance each
    def flags(policy):
        ds = build(tree, class_split='split1', shots=1, seed=0, unselected=policy)
        return sorted(inst['ignore_flag'] for info in infos(ds)
                      for inst in info['instances']), len(ds)
    ignore_flags, n_ignore = flags('ignore')
    drop_flags, n_drop = flags('drop')
    keep_flags, n_keep = flags('keep')
    assert n_ignore == n_drop == n_keep
    assert sum(drop_flags) == 0 and len(drop_flags) == 4  # the four selected instances
    assert sum(keep_flags) == 0 and len(keep_flags) > 4
    assert len(ignore_flags) == len(keep_flags) and sum(ignore_flags) == len(keep_flags) - 4


def test_mmdet_dataset_features(tree):
    full = build(tree)
    subset = build(tree, indices=[0, 2])
    assert len(subset) == 2
    assert subset.get_data_info(1)['img_path'] == full.get_data_info(2)['img_path']
    unserialized = build(tree, serialize_data=False)
    assert unserialized.get_data_info(3) == full.get_data_info(3)
    with pytest.raises(ValueError, match='no training image is left'):
        build(tree, filter_cfg=dict(min_size=100))  # every image is smaller
    small = build(tree, filter_cfg=dict(min_size=100), test_mode=True)
    assert len(small) == len(full)  # mmdet filters no test image


def test_pipeline_loads_images_and_boxes(tree):
    init_default_scope('mmdet')
    ds = build(tree, pipeline=[
        dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True,
                                             with_mask=True),
        dict(type='PackDetInputs')])
    sample = ds[0]
    gt = sample['data_samples'].gt_instances
    assert sample['inputs'].shape == (3, 64, 64)
    np.testing.assert_allclose(gt.bboxes.numpy()[0], [4, 4, 14, 14])
    assert gt.labels.tolist() == [0, 1]


def test_a_file_added_later_is_read(tree):
    first = build(tree, inner=dict(split='test'))
    write_tree(tree, {('bottle', 'testing', 'broken_large', '099'): [
        ('broken_large', [[1, 1], [9, 1], [9, 9], [1, 9]])]})
    added = build(tree, inner=dict(split='test'))
    assert len(added) == len(first) + 1
    assert 'image/bottle/testing/broken_large/099.json' in {
        info['json_path'] for info in infos(added)}


def test_a_missing_image_is_named(tree):
    path = os.path.join(tree, 'image/bottle/testing/broken_large/010.json')
    doc = json.load(open(path))
    doc['imagePath'] = 'elsewhere.png'  # the image is then found by the JSON's stem
    json.dump(doc, open(path, 'w'))
    assert build(tree, inner=dict(split='test')).get_data_info(0)['img_path'] \
        .endswith('010.png')
    os.rename(path[:-len('.json')] + '.png', os.path.join(tree, 'moved.png'))
    with pytest.raises(LabelmeError, match=r'010\.json.*imagePath.*image not found'):
        build(tree, inner=dict(split='test'))


def test_unknown_label_names_file_and_field(tree):
    path = os.path.join(tree, 'image/screw/training/thread_side/000.json')
    doc = json.load(open(path))
    doc['shapes'][0]['label'] = 'mystery'
    json.dump(doc, open(path, 'w'))
    with pytest.raises(LabelmeError, match=r'000\.json: shapes\[0\]\.label'):
        build(tree)
    ds = DATASETS.build(mvtec(tree, on_error='skip', pipeline=[]))
    summary = ds.skip_summary
    assert summary.num_skipped == 1
    assert summary.num_parsed + summary.num_skipped == summary.num_read


def test_a_file_cut_in_half_is_counted_and_named_when_skipped(tmp_path, monkeypatch):
    flat_labelme(tmp_path, {'a': ['dent'], 'b': ['dent']})
    cut = tmp_path / 'b.json'
    text = cut.read_text()
    cut.write_text(text[:len(text) // 2])
    with pytest.raises(LabelmeError, match=r'b\.json: json: invalid JSON'):
        DATASETS.build(dict(type='LabelmeDataset', data_root=str(tmp_path), pipeline=[]))
    logged = []
    monkeypatch.setattr('mmfs_plugin.datasets.labelme_dataset.print_log',
                        lambda msg, **kwargs: logged.append(msg))
    ds = DATASETS.build(dict(type='LabelmeDataset', data_root=str(tmp_path), on_error='skip',
                             metainfo=dict(classes=('dent',)), pipeline=[]))
    assert len(ds) == 1 and ds.get_data_info(0)['json_path'] == 'a.json'
    summary = ds.skip_summary
    assert (summary.num_files, summary.num_files_skipped) == (2, 1)
    assert (summary.num_read, summary.num_parsed, summary.num_skipped) == (1, 1, 0)
    assert [(skip.file, skip.field, skip.reason) for skip in summary.files_skipped] == [
        (str(cut), 'json', 'invalid JSON')]
    skipped = [msg for msg in logged if 'skipped input' in msg]
    assert len(skipped) == 1
    assert f'  {cut}: json: invalid JSON' in skipped[0].splitlines()
    assert '1 file skipped whole' in skipped[0]


def test_general_labelme_dataset_discovers_sorted_classes(tree):
    ds = DATASETS.build(dict(type='LabelmeDataset', data_root=tree, ann_file='image/screw',
                             pipeline=[]))
    assert ds.metainfo['classes'] == ('scratch_head', 'thread_side')
    assert len(ds) == 6 + 2 + 2
    assert ds.get_data_info(0)['json_path'].startswith('image/screw/')


def test_an_id_list_names_json_files(tree, tmp_path):
    ids = tmp_path / 'ids.txt'
    ids.write_text('image/screw/training/thread_side/000\n'
                   'image/screw/training/thread_side/001.json\n')
    ds = DATASETS.build(dict(type='LabelmeDataset', data_root=tree, ann_file=str(ids),
                             metainfo=dict(classes=('thread_side',)), pipeline=[]))
    assert [info['json_path'] for info in infos(ds)] == [
        'image/screw/training/thread_side/000.json', 'image/screw/training/thread_side/001.json']


def test_fewshot_arguments_on_labelme_dataset_point_to_the_wrapper(tree):
    with pytest.raises(TypeError, match='FewShotDataset'):
        DATASETS.build(mvtec(tree, shots=5))


def test_fewshot_dataset_needs_the_classes_in_the_config(tree):
    with pytest.raises(ValueError, match=r"not known from the config.*labels found there: "
                                         r"\['scratch_head', 'thread_side'\]"):
        DATASETS.build(dict(type='FewShotDataset', dataset=dict(
            type='LabelmeDataset', data_root=tree, ann_file='image/screw')))


def flat_labelme(root, files):
    """Write labelme files (stem -> labels), each with its own 64x64 image."""
    from .labelme_tree import square, write_tree_file
    for stem, labels in files.items():
        write_tree_file(str(root), stem, [(label, square(4 + 10 * i, 4, 8))
                                          for i, label in enumerate(labels)])


def test_class_names_given_as_a_string_or_twice_are_errors(tmp_path):
    flat_labelme(tmp_path, {'a': ['balloon']})
    with pytest.raises(TypeError, match=r"classes: must be a sequence of class names, got the "
                                        r"str 'balloon'"):
        DATASETS.build(dict(type='LabelmeDataset', data_root=str(tmp_path),
                            metainfo=dict(classes=('balloon')), pipeline=[]))
    with pytest.raises(ValueError, match=r"listed more than once: \['balloon'\]"):
        DATASETS.build(dict(type='LabelmeDataset', data_root=str(tmp_path),
                            metainfo=dict(classes=('balloon', 'kite', 'balloon')), pipeline=[]))
    with pytest.raises(TypeError, match='got the str'):
        DATASETS.build(dict(type='FewShotDataset', dataset=dict(
            type='CocoDataset', ann_file='x.json', metainfo=dict(classes='balloon'))))


def test_two_annotation_files_of_one_image(tmp_path):
    # a.json and its copy both name a.png: one physical object, not two shots
    flat_labelme(tmp_path, {'a': ['balloon'], 'b': ['kite']})
    (tmp_path / 'a - Copy.json').write_text((tmp_path / 'a.json').read_text())
    inner = dict(type='LabelmeDataset', data_root=str(tmp_path),
                 metainfo=dict(classes=('balloon', 'kite')))
    with pytest.raises(LabelmeError, match=r'a\.json: imagePath: image annotated twice .*a\.png'
                                           r'.* also annotated by .*a - Copy\.json'):
        DATASETS.build(dict(inner, pipeline=[]))
    ds = DATASETS.build(dict(type='FewShotDataset', dataset=dict(inner, on_error='skip'),
                             shots=2, pipeline=[]))
    assert len(ds.kshot_selection.selection['balloon']) == 1
    assert len(ds) == 2


def test_one_label_space_for_every_dataset_of_a_config(tmp_path):
    from mmengine.config import Config
    from mmfs_plugin.engine import apply_fewshot_settings
    flat_labelme(tmp_path / 'train', {'t1': ['apple', 'pear']})
    flat_labelme(tmp_path / 'test', {'s1': ['apple', 'banana', 'pear']})

    def config(train_classes, test_classes):
        def dataset(folder, classes):
            inner = dict(type='LabelmeDataset', data_root=str(tmp_path / folder))
            if classes:
                inner['metainfo'] = dict(classes=classes)
            return dict(type='FewShotDataset', dataset=inner, pipeline=[])
        return Config(dict(fewshot=dict(setting='gfsod'),
                           model=dict(roi_head=dict(bbox_head=dict(num_classes=1))),
                           train_dataloader=dict(dataset=dataset('train', train_classes)),
                           test_dataloader=dict(dataset=dataset('test', test_classes))))

    with pytest.raises(ValueError, match=r"not known from the config.*labels found there: "
                                         r"\['apple', 'pear'\]"):
        apply_fewshot_settings(config(None, None))
    with pytest.raises(ValueError, match='different label spaces'):
        apply_fewshot_settings(config(('apple', 'pear'), ('apple', 'banana', 'pear')))
    fruit = ('apple', 'banana', 'pear')
    cfg = apply_fewshot_settings(config(fruit, fruit))
    assert cfg.model.roi_head.bbox_head.num_classes == 3
    train = DATASETS.build(cfg.train_dataloader.dataset)
    test = DATASETS.build(cfg.test_dataloader.dataset)
    assert [i['bbox_label'] for i in train.get_data_info(0)['instances']] == [0, 2]
    assert [i['bbox_label'] for i in test.get_data_info(0)['instances']] == [0, 1, 2]


def test_labels_differing_only_in_case_or_spaces_are_warned(tmp_path, monkeypatch):
    flat_labelme(tmp_path, {'a': ['Scratch', 'scratch', 'scratch ']})
    logged = []
    monkeypatch.setattr('mmfs_plugin.datasets.labelme_dataset.print_log',
                        lambda msg, **kwargs: logged.append(msg))
    ds = DATASETS.build(dict(type='LabelmeDataset', data_root=str(tmp_path), pipeline=[]))
    assert ds.metainfo['classes'] == ('Scratch', 'scratch', 'scratch ')
    assert any("['Scratch', 'scratch', 'scratch ']" in msg and 'case or surrounding spaces'
               in msg for msg in logged)
    assert any('inferred from the labels' in msg for msg in logged)


def test_images_the_size_filter_drops_provide_no_shot(tmp_path):
    from .labelme_tree import square, write_tree_file
    for i in range(4):  # two big and two small images of one class
        write_tree_file(str(tmp_path), f'big{i}', [('dent', square(4, 4, 10))], size=64)
        write_tree_file(str(tmp_path), f'small{i}', [('dent', square(4, 4, 10))], size=32)
    ds = DATASETS.build(dict(
        type='FewShotDataset', dataset=dict(type='LabelmeDataset', data_root=str(tmp_path),
                                            metainfo=dict(classes=('dent',))),
        shots=3, filter_cfg=dict(min_size=48), pipeline=[]))
    assert all(key.startswith('big') for key in ds.kshot_selection.selection['dent'])
    assert len(ds.kshot_selection.selection['dent']) == 3 == len(ds)


def test_base_setting_trains_every_base_instance_whatever_the_shots():
    from mmengine.config import Config
    from mmfs_plugin.engine import apply_fewshot_settings
    cfg = Config.fromfile('configs/demo/demo_5shot.py')
    cfg.fewshot.setting = 'base'
    train = apply_fewshot_settings(cfg).train_dataloader.dataset
    assert train.setting == 'base' and 'shots' not in train and 'load_selection' not in train


def test_a_class_without_training_instances_is_warned(tree, monkeypatch):
    logged = []
    monkeypatch.setattr('mmfs_plugin.datasets.fewshot_dataset.print_log',
                        lambda msg, **kwargs: logged.append(msg))
    DATASETS.build(dict(type='FewShotDataset', pipeline=[], shots=1, dataset=mvtec(
        tree, metainfo=dict(classes=CLASSES + ('screw/manipulated_front',)))))
    assert any("['screw/manipulated_front'] have no (non-ignored) training instance" in msg
               for msg in logged)
