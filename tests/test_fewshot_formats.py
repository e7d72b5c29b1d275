"""The few-shot protocol over mmdet's own datasets: COCO JSON and Pascal VOC XML, through
FewShotDataset and a config's ``fewshot`` settings; TFA's few-shot files."""
import json
import os
import re

import numpy as np
import pytest
import torch
from PIL import Image
from mmdet.registry import DATASETS, METRICS
from mmengine.config import Config

import mmfs_plugin  # noqa: F401  (registers the plugin)
from mmfs_plugin.engine.fewshot_runner import apply_fewshot_settings
from mmfs_data.fewshot.kshot import KShotSelection, ObjectRef
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
    write_tfa_coco(train.kshot_selection, coco, folder, os.path.join(root, 'train.json'))
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


def two_class_coco(root, name, objects):
    """Write ``<root>/<name>.json`` (classes scratch and dent, ids from 1) and its 64 px images:
    ``objects`` per image, ``(class, [x, y, w, h])``."""
    images, anns = [], []
    for i, boxes in enumerate(objects):
        file_name = f'{os.path.basename(root)}_{i}.png'
        os.makedirs(os.path.join(root, 'images'), exist_ok=True)
        Image.new('RGB', (64, 64)).save(os.path.join(root, 'images', file_name))
        images.append(dict(id=i + 1, file_name=file_name, width=64, height=64))
        for category, box in boxes:
            anns.append(dict(id=len(anns) + 1, image_id=i + 1, category_id=category, bbox=box,
                             area=box[2] * box[3], iscrowd=0))
    coco = dict(images=images, annotations=anns,
                categories=[dict(id=1, name='scratch'), dict(id=2, name='dent')])
    with open(os.path.join(root, f'{name}.json'), 'w') as f:
        json.dump(coco, f)
    return coco


def two_class_dataset(root, name='train', **kwargs):
    return dict(type='FewShotDataset', pipeline=[], shots=1, seed=0, **kwargs, dataset=dict(
        type='CocoDataset', data_root=root, ann_file=f'{name}.json',
        data_prefix=dict(img='images/'), metainfo=dict(classes=('scratch', 'dent'))))


def test_tfa_coco_export_takes_the_shots_of_its_file_only_at_their_boxes(tmp_path, capsys,
                                                                       monkeypatch):
    import runpy
    from pathlib import Path
    main = runpy.run_path(
        str(Path(__file__).parents[1] / 'tools' / 'fewshot' / 'export_selection.py'))['main']
    line_a, line_b = str(tmp_path / 'lineA'), str(tmp_path / 'lineB')
    # both files number their annotations from 1: lineA's 1 is a scratch, lineB's 1 a dent
    two_class_coco(line_a, 'train', [[(1, [2, 2, 10, 10]), (2, [20, 20, 10, 10])],
                                     [(1, [5, 5, 12, 12])]])
    two_class_coco(line_b, 'train', [[(2, [40, 40, 10, 10]), (1, [30, 2, 10, 10])]])
    selection = KShotSelection(
        seed=0, shots=1, base_shots=None, classes=['scratch', 'dent'],
        selection=dict(scratch=['lineA/train.json#3'], dent=['lineB/train.json#1']),
        objects={'lineA/train.json#3': ObjectRef('images/lineA_1.png', (5., 5., 17., 17.)),
                 'lineB/train.json#1': ObjectRef('images/lineB_0.png', (40., 40., 50., 50.))})
    selection_file = str(tmp_path / 'kshot_selection.json')
    selection.save(selection_file)
    out = tmp_path / 'tfa'
    assert main([selection_file, str(out), '--format', 'tfa_coco', '--coco-json',
                 os.path.join(line_a, 'train.json')]) == 1
    error = capsys.readouterr().err
    assert "selection.dent[0]: the shot 'lineB/train.json#1' is an annotation of another " \
        f"file (lineB/train.json), not of {os.path.join(line_a, 'train.json')}" in error
    assert 'the selection spans 2 COCO files (lineA/train.json, lineB/train.json)' in error
    assert not out.exists()
    # one file's selection exports; a shot whose annotation there is another object is refused
    selection.selection['dent'] = ['lineA/train.json#2']
    selection.objects['lineA/train.json#2'] = ObjectRef('images/lineA_0.png',
                                                        (20., 20., 30., 30.))
    selection.save(selection_file)
    monkeypatch.chdir(tmp_path)  # --coco-json relative, as keys are to data_root
    assert main([selection_file, str(out), '--format', 'tfa_coco', '--coco-json',
                 'lineA/train.json']) == 0
    with open(out / 'full_box_1shot_dent_trainval.json') as f:
        assert [ann['bbox'] for ann in json.load(f)['annotations']] == [[20, 20, 10, 10]]
    selection.objects['lineA/train.json#2'] = ObjectRef('images/lineA_0.png', (2., 2., 12., 12.))
    selection.save(selection_file)
    assert main([selection_file, str(tmp_path / 'tfa2'), '--format', 'tfa_coco',
                 '--coco-json', 'lineA/train.json']) == 1
    assert ("lineA/train.json: annotations: id 2 (image 'lineA_0.png', box [20, 20, 30, 30]) "
            "is not the shot 'lineA/train.json#2' of class 'dent' (images/lineA_0.png, box "
            '[2.0, 2.0, 12.0, 12.0])') in capsys.readouterr().err


def test_tfa_coco_files_find_their_boxes_when_the_ids_changed(tmp_path):
    root = str(tmp_path / 'line')
    coco = two_class_coco(root, 'train', [[(1, [2, 2, 10, 10]), (1, [30, 30, 20, 20]),
                                           (2, [5, 40, 10, 10])]])
    train = DATASETS.build(two_class_dataset(root))
    folder = str(tmp_path / 'tfa')
    write_tfa_coco(train.kshot_selection, coco, folder, os.path.join(root, 'train.json'))
    drawn = {name: [train.kshot_selection.objects[key].bbox for key in keys]
             for name, keys in train.kshot_selection.selection.items()}
    # the two scratches swap ids (boxes unchanged): TFA trains on the box of its file
    for ann in coco['annotations']:
        ann['id'] = {1: 2, 2: 1}.get(ann['id'], ann['id'])
    with open(os.path.join(root, 'edited.json'), 'w') as f:
        json.dump(coco, f)
    with pytest.warns(UserWarning, match=r'full_box_1shot_scratch_trainval\.json: 1 annotations '
                      r'found by image and box under other ids'):
        again = DATASETS.build(two_class_dataset(root, 'edited', load_selection=folder))
    assert {name: [again.kshot_selection.objects[key].bbox for key in keys]
            for name, keys in again.kshot_selection.selection.items()} == drawn
    # a box no object of the class has any more is refused, naming the id and both boxes
    scratch = os.path.join(folder, 'full_box_1shot_scratch_trainval.json')
    with open(scratch) as f:
        data = json.load(f)
    (shot,) = data['annotations']
    shot['bbox'] = [3, 3, 10, 10]
    with open(scratch, 'w') as f:
        json.dump(data, f)
    with pytest.raises(ValueError, match=re.escape(
            f"{scratch}: annotations[0]: id {shot['id']} on image 'line_0.png', box "
            f"[3, 3, 13, 13] (x1, y1, x2, y2): the dataset's annotation {shot['id']} there is "
            'box [')):
        DATASETS.build(two_class_dataset(root, load_selection=folder))


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
