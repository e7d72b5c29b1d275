"""The few-shot protocol over mmdet's own datasets: COCO JSON and Pascal VOC XML, through
FewShotDataset and a config's ``fewshot`` settings; TFA's few-shot files."""
import json
import os

import numpy as np
import pytest
import torch
from mmdet.registry import DATASETS, METRICS
from mmengine.config import Config

import mmfs_plugin  # noqa: F401  (registers the plugin)
from mmfs_plugin.engine.fewshot_runner import apply_fewshot_settings
from mmfs_data.fewshot.kshot import KShotSelection
from mmfs_data.fewshot.tfa_files import read_tfa_selection, write_tfa_coco, write_tfa_voc

from .format_trees import CLASSES, NOVEL, class_counts, write_coco, write_voc


def coco_dataset(root, name, **kwargs):
    return dict(type='CocoDataset', data_root=root, ann_file=f'{name}.json',
                data_prefix=dict(img='images/'), metainfo=dict(classes=CLASSES), **kwargs)


def voc_dataset(root, split, **kwargs):
    return dict(type='VOCDataset', data_root=root, ann_file=f'VOC2007/ImageSets/Main/{split}.txt',
                data_prefix=dict(sub_data_root='VOC2007/'), metainfo=dict(classes=CLASSES),
                **kwargs)


@pytest.fixture(scope='module')
def trees(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('formats'))
    coco = write_coco(root, 'train', 12, seed=1, crowd_every=7)
    write_coco(root, 'test', 6, seed=2)
    write_voc(root, '2007', 'train', 12, seed=1, difficult_every=7)
    write_voc(root, '2007', 'test', 6, seed=2)
    return root, coco


def config(root, fmt, **fewshot):
    make = coco_dataset if fmt == 'coco' else voc_dataset
    train = dict(type='FewShotDataset', dataset=make(root, 'train'), pipeline=[])
    test = dict(type='FewShotDataset', dataset=make(root, 'test', test_mode=True),
                test_mode=True, pipeline=[])
    return Config(dict(
        fewshot=dict(dict(setting='gfsod', shots=2, seed=0, class_split=dict(novel=NOVEL)),
                     **fewshot),
        model=dict(roi_head=dict(bbox_head=dict(num_classes=80))),
        train_dataloader=dict(dataset=train), test_dataloader=dict(dataset=test)))


def available(root, fmt):
    """Non-ignored instances per class of the training set, read directly from the files."""
    plain = DATASETS.build(coco_dataset(root, 'train') if fmt == 'coco'
                           else voc_dataset(root, 'train'))
    return class_counts([plain.get_data_info(i) for i in range(len(plain))], CLASSES)


def entries(dataset):
    return [dataset.get_data_info(i) for i in range(len(dataset))]


@pytest.mark.parametrize('fmt', ['coco', 'voc'])
def test_kshot_over_mmdet_datasets(trees, tmp_path, fmt):
    root, _ = trees
    cfg = apply_fewshot_settings(config(root, fmt))
    assert cfg.model.roi_head.bbox_head.num_classes == 6  # from the config alone
    train = DATASETS.build(cfg.train_dataloader.dataset)
    assert train.metainfo['novel_classes'] == tuple(NOVEL)
    counts = class_counts(entries(train), CLASSES)
    have = available(root, fmt)
    assert counts == {name: min(2, have[name]) for name in CLASSES}
    assert have['hole'] == 1  # the rare class runs out
    selected = train.kshot_selection.selected_keys
    for entry in entries(train):
        for inst in entry['instances']:
            # the selected instances are trained, the other ones are ignore regions
            assert (inst['instance_key'] in selected) == (inst['ignore_flag'] == 0)
    if fmt == 'coco':
        # '<ann_file>#<annotation id>': the ids of two files stay apart
        assert all(key.startswith('train.json#') and key.split('#')[1].isdigit()
                   for key in selected)
    else:
        assert all(key.startswith('VOC2007/Annotations/train') and '.xml#' in key
                   for key in selected)
    path = str(tmp_path / 'selection.json')
    train.kshot_selection.save(path)
    reloaded = DATASETS.build(apply_fewshot_settings(
        config(root, fmt, load_selection=path, shots=None)).train_dataloader.dataset)
    assert entries(reloaded) == entries(train)
    assert KShotSelection.load(path).selection == train.kshot_selection.selection


@pytest.mark.parametrize('fmt', ['coco', 'voc'])
def test_metric_reports_base_and_novel_ap(trees, fmt):
    root, _ = trees
    test = DATASETS.build(apply_fewshot_settings(config(root, fmt)).test_dataloader.dataset)
    metric = METRICS.build(dict(type='FewShotCocoMetric'))
    metric.dataset_meta = test.metainfo
    samples = []
    for info in entries(test):
        kept = [inst for inst in info['instances'] if not inst['ignore_flag']]
        samples.append(dict(
            img_id=info['img_id'], img_path=info['img_path'],
            ori_shape=(info['height'], info['width']), instances=info['instances'],
            pred_instances=dict(
                bboxes=torch.tensor([inst['bbox'] for inst in kept],
                                    dtype=torch.float32).reshape(-1, 4),
                scores=torch.ones(len(kept)),
                labels=torch.tensor([inst['bbox_label'] for inst in kept]))))
    metric.process({}, samples)
    results = metric.evaluate(len(samples))
    assert results['fs/bbox_bAP'] == pytest.approx(1.0)
    assert results['fs/bbox_nAP'] == pytest.approx(1.0)


def test_coco_crowd_and_voc_difficult_objects_are_never_shots(trees):
    root, coco = trees
    crowd = {f"train.json#{ann['id']}" for ann in coco['annotations'] if ann['iscrowd']}
    assert crowd
    train = DATASETS.build(apply_fewshot_settings(
        config(root, 'coco', shots=None, base_shots='all')).train_dataloader.dataset)
    assert not crowd & set(train.kshot_selection.selected_keys)
    voc = DATASETS.build(apply_fewshot_settings(
        config(root, 'voc', shots=50)).train_dataloader.dataset)
    difficult = [inst for entry in entries(voc) for inst in entry['instances']
                 if inst['ignore_flag']]
    assert difficult and not {i['instance_key'] for i in difficult} & set(
        voc.kshot_selection.selected_keys)


def test_tfa_voc_files_load_as_exactly_their_instances(trees, tmp_path):
    root, _ = trees
    folder = tmp_path / 'vocsplit' / 'seed3'
    folder.mkdir(parents=True)
    plain = DATASETS.build(voc_dataset(root, 'train'))
    listed = {}
    for label, name in enumerate(CLASSES):
        holders = [info for info in entries(plain)
                   if any(i['bbox_label'] == label and not i['ignore_flag']
                          for i in info['instances'])][:1]
        (folder / f'box_2shot_{name}_train.txt').write_text(''.join(
            f'datasets/VOC2007/JPEGImages/{info["img_id"]}.jpg\n' for info in holders))
        listed[name] = sorted(f'VOC2007/Annotations/{info["img_id"]}.xml#{index}'
                              for info in holders
                              for index, inst in enumerate(info['instances'])
                              if inst['bbox_label'] == label and not inst['ignore_flag'])
    train = DATASETS.build(apply_fewshot_settings(config(
        root, 'voc', load_selection=str(folder))).train_dataloader.dataset)
    assert {name: sorted(keys) for name, keys in train.kshot_selection.selection.items()} \
        == listed
    # and ours written in TFA's form lists the images of our selection
    written = write_tfa_voc(train.kshot_selection, str(tmp_path / 'out'))
    assert sorted(os.path.basename(p) for p in written) == sorted(
        f'box_2shot_{name}_train.txt' for name in CLASSES)
    for name in CLASSES:
        assert (tmp_path / 'out' / f'box_2shot_{name}_train.txt').read_text() == \
            (folder / f'box_2shot_{name}_train.txt').read_text()


def test_tfa_coco_files_round_trip(trees, tmp_path):
    root, coco = trees
    train = DATASETS.build(apply_fewshot_settings(config(root, 'coco')).train_dataloader.dataset)
    folder = str(tmp_path / 'cocosplit' / 'seed0')
    write_tfa_coco(train.kshot_selection, coco, folder)
    with open(os.path.join(folder, 'full_box_2shot_crack_trainval.json')) as f:
        crack = json.load(f)
    assert [f"train.json#{ann['id']}" for ann in crack['annotations']] == \
        train.kshot_selection.selection['crack']
    assert {ann['category_id'] for ann in crack['annotations']} == {11 + CLASSES.index('crack')}
    again = DATASETS.build(apply_fewshot_settings(config(
        root, 'coco', load_selection=folder)).train_dataloader.dataset)
    assert entries(again) == entries(train)
    assert np.array_equal([len(v) for v in again.kshot_selection.selection.values()],
                          [len(v) for v in train.kshot_selection.selection.values()])


def test_tfa_folder_without_files_is_named(trees, tmp_path):
    root, _ = trees
    space = DATASETS.build(apply_fewshot_settings(config(root, 'coco')).train_dataloader.dataset
                           ).label_space
    with pytest.raises(ValueError, match='neither TFA VOC files'):
        read_tfa_selection(str(tmp_path), 2, space, {})


def test_export_selection_tool_writes_tfa_files_that_load_back(trees, tmp_path):
    import runpy
    from pathlib import Path
    root, _ = trees
    train = DATASETS.build(apply_fewshot_settings(config(root, 'coco')).train_dataloader.dataset)
    selection_file = str(tmp_path / 'kshot_selection.json')
    train.kshot_selection.save(selection_file)
    main = runpy.run_path(
        str(Path(__file__).parents[1] / 'tools' / 'fewshot' / 'export_selection.py'))['main']
    out = str(tmp_path / 'cocosplit' / 'seed0')
    assert main([selection_file, out, '--format', 'tfa_coco', '--coco-json',
                 os.path.join(root, 'train.json')]) == 0
    again = DATASETS.build(apply_fewshot_settings(config(
        root, 'coco', load_selection=out)).train_dataloader.dataset)
    assert again.kshot_selection.selection == train.kshot_selection.selection
    with pytest.raises(SystemExit):  # tfa_coco needs the source COCO file
        main([selection_file, out, '--format', 'tfa_coco'])


@pytest.mark.parametrize('fmt', ['coco', 'voc'])
def test_sampler_and_browse_tool_accept_the_wrapped_datasets(trees, tmp_path, fmt):
    import runpy
    from pathlib import Path
    from mmdet.registry import DATA_SAMPLERS
    root, _ = trees
    train = DATASETS.build(apply_fewshot_settings(config(root, fmt)).train_dataloader.dataset)
    sampler = DATA_SAMPLERS.build(dict(type='FewShotBalancedSampler', novel_ratio=0.5),
                                  default_args=dict(dataset=train, seed=0))
    drawn = [index for index, _ in zip(iter(sampler), range(200))]
    novel = set(train.metainfo['novel_classes'])
    classes = train.metainfo['classes']
    share = np.mean([any(classes[c] in novel for c in train.get_cat_ids(i)) for i in drawn])
    assert 0.35 < share < 0.65
    browse = runpy.run_path(
        str(Path(__file__).parents[1] / 'tools' / 'analysis_tools' / 'browse_dataset.py'))
    written = browse['browse'](train, str(tmp_path), 3, 'train')
    assert len(written) == 3 and all(os.path.getsize(path) > 0 for path in written)


def test_labels_no_class_names_are_errors_or_counted_skips_and_broken_files_named(
        trees, tmp_path, monkeypatch):
    import shutil
    root, _ = trees
    logged = []
    monkeypatch.setattr('mmfs_plugin.datasets.fewshot_dataset.print_log',
                        lambda msg, **kwargs: logged.append(msg))
    fewer = CLASSES[:5]  # 'hole' is not a class: mmdet would skip those objects in silence
    for make, where in ((coco_dataset, r'train\.json: annotations\[\d+\]\.category_id'),
                        (voc_dataset, r'train\d+\.xml: object\[\d+\]/name')):
        inner = make(root, 'train')
        inner['metainfo'] = dict(classes=fewer)
        with pytest.raises(ValueError, match=where + r": label not in classes \('hole' is not "
                           r"one of the 5 classes"):
            DATASETS.build(dict(type='FewShotDataset', dataset=inner, pipeline=[]))
        skipped = DATASETS.build(dict(type='FewShotDataset', dataset=inner, pipeline=[],
                                      on_error='skip'))
        (report,) = skipped.read_reports.values()
        assert report.by_reason() == {'label not in classes': 1}
    assert sum('skipped 1 object: label not in classes' in msg for msg in logged) == 2
    voc = tmp_path / 'voc'
    shutil.copytree(os.path.join(root, 'VOC2007'), voc / 'VOC2007')
    first = voc / 'VOC2007' / 'Annotations' / 'train0000.xml'
    first.write_text('<annotation><size><width>64</width>')  # truncated
    with pytest.raises(ValueError, match=rf'{first.name}: xml: invalid XML'):
        DATASETS.build(dict(type='FewShotDataset', dataset=voc_dataset(str(voc), 'train')))
    (tmp_path / 'bad.json').write_text('{"images": [')
    with pytest.raises(ValueError, match=r'bad\.json: json: invalid JSON'):
        DATASETS.build(dict(type='FewShotDataset', dataset=dict(
            coco_dataset(str(tmp_path), 'bad'))))
