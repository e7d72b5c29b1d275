"""Users' COCO JSON and Pascal VOC XML through FewShotDataset: each fault kind of issue 17 read
as the format's own tools read it, or named at build time (file, field, counts)."""
import json
import os
import re
import shutil
import unicodedata

import numpy as np
import pytest
from mmdet.datasets import CocoDataset, VOCDataset
from mmdet.registry import DATASETS
from PIL import Image
from pycocotools.coco import COCO

import mmfs_plugin  # noqa: F401  (registers the plugin)
from mmfs_data.errors import FieldError
from mmfs_data.fewshot.kshot import KShotSelection, select_kshot
from mmfs_data.fewshot.label_space import resolve_label_space
from mmfs_plugin.datasets.format_readers import reader_class

from mmfs_plugin.datasets.entry_checks import EXIF_TURNED

from .format_trees import CLASSES, write_coco, write_voc
from .test_fewshot_metric import reference_stats, run_metric

SIZE = 64


def image(path, width=SIZE, height=SIZE, orientation=None, fmt=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pixels = np.random.default_rng(0).integers(0, 255, (height, width, 3), np.uint8)
    kwargs = {}
    if orientation:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kwargs['exif'] = exif
    Image.fromarray(pixels).save(path, format=fmt, **kwargs)


def coco_file(root, name, images, annotations, categories):
    """Write ``<root>/<name>.json`` and the images it names (64x64 unless said)."""
    for img in images:
        path = os.path.join(root, 'images', img['file_name'])
        if not os.path.exists(path):
            image(path, img['width'], img['height'])
    with open(os.path.join(root, f'{name}.json'), 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=categories), f)


def img(i, name=None, width=SIZE, height=SIZE):
    return dict(id=i, file_name=name or f'{i}.jpg', width=width, height=height)


def ann(i, image_id, cat, bbox, **extra):
    fields = dict(id=i, image_id=image_id, category_id=cat, bbox=bbox,
                  area=bbox[2] * bbox[3] if len(bbox) == 4 else 1, iscrowd=0)
    fields.update(extra)
    return {k: v for k, v in fields.items() if v is not None}


def coco_cfg(root, name, classes):
    return dict(type='CocoDataset', data_root=str(root), ann_file=f'{name}.json',
                data_prefix=dict(img='images/'), metainfo=dict(classes=tuple(classes)))


def fewshot(dataset, **kwargs):
    return DATASETS.build(dict(type='FewShotDataset', dataset=dataset, pipeline=[], **kwargs))


def entries(dataset):
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def labels_by_ann_id(dataset):
    return {int(inst['instance_key'].split('#')[1]): inst['bbox_label']
            for e in entries(dataset) for inst in e['instances']}


CRACK_DENT = [dict(id=1, name='crack'), dict(id=2, name='dent')]


# 1. labels follow the class names, never the file's category order ------------------------
@pytest.mark.parametrize('classes', [('dent', 'crack'), ('crack', 'dent')])
def test_coco_labels_follow_class_names_in_either_order(tmp_path, classes):
    coco_file(tmp_path, 'train', [img(1), img(2)],
              [ann(1, 1, 1, [5, 5, 10, 10]), ann(2, 2, 2, [8, 8, 12, 12])], CRACK_DENT)
    dataset = fewshot(coco_cfg(tmp_path, 'train', classes))
    assert labels_by_ann_id(dataset) == {1: classes.index('crack'), 2: classes.index('dent')}
    # FSOD with crack novel: the 1 shot is the crack (annotation 1), labelled 'crack'
    fsod = fewshot(coco_cfg(tmp_path, 'train', classes), setting='fsod',
                   class_split=dict(novel=['crack']), shots=1)
    assert fsod.kshot_selection.selection == {'crack': ['train.json#1']}
    (crack,) = [i for e in entries(fsod) for i in e['instances'] if not i['ignore_flag']]
    assert fsod.metainfo['classes'][crack['bbox_label']] == 'crack'
    assert crack['bbox'] == [5, 5, 15, 15]


def test_a_configured_class_the_coco_file_does_not_name_is_an_error(tmp_path):
    coco_file(tmp_path, 'train', [img(1)], [ann(1, 1, 2, [5, 5, 10, 10])], CRACK_DENT)
    with pytest.raises(FieldError, match=r"train\.json: categories: the configured classes "
                       r"'dnet' \(did you mean 'dent'\?\) are not categories of this file"):
        fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dnet')))


def test_a_class_an_export_holds_no_object_of_is_named_with_how_to_keep_it(tmp_path):
    """A base-only export (or a test split without a class) lists no category of it: setting
    classes to the file's names, the one remedy the error gave, would change the label space;
    the error says to add the category, and with it added the file reads."""
    coco_file(tmp_path, 'train', [img(1)], [ann(1, 1, 2, [5, 5, 10, 10])],
              [dict(id=2, name='dent')])
    with pytest.raises(FieldError, match=r"the configured classes 'crack' are not categories of "
                       r"this file, .*add it to the file's categories, e\.g\. \{\"id\": "
                       r'<unused id>, "name": "crack"\}, with no annotations'):
        fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')))
    with pytest.raises(FieldError) as typo:
        fewshot(coco_cfg(tmp_path, 'train', ('dnet',)))
    assert "'dnet' (did you mean 'dent'?)" in str(typo.value)
    assert 'add it' not in str(typo.value)  # a near match is a typo: no category to add
    coco_file(tmp_path, 'train', [img(1)], [ann(1, 1, 2, [5, 5, 10, 10])],
              [dict(id=2, name='dent'), dict(id=7, name='crack')])
    assert labels_by_ann_id(fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')))) == {1: 1}


def test_checked_coco_entries_equal_mmdets_for_valid_input(tmp_path):
    root = str(tmp_path)
    write_coco(root, 'train', 10, seed=3, crowd_every=5)
    ours = fewshot(coco_cfg(root, 'train', CLASSES), check_images=False)
    plain = CocoDataset(data_root=root, ann_file='train.json', data_prefix=dict(img='images/'),
                        metainfo=dict(classes=CLASSES), pipeline=[])
    mine = entries(ours)
    for entry in mine:
        entry.pop('sample_idx')
        assert entry.pop('left_out_instances') == 0  # every annotation read
        for inst in entry['instances']:
            inst.pop('instance_key')
    theirs = [plain.get_data_info(i) for i in range(len(plain))]
    for entry in theirs:
        entry.pop('sample_idx')
    assert mine == theirs


def test_coco_kshot_draw_is_unchanged_by_file_keys(tmp_path):
    root = str(tmp_path)
    coco = write_coco(root, 'train', 12, seed=1)
    space = resolve_label_space(CLASSES, dict(novel=['crack', 'hole']), 'gfsod')
    drawn = fewshot(coco_cfg(root, 'train', CLASSES), class_split=dict(novel=['crack', 'hole']),
                    shots=2, seed=4).kshot_selection.selection
    # the rule over bare annotation ids (the keys before they named their file)
    ids = {name: [str(a['id']) for a in coco['annotations']
                  if a['category_id'] == 11 + CLASSES.index(name)] for name in space.classes}
    before = select_kshot(ids, {name: 2 for name in space.classes}, 4)
    assert {name: [k.split('#')[1] for k in keys] for name, keys in drawn.items()} == before


# 2. what mmdet's parser skips is counted; crossing boxes clipped; a missing area computed ----
def test_coco_skipped_annotations_are_counted_by_reason(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr('mmfs_plugin.datasets.fewshot_dataset.print_log',
                        lambda msg, **kwargs: logged.append(msg))
    coco_file(tmp_path, 'train', [img(1)], [
        ann(1, 1, 1, [5, 5, 10, 10]),                 # kept
        ann(2, 1, 1, [20, 20, 10, 10], area=0),       # area 0
        ann(3, 1, 1, [30, 30, 0.5, 10]),              # under 1 px
        ann(4, 1, 1, [40, 40, -5, 10]),               # negative size
        ann(5, 1, 1, [70, 70, 10, 10]),               # outside the 64x64 image
        ann(6, 1, 1, [-5, 50, 20, 30]),               # crosses the border: clipped
    ], CRACK_DENT)
    dataset = fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')), shots=5)
    assert dataset.kshot_selection.selection['crack'] == ['train.json#1', 'train.json#6']
    boxes = {i['instance_key']: i['bbox'] for e in entries(dataset) for i in e['instances']}
    assert boxes['train.json#6'] == [0, 50, 15, 64]
    (report,) = dataset.read_reports.values()
    assert report.by_reason('skipped') == {
        'area <= 0 (mmdet skips it)': 1, 'box under 1 px inside the image (mmdet skips it)': 1,
        'box of zero or negative size': 1, 'box outside the image': 1}
    assert report.by_reason('fixed') == {'box clipped to the image': 1}
    summary = next(msg for msg in logged if 'read with changes' in msg)
    assert 'skipped 1 object: box outside the image' in summary
    assert f"{os.path.join(str(tmp_path), 'train.json')}: 1 (5)" in summary
    # and the shortfall of shots is said: 5 asked, 2 available
    assert ("FewShotDataset: class 'crack': 5 shots asked, 2 available: all 2 are used"
            in logged)


def test_a_missing_coco_area_is_computed_as_coco_computes_it(tmp_path):
    polygon = [[10, 10, 30, 10, 30, 40, 10, 40, 20, 25]]
    coco_file(tmp_path, 'train', [img(1)], [
        ann(1, 1, 1, [10, 10, 20, 30], area=None, segmentation=polygon),
        ann(2, 1, 2, [2, 3, 4, 5], area=None)], CRACK_DENT)
    from mmfs_data.formats.coco import load_coco_json, read_coco
    path = str(tmp_path / 'train.json')
    index = read_coco(load_coco_json(path), ('crack', 'dent'), path)
    areas = {a['id']: a['area'] for a in index.annotations[1]}
    reference = COCO(path)  # pycocotools' own rasterisation of the polygon
    expected = float(reference.annToMask(reference.anns[1]).sum())
    assert areas == {1: expected, 2: 20.0}
    assert index.report.by_reason('fixed') == {'area missing: computed as COCO does': 2}
    assert len(entries(fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent'))))) == 1


# 3. duplicate image ids -----------------------------------------------------------------------
def test_duplicate_coco_image_ids_are_an_error_naming_both_files(tmp_path):
    coco_file(tmp_path, 'train', [img(1, 'a.jpg'), img(2, 'b.jpg'), img(3, 'c.jpg'),
                                  img(2, 'd.jpg')],
              [ann(1, 2, 2, [5, 5, 10, 10])], CRACK_DENT)
    with pytest.raises(FieldError, match=r"train\.json: images\[3\]\.id: id 2 names two "
                       r"images: 'b\.jpg' \(images\[1\]\) and 'd\.jpg'"):
        fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')))


def test_other_coco_id_faults_are_named(tmp_path):
    cases = {
        r"annotations\[1\]\.id: id 1 is used twice": (
            [img(1)], [ann(1, 1, 1, [1, 1, 5, 5]), ann(1, 1, 1, [9, 9, 5, 5])], CRACK_DENT),
        r"categories\[1\]\.id: id 1 is listed twice \('crack' and 'dent'\)": (
            [img(1)], [], [dict(id=1, name='crack'), dict(id=1, name='dent')]),
        r"annotations\[0\]\.image_id: image_id not in images": (
            [img(1)], [ann(1, 7, 1, [1, 1, 5, 5])], CRACK_DENT),
        r"annotations\[0\]\.bbox: bad bbox": ([img(1)], [ann(1, 1, 1, [1, 1, 5])], CRACK_DENT),
        r"images\[1\]\.file_name: 'a\.jpg' is listed twice": (
            [img(1, 'a.jpg'), img(2, 'a.jpg')], [], CRACK_DENT),
        # a JSON boolean is an int to Python: named as the value it is, not as missing
        r"images\[0\]\.id: not an integer or a string: true": (
            [img(True, 'a.jpg')], [], CRACK_DENT),
        r"images\[0\]\.id: missing": (
            [dict(file_name='a.jpg', width=SIZE, height=SIZE)], [], CRACK_DENT),
        r"categories\[1\]\.id: not an integer or a string: 2\.5": (
            [img(1)], [], [dict(id=1, name='crack'), dict(id=2.5, name='dent')]),
    }
    for i, (message, (images, annotations, categories)) in enumerate(cases.items()):
        coco_file(tmp_path, f'f{i}', images, annotations, categories)
        with pytest.raises(FieldError, match=rf'f{i}\.json: {message}'):
            fewshot(coco_cfg(tmp_path, f'f{i}', ('crack', 'dent')))


def test_coco_image_ids_mixing_integers_and_strings_are_an_error_at_build(tmp_path):
    """pycocotools' COCOeval sorts the image ids: a file mixing 1 and '2' read fine and failed
    with a bare TypeError in the metric, after training. Ids of one kind read as pycocotools
    indexes them, and an id matching only by its other spelling is named as such."""
    coco_file(tmp_path, 'mixed', [img(1, 'a.jpg'), img('2', 'b.jpg')],
              [ann(1, 1, 1, [5, 5, 10, 10]), ann(2, '2', 2, [8, 8, 12, 12])], CRACK_DENT)
    for on_error in ('raise', 'skip'):  # a fault of the file, not of one record
        with pytest.raises(FieldError, match=r"mixed\.json: images\[1\]\.id: '2' is a string, "
                           r"images\[0\]\.id 1 an integer: the image ids of one file are all "
                           r"integers or all strings"):
            fewshot(coco_cfg(tmp_path, 'mixed', ('crack', 'dent')), on_error=on_error)
    coco_file(tmp_path, 'strings', [img('a1', 'a.jpg'), img('2', 'b.jpg')],
              [ann(1, 'a1', 1, [5, 5, 10, 10]), ann(2, '2', 2, [8, 8, 12, 12])], CRACK_DENT)
    dataset = fewshot(coco_cfg(tmp_path, 'strings', ('crack', 'dent')))
    coco = COCO(str(tmp_path / 'strings.json'))
    assert [(e['img_id'], [i['bbox_label'] for i in e['instances']]) for e in entries(dataset)] \
        == [(img_id, [a['category_id'] - 1 for a in coco.imgToAnns[img_id]])
            for img_id in coco.getImgIds()] == [('a1', [0]), ('2', [1])]
    coco_file(tmp_path, 'typed', [img('1', 'a.jpg')], [ann(1, 1, '2', [5, 5, 10, 10])],
              CRACK_DENT)
    with pytest.raises(FieldError, match=r"typed\.json: annotations\[0\]\.image_id: image_id "
                       r"not in images \(1 names no image of the file; the file has the id '1', "
                       r"a string: ids match with their type"):
        fewshot(coco_cfg(tmp_path, 'typed', ('crack', 'dent')))
    coco_file(tmp_path, 'typed', [img(1, 'a.jpg')], [ann(1, 1, '2', [5, 5, 10, 10])],
              CRACK_DENT)
    with pytest.raises(FieldError, match=r"annotations\[0\]\.category_id: category_id not in "
                       r"categories \('2' names no category of the file; the file has the id 2, "
                       r"an integer"):
        fewshot(coco_cfg(tmp_path, 'typed', ('crack', 'dent')))


def test_a_true_coco_ignore_is_an_error_with_the_fix_and_a_skip_with_on_error_skip(tmp_path):
    """mmdet's CocoDataset trains an ``ignore: 1`` object as background, pycocotools' COCOeval
    (and mmdet's CocoMetric) scores it as an object: the user is told, not counted in silence."""
    annotations = [ann(1, 1, 1, [5, 5, 10, 10], ignore=0), ann(2, 1, 1, [30, 30, 9, 9], ignore=1),
                   ann(3, 1, 2, [20, 5, 9, 9], ignore=False)]
    coco_file(tmp_path, 'train', [img(1)], annotations, CRACK_DENT)
    with pytest.raises(FieldError, match=r"train\.json: annotations\[1\]\.ignore: ignore: true "
                       r"\(mmdet and COCOeval disagree\) \(ignore=1: .*set iscrowd: 1 for a "
                       r"region neither trained nor scored, or remove the key to train and score"):
        fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')))
    dataset = fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')), on_error='skip')
    assert sorted(labels_by_ann_id(dataset)) == [1, 3]  # ignore: 0 and false read as objects
    (report,) = dataset.read_reports.values()
    assert report.by_reason('skipped') == {'ignore: true (mmdet and COCOeval disagree)': 1}


@pytest.mark.parametrize('iscrowd', ['0', '1', 2, -1, 0.0, 1.0, None])
def test_a_coco_iscrowd_other_than_0_or_1_is_named(tmp_path, iscrowd):
    """pycocotools and mmdet read any true iscrowd (the string "0" too) as a crowd region."""
    coco_file(tmp_path, 'train', [img(1)], [ann(1, 1, 1, [5, 5, 10, 10]),
                                            dict(ann(2, 1, 1, [30, 30, 9, 9]), iscrowd=iscrowd)],
              CRACK_DENT)
    with pytest.raises(FieldError, match=r"train\.json: annotations\[1\]\.iscrowd: bad iscrowd "
                       r"\(must be 0 or 1, got " + re.escape(repr(iscrowd))):
        fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')))
    dataset = fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')), on_error='skip')
    assert sorted(labels_by_ann_id(dataset)) == [1]
    (report,) = dataset.read_reports.values()
    assert report.by_reason('skipped') == {'bad iscrowd': 1}


@pytest.mark.parametrize('iscrowd', [0, 1, False, True])
def test_a_coco_iscrowd_of_0_or_1_reads_as_mmdet_reads_it(tmp_path, iscrowd):
    coco_file(tmp_path, 'train', [img(1)], [ann(1, 1, 1, [5, 5, 10, 10], iscrowd=iscrowd)],
              CRACK_DENT)
    (entry,) = entries(fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent'))))
    assert [i['ignore_flag'] for i in entry['instances']] == [int(iscrowd)]


# 4. concatenated exports whose ids both start at 1 -------------------------------------------
def test_concatenated_exports_keep_their_instances_apart(tmp_path):
    for split in ('train', 'valid'):
        os.makedirs(tmp_path / split)
        coco_file(tmp_path / split, '_annotations.coco', [img(1), img(2)],
                  [ann(1, 1, 1, [5, 5, 10, 10]), ann(2, 2, 2, [8, 8, 12, 12])], CRACK_DENT)
    parts = [dict(coco_cfg(tmp_path, f'{split}/_annotations.coco', ('crack', 'dent')),
                  data_prefix=dict(img=f'{split}/images/')) for split in ('train', 'valid')]
    for setting in ('base', 'gfsod', 'fsod'):
        dataset = fewshot(parts, setting=setting, class_split=dict(novel=['crack']),
                          filter_cfg=dict(filter_empty_gt=True))
        assert len(dataset) == (4 if setting == 'gfsod' else 2)
    ids = [e['img_id'] for e in entries(fewshot(parts, test_mode=True))]
    assert sorted(ids) == [0, 1, 2, 3]  # both files number their images 1, 2: kept apart
    shots = fewshot(parts, class_split=dict(novel=['crack']), shots=2).kshot_selection
    assert shots.selection == {'dent': ['train/_annotations.coco.json#2',
                                        'valid/_annotations.coco.json#2'],
                               'crack': ['train/_annotations.coco.json#1',
                                         'valid/_annotations.coco.json#1']}


def test_exports_of_one_file_name_in_several_folders_keep_their_keys_apart(tmp_path):
    """``lineA/train.json``, ``lineB/train.json``, each its own data_root, ids from 1: a shared
    key source takes the fewest last folders of its root that tell the roots apart (never the
    machine's part of the path); the same file read twice is still refused."""
    roots = [tmp_path / 'site' / 'a' / 'data', tmp_path / 'site' / 'b' / 'data',
             tmp_path / 'lineC', tmp_path / 'lineD']
    for root, name in zip(roots, ('train', 'train', 'train', 'valid')):
        os.makedirs(root)
        coco_file(root, name, [img(1), img(2)],
                  [ann(1, 1, 1, [5, 5, 10, 10]), ann(2, 2, 2, [8, 8, 12, 12])], CRACK_DENT)
    parts = [coco_cfg(root, name, ('crack', 'dent'))
             for root, name in zip(roots, ('train', 'train', 'train', 'valid'))]
    sources = ['a/data/train.json', 'b/data/train.json', 'lineC/train.json', 'valid.json']
    for split in (None, dict(novel=['crack'])):  # whatever the label space
        shots = fewshot(parts, class_split=split, shots=4).kshot_selection.selection
        assert shots == {'crack': [f'{s}#1' for s in sources],
                         'dent': [f'{s}#2' for s in sources]}
    shutil.copytree(roots[0] / 'images', roots[0] / 'copy')  # the same file, other images
    twice = [parts[0], dict(parts[0], data_prefix=dict(img='copy/'))]
    with pytest.raises(ValueError, match=r"instance_key: 'train\.json#1' also names"):
        fewshot(twice, shots=1)


def test_concatenated_coco_and_voc_test_sets_are_evaluated_as_pycocotools_evaluates_them(
        tmp_path):
    """COCO's int image ids beside VOC's str ids, and two COCO exports both numbering their
    image 1: the images are numbered 0..n-1, so FewShotCocoMetric sorts them and never merges
    two images (a detection on one would match the other's object)."""
    for name, box in (('a', [5, 5, 15, 15]), ('b', [30, 30, 20, 20])):
        os.makedirs(tmp_path / name)
        coco_file(tmp_path / name, 'test', [img(1)], [ann(1, 1, 1, box)], CRACK_DENT)
    voc_tree(tmp_path / 'voc', [[('dent', (10, 10, 40, 30), 0)]])
    coco_a, coco_b = (coco_cfg(tmp_path / name, 'test', ('crack', 'dent')) for name in 'ab')
    voc = voc_cfg(tmp_path / 'voc', ('crack', 'dent'))
    assert [e['img_id'] for e in entries(fewshot(coco_a, test_mode=True))] == [1]
    assert [e['img_id'] for e in entries(fewshot(voc, test_mode=True))] == ['000000']
    assert [e['img_id'] for e in entries(fewshot([coco_a, voc], test_mode=True))] == [0, 1]
    dataset = fewshot([coco_a, coco_b, voc], test_mode=True)
    # a's detection lies on b's object: a false positive unless a and b were one image
    detections = [([30, 30, 50, 50], 0, 0.9), ([30, 30, 50, 50], 0, 0.5),
                  ([9, 9, 39, 29], 1, 0.8)]
    images = [dict(img_id=e['img_id'], height=e['height'], width=e['width'],
                   instances=[dict(i, mask=[]) for i in e['instances']],
                   pred=dict(bboxes=np.array([box], np.float32),
                             labels=np.array([label]), scores=np.array([score], np.float32)))
              for e, (box, label, score) in zip(entries(dataset), detections)]
    assert [image['img_id'] for image in images] == [0, 1, 2]
    results = run_metric(images, meta=dataset.metainfo, backend='pycocotools')
    expected = reference_stats(images, 'bbox', [0, 1], tmp_path)
    assert [results['fs/bbox_mAP'], results['fs/bbox_mAP_50']] == pytest.approx(
        expected[:2], abs=1e-9)
    assert 0 < results['fs/bbox_mAP_50'] < 1


# 5 and 15. a selection names each shot by image and box, and survives a re-export ----------
def test_selection_files_name_image_and_box_and_follow_a_reexport(tmp_path):
    root = str(tmp_path)
    coco = write_coco(root, 'train', 12, seed=1)
    cfg = coco_cfg(root, 'train', CLASSES)
    split = dict(novel=['crack', 'hole'])
    drawn = fewshot(cfg, class_split=split, shots=2, seed=3)
    path = str(tmp_path / 'kshot_selection.json')
    drawn.kshot_selection.save(path)
    with open(path) as f:
        saved = json.load(f)['selection']
    anns = {a['id']: a for a in coco['annotations']}
    names = {i['id']: i['file_name'] for i in coco['images']}
    for shots in saved.values():
        for shot in shots:
            a = anns[int(shot['key'].split('#')[1])]
            x, y, w, h = a['bbox']
            assert shot['image'] == f"images/{names[a['image_id']]}"
            assert shot['bbox'] == [x, y, x + w, y + h]
    # re-exported: the same objects, annotation ids renumbered (reversed)
    renumbered = dict(coco, annotations=[dict(a, id=len(anns) + 1 - a['id'])
                                         for a in coco['annotations']])
    with open(tmp_path / 'train.json', 'w') as f:
        json.dump(renumbered, f)
    loaded = fewshot(cfg, class_split=split, load_selection=path)

    def objects(dataset):
        return sorted((e['img_path'], tuple(i['bbox']), i['bbox_label'])
                      for e in entries(dataset) for i in e['instances'] if not i['ignore_flag'])
    assert objects(loaded) == objects(drawn)
    assert loaded.kshot_selection.selection != drawn.kshot_selection.selection  # new keys
    # an object that moved is refused, saying which shot and what its key names now
    first = saved['crack'][0]
    moved = dict(renumbered, annotations=[
        dict(a, bbox=[a['bbox'][0] + 1] + a['bbox'][1:])
        if a['id'] == len(anns) + 1 - int(first['key'].split('#')[1]) else a
        for a in renumbered['annotations']])
    with open(tmp_path / 'train.json', 'w') as f:
        json.dump(moved, f)
    with pytest.raises(ValueError, match=rf"kshot_selection\.json: selection\.crack\[0\]: the "
                       rf"shot '{first['key']}' \({first['image']} box .* is not one 'crack' "
                       r"object of this dataset.*annotations changed since the selection"):
        fewshot(cfg, class_split=split, load_selection=path)
    assert KShotSelection.load(path).objects  # format 2 is read back with its objects


@pytest.mark.parametrize('drawn_under', ['outer', 'inner'])
def test_a_selection_reapplied_under_respelled_paths_says_paths_are_relative_to_data_root(
        tmp_path, drawn_under):
    """The same files as data_root='R/', ann_file='parts/train.json' or as
    data_root='R/parts', ann_file='train.json': keys and image paths of a selection file are
    relative to data_root, so the re-spelled dataset is not the one it names; the error says
    so, naming data_root, not that the annotations changed."""
    write_coco(str(tmp_path / 'parts'), 'train', 8, seed=1)
    cfgs = dict(outer=dict(coco_cfg(f'{tmp_path}/', 'train', CLASSES),
                           ann_file='parts/train.json', data_prefix=dict(img='parts/images/')),
                inner=coco_cfg(tmp_path / 'parts', 'train', CLASSES))
    loaded_under = 'inner' if drawn_under == 'outer' else 'outer'
    path = str(tmp_path / 'kshot_selection.json')
    fewshot(cfgs[drawn_under], shots=1, seed=3).kshot_selection.save(path)
    way = 'without' if drawn_under == 'outer' else 'with'
    root = re.escape(repr(cfgs[loaded_under]['data_root']))
    with pytest.raises(ValueError, match=(
            rf"kshot_selection\.json: selection\.\w+\[0\]: the shot .* is not one '\w+' object "
            r"of this dataset; no instance of this dataset has key .*\. Keys and image paths "
            rf"in a selection file are relative to the dataset's data_root \({root} here\): "
            r"this shot's image '(parts/)?images/train_\d\.jpg' is '(parts/)?images/train_\d"
            rf"\.jpg' here, the same box, so the selection was likely drawn with a data_root "
            rf"{way} the trailing folder\(s\) 'parts/'")) as error:
        fewshot(cfgs[loaded_under], load_selection=path)
    assert 'annotations changed' not in str(error.value)


# 6. TFA VOC seed files: a difficult object is the shot; a missing image its own message -----
def voc_tree(root, objects_per_image, year='2007', split='train', suffix='.jpg',
             size=True, filename=True, blank_lines=False):
    """Write a VOC tree; objects are (name, [xmin, ymin, xmax, ymax] as text, difficult)."""
    base = os.path.join(root, f'VOC{year}')
    os.makedirs(os.path.join(base, 'Annotations'), exist_ok=True)
    ids = []
    for i, objects in enumerate(objects_per_image):
        image_id = f'{i:06d}'
        ids.append(image_id)
        image(os.path.join(base, 'JPEGImages', image_id + suffix))
        parts = ['<annotation>']
        if filename:
            parts.append(f'<filename>{image_id}{suffix}</filename>')
        if size:
            parts.append(f'<size><width>{SIZE}</width><height>{SIZE}</height></size>')
        for name, box, difficult in objects:
            inner = '' if name is None else f'<name>{name}</name>'
            inner += f'<difficult>{difficult}</difficult>'
            if box is not None:
                inner += '<bndbox>' + ''.join(f'<{k}>{v}</{k}>' for k, v in zip(
                    ('xmin', 'ymin', 'xmax', 'ymax'), box)) + '</bndbox>'
            parts.append(f'<object>{inner}</object>')
        parts.append('</annotation>')
        with open(os.path.join(base, 'Annotations', f'{image_id}.xml'), 'w') as f:
            f.write(''.join(parts))
    os.makedirs(os.path.join(base, 'ImageSets', 'Main'), exist_ok=True)
    with open(os.path.join(base, 'ImageSets', 'Main', f'{split}.txt'), 'w') as f:
        f.write(('\n\n' if blank_lines else '\n').join(ids) + '\n')
    return ids


def voc_cfg(root, classes, split='train'):
    return dict(type='VOCDataset', data_root=str(root),
                ann_file=f'VOC2007/ImageSets/Main/{split}.txt',
                data_prefix=dict(sub_data_root='VOC2007/'), metainfo=dict(classes=classes))


def test_tfa_voc_files_train_on_difficult_objects_and_name_missing_images(tmp_path):
    voc_tree(tmp_path, [[('dog', (5, 5, 20, 20), 1)],                       # difficult only
                        [('dog', (5, 5, 20, 20), 0), ('cat', (30, 30, 50, 50), 0)]])
    folder = tmp_path / 'seed1'
    folder.mkdir()
    (folder / 'box_1shot_dog_train.txt').write_text('datasets/VOC2007/JPEGImages/000000.jpg\n')
    (folder / 'box_1shot_cat_train.txt').write_text('datasets/VOC2007/JPEGImages/000001.jpg\n')
    dataset = fewshot(voc_cfg(tmp_path, ('dog', 'cat')), shots=1, load_selection=str(folder))
    assert dataset.kshot_selection.selection == {
        'dog': ['VOC2007/Annotations/000000.xml#0'], 'cat': ['VOC2007/Annotations/000001.xml#1']}
    dog = entries(dataset)[0]['instances'][0]
    assert dog['instance_key'] == 'VOC2007/Annotations/000000.xml#0'
    assert dog['ignore_flag'] == 0  # TFA trains on it
    (folder / 'box_1shot_dog_train.txt').write_text('datasets/VOC2007/JPEGImages/000009.jpg\n')
    with pytest.raises(ValueError, match=r"box_1shot_dog_train\.txt: images \['000009'\] are "
                       r"not in the dataset"):
        fewshot(voc_cfg(tmp_path, ('dog', 'cat')), shots=1, load_selection=str(folder))
    (folder / 'box_1shot_dog_train.txt').write_text('datasets/VOC2007/JPEGImages/000001.jpg\n')
    (folder / 'box_1shot_cat_train.txt').write_text('datasets/VOC2007/JPEGImages/000000.jpg\n')
    with pytest.raises(ValueError, match=r"box_1shot_cat_train\.txt: images \['000000'\]: no "
                       r"'cat' object in them"):
        fewshot(voc_cfg(tmp_path, ('dog', 'cat')), shots=1, load_selection=str(folder))


# 7 and 14. image files: EXIF-turned size, truncated or missing images at build time --------
def test_an_exif_turned_image_annotated_at_its_stored_size_is_named_in_every_format(tmp_path):
    # stored 60 wide x 40 high with orientation 6: mmdet's loader gives 40 wide x 60 high
    coco_file(tmp_path, 'train', [img(1, 'turned.jpg', width=60, height=40), img(2)],
              [ann(1, 1, 1, [5, 5, 50, 30]), ann(2, 2, 1, [5, 5, 10, 10])], CRACK_DENT)
    image(str(tmp_path / 'images' / 'turned.jpg'), 60, 40, orientation=6)
    with pytest.raises(FieldError, match=r"train\.json: images\[id=1\]: image size is not the "
                       r"annotated size \(40x60 \(height x width\) in the annotation, .*turned"
                       r"\.jpg loads as 60x40 \(EXIF orientation 6"):
        fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')))
    skipped = fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')), on_error='skip')
    assert [e['img_id'] for e in entries(skipped)] == [2]
    (report,) = skipped.read_reports.values()
    assert report.by_reason(unit='image') == {'image size is not the annotated size': 1}
    assert report.by_reason(unit='object') == {'on a skipped image': 1}  # its crack
    voc_tree(tmp_path / 'voc', [[('crack', (6, 6, 50, 30), 0)]])
    path = tmp_path / 'voc' / 'VOC2007'
    image(str(path / 'JPEGImages' / '000000.jpg'), 60, 40, orientation=6)
    xml = path / 'Annotations' / '000000.xml'
    xml.write_text(xml.read_text().replace(f'<width>{SIZE}</width><height>{SIZE}</height>',
                                           '<width>60</width><height>40</height>'))
    with pytest.raises(FieldError, match=r"000000\.xml: size: image size is not the annotated "
                       r"size .*EXIF orientation 6"):
        fewshot(voc_cfg(tmp_path / 'voc', ('crack',)))


def test_an_exif_turned_image_of_the_annotated_size_is_kept_and_named(tmp_path):
    """EXIF orientation 2-4, or 5-8 on a square image, turns the image at the same size: boxes
    drawn on its stored pixels (LabelImg) land elsewhere once mmdet turns it, and no size tells
    which frame they are in. Kept (they may be right) and named; labelme shows images turned,
    so its shapes are in mmdet's frame."""
    for name, width, height, orientation in (('o3', 60, 40, 3), ('o6', SIZE, SIZE, 6),
                                             ('o6_wide', 60, 40, 6), ('o1', SIZE, SIZE, 1)):
        image(str(tmp_path / 'images' / f'{name}.jpg'), width, height, orientation=orientation)
    coco_file(tmp_path, 'train', [img(1, 'o3.jpg', 60, 40), img(2, 'o6.jpg'),
                                  img(3, 'o6_wide.jpg', 40, 60), img(4, 'o1.jpg'), img(5)],
              [ann(i, i, 1, [5, 5, 10, 10]) for i in range(1, 6)], CRACK_DENT)
    dataset = fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')))
    assert [e['img_id'] for e in entries(dataset)] == [1, 2, 3, 4, 5]
    (report,) = dataset.read_reports.values()
    assert report.by_reason('kept', unit='image') == {EXIF_TURNED: 2}
    assert report.count('skipped') == report.count('fixed') == 0
    summary = report.format()
    assert summary.startswith('kept 2 images: mmdet loads the image turned by its EXIF '
                              'Orientation, at the annotated size: the boxes must be drawn '
                              'on the turned image')
    assert 'PIL.ImageOps.exif_transpose' in summary
    assert f"{tmp_path / 'images' / 'o3.jpg'}: 1 (EXIF Orientation 3)" in summary
    assert f"{tmp_path / 'images' / 'o6.jpg'}: 1 (EXIF Orientation 6)" in summary
    voc_tree(tmp_path / 'voc', [[('crack', (6, 6, 50, 30), 0)]])
    image(str(tmp_path / 'voc' / 'VOC2007' / 'JPEGImages' / '000000.jpg'), orientation=2)
    (report,) = fewshot(voc_cfg(tmp_path / 'voc', ('crack',))).read_reports.values()
    assert report.by_reason('kept', unit='image') == {EXIF_TURNED: 1}
    folder = tmp_path / 'labelme'
    image(str(folder / 'a.jpg'), orientation=3)
    (folder / 'a.json').write_text(json.dumps(dict(
        version='5.5.0', flags={}, imagePath='a.jpg', imageData=None, imageHeight=SIZE,
        imageWidth=SIZE, shapes=[dict(label='crack', points=[[5, 5], [20, 20]], group_id=None,
                                      shape_type='rectangle', flags={})])))
    labelme = fewshot(dict(type='LabelmeDataset', data_root=str(folder),
                           metainfo=dict(classes=('crack',))))
    assert len(labelme) == 1
    assert not any(labelme.read_reports.values())


def test_truncated_and_missing_images_are_named_when_the_dataset_is_built(tmp_path):
    coco_file(tmp_path, 'train', [img(1, 'a.jpg', 240, 160)], [ann(1, 1, 1, [5, 5, 10, 10])],
              CRACK_DENT)
    path = tmp_path / 'images' / 'a.jpg'
    image(str(path), 240, 160)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) * 2 // 3])
    with pytest.raises(FieldError, match=r"train\.json: images\[id=1\]: truncated image \(.*"
                       r"a\.jpg"):
        fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')), test_mode=True)
    path.unlink()
    with pytest.raises(FieldError, match=r"images\[id=1\]: image not found \(.*a\.jpg"):
        fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')))


def test_a_missing_image_named_with_backslashes_gets_a_hint(tmp_path):
    """A COCO file written on Windows: 'sub\\a.jpg' names no file on Linux ('\\' is part of a
    name there), and the error did not say why; the name is not rewritten."""
    coco_file(tmp_path, 'train', [img(1, 'sub/a.jpg'), img(2, 'b.jpg')],
              [ann(1, 1, 1, [5, 5, 10, 10]), ann(2, 2, 2, [8, 8, 12, 12])], CRACK_DENT)
    data = json.loads((tmp_path / 'train.json').read_text())
    data['images'][0]['file_name'] = 'sub\\a.jpg'
    (tmp_path / 'train.json').write_text(json.dumps(data))
    with pytest.raises(FieldError, match=r"images\[id=1\]: image not found \(.*sub\\a\.jpg: "
                       r"FileNotFoundError: .*; the name holds '\\' \(a Windows path separator"
                       r"\?\): on Linux and macOS only '/' separates folders"):
        fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')))
    skipped = fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')), on_error='skip')
    assert [e['img_path'] for e in entries(skipped)] == [str(tmp_path / 'images' / 'b.jpg')]
    assert skipped.read_reports[str(tmp_path / 'train.json')].by_reason(
        'skipped', unit='image') == {'image not found': 1}
    data['images'][0]['file_name'] = 'sub/a.jpg'
    (tmp_path / 'train.json').write_text(json.dumps(data))
    os.remove(tmp_path / 'images' / 'b.jpg')  # a name without '\\': no hint
    with pytest.raises(FieldError, match=r"images\[id=2\]: image not found") as err:
        fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')))
    assert 'Windows' not in str(err.value)


def test_a_file_name_starting_with_the_prefix_folder_gets_a_hint(tmp_path):
    """Label Studio's COCO export names its images 'images/<name>' beside an images/ folder:
    with the README's data_prefix=dict(img='images/') the path was images/images/a.jpg, and
    the error did not say why."""
    coco_file(tmp_path, 'train', [img(1, 'images/a.jpg')], [ann(1, 1, 1, [5, 5, 10, 10])],
              CRACK_DENT)
    os.replace(tmp_path / 'images' / 'images' / 'a.jpg', tmp_path / 'images' / 'a.jpg')
    found = re.escape(str(tmp_path / 'images' / 'a.jpg'))
    with pytest.raises(FieldError, match=r"images\[id=1\]: image not found \(.*images/images/"
                       rf"a\.jpg: FileNotFoundError: .*; the folder 'images/' is named twice, "
                       rf"and {found} exists: the file name already starts with 'images/', "
                       r"which data_root or data_prefix adds too: leave it out of one of them "
                       r"\(e\.g\. data_prefix=dict\(img=''\)\)"):
        fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')))
    cfg = dict(coco_cfg(tmp_path, 'train', ('crack', 'dent')), data_prefix=dict(img=''))
    assert [e['img_path'] for e in entries(fewshot(cfg))] == [str(tmp_path / 'images' / 'a.jpg')]
    os.remove(tmp_path / 'images' / 'a.jpg')  # the path without the repeat names no file
    with pytest.raises(FieldError, match=r"image not found") as err:
        fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')))
    assert 'named twice' not in str(err.value)


def test_a_file_name_differing_only_in_case_gets_a_hint(tmp_path):
    """An export made on Windows names 'A.JPG' for the file a.jpg: Windows finds it, Linux
    does not, and the error did not say why; the name is not rewritten."""
    coco_file(tmp_path, 'train', [img(1, 'A.JPG'), img(2, 'b.jpg')],
              [ann(1, 1, 1, [5, 5, 10, 10]), ann(2, 2, 2, [8, 8, 12, 12])], CRACK_DENT)
    os.replace(tmp_path / 'images' / 'A.JPG', tmp_path / 'images' / 'a.jpg')
    with pytest.raises(FieldError, match=r"images\[id=1\]: image not found \(.*A\.JPG: "
                       r"FileNotFoundError: .*; the folder holds 'a\.jpg', which differs only "
                       r"in case: file names are case-sensitive here"):
        fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')))
    os.remove(tmp_path / 'images' / 'a.jpg')  # no file of that name in any case: no hint
    with pytest.raises(FieldError, match=r"images\[id=1\]: image not found") as err:
        fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')))
    assert 'case' not in str(err.value)


# 8, 9 and 10. VOC: malformed XML named, blank lines, 0-based and float coordinates, PNGs ----
def test_malformed_voc_objects_are_named_by_file_and_element(tmp_path):
    for name, objects, message in (
            ('nobox', [('crack', (5, 5, 9, 9), 0), ('crack', None, 0)],
             r"000001\.xml: object\[1\]/bndbox: missing \(object 'crack'\)"),
            ('noname', [(None, (5, 5, 9, 9), 0)], r"000000\.xml: object\[0\]/name: missing"),
            ('nan', [('crack', (5, 'x', 9, 9), 0)],
             r"000000\.xml: object\[0\]/bndbox/ymin: not a number: 'x'")):
        root = tmp_path / name
        voc_tree(root, [[('crack', (5, 5, 9, 9), 0)], objects] if name == 'nobox'
                 else [objects])
        with pytest.raises(FieldError, match=message):
            fewshot(voc_cfg(root, ('crack',)))


def test_a_voc_file_in_an_xml_namespace_is_named_not_read_as_defect_free(tmp_path):
    """With xmlns="..." on <annotation>, mmdet's root.findall('object') finds no object: the
    image read as one without defects, its objects lost without a word."""
    voc_tree(tmp_path, [[('crack', (5, 5, 20, 20), 0)], [('crack', (9, 9, 30, 30), 0)]])
    xml = tmp_path / 'VOC2007' / 'Annotations' / '000000.xml'
    xml.write_text(xml.read_text().replace('<annotation>',
                                           '<annotation xmlns="http://example.org/voc">'))
    with pytest.raises(FieldError, match=r"000000\.xml: annotation: in the XML namespace "
                       r"'http://example\.org/voc': mmdet reads <object>, <size> and "
                       r"<filename> without one and would find no object"):
        fewshot(voc_cfg(tmp_path, ('crack',)), test_mode=True)
    skipped = fewshot(voc_cfg(tmp_path, ('crack',)), on_error='skip', test_mode=True)
    assert [e['img_id'] for e in entries(skipped)] == ['000001']  # not one without defects
    (report,) = skipped.read_reports.values()
    assert report.by_reason('skipped', unit='image') == {
        "in the XML namespace 'http://example.org/voc': mmdet reads <object>, <size> and "
        '<filename> without one and would find no object': 1}


def test_voc_blank_lines_zero_based_and_float_coordinates(tmp_path):
    voc_tree(tmp_path, [[('crack', (0, 0, 20, 20), 0)], [('crack', ('10.7', '5.2', 30, 64), 0)]],
             blank_lines=True)
    dataset = fewshot(voc_cfg(tmp_path, ('crack',)))
    boxes = [e['instances'][0]['bbox'] for e in entries(dataset)]
    assert boxes == [[0, 0, 19, 19], [9, 4, 29, 63]]  # mmdet's int(float(v)) - 1, held inside
    (report,) = dataset.read_reports.values()
    assert report.by_reason('fixed') == {'box clipped to the image': 1}


def test_checked_voc_entries_equal_mmdets_for_valid_input(tmp_path):
    root = str(tmp_path)
    write_voc(root, '2007', 'train', 10, seed=3, difficult_every=4)
    ours = entries(fewshot(voc_cfg(root, CLASSES), check_images=False))
    plain = VOCDataset(data_root=root, ann_file='VOC2007/ImageSets/Main/train.txt',
                       data_prefix=dict(sub_data_root='VOC2007/'),
                       metainfo=dict(classes=CLASSES), pipeline=[])
    theirs = [plain.get_data_info(i) for i in range(len(plain))]
    for entry in ours:
        entry.pop('sample_idx')
        assert entry.pop('left_out_instances') == 0  # every object read
        for inst in entry['instances']:
            inst.pop('instance_key')
    for entry in theirs:
        entry.pop('sample_idx')
    assert ours == theirs


def test_voc_png_images_are_found_and_a_missing_one_named_at_build(tmp_path):
    voc_tree(tmp_path, [[('crack', (5, 5, 20, 20), 0)]], suffix='.png')
    (dataset_entry,) = entries(fewshot(voc_cfg(tmp_path, ('crack',))))
    assert dataset_entry['img_path'].endswith('JPEGImages/000000.png')
    os.remove(tmp_path / 'VOC2007' / 'JPEGImages' / '000000.png')
    with pytest.raises(FieldError, match=r"000000\.xml: filename: image not found \(tried "
                       r".*000000\.jpg, .*000000\.png"):
        fewshot(voc_cfg(tmp_path, ('crack',)))


# 11. a class-name typo in the config, or a label no class names, on every format ------------
def test_a_class_name_typo_is_an_error_with_the_near_match_on_coco_and_voc(tmp_path):
    coco_file(tmp_path, 'train', [img(1)], [ann(1, 1, 1, [5, 5, 10, 10])],
              [dict(id=1, name='inclusion'), dict(id=2, name='patches')])
    with pytest.raises(FieldError, match=r"'inclusoin' \(did you mean 'inclusion'\?\)"):
        fewshot(coco_cfg(tmp_path, 'train', ('inclusoin', 'patches')))
    voc_tree(tmp_path / 'voc', [[('inclusion', (5, 5, 20, 20), 0)]])
    with pytest.raises(FieldError, match=r"000000\.xml: object\[0\]/name: label not in classes "
                       r"\('inclusion' is not one of the 2 classes \['inclusoin', 'patches'\]; "
                       r"did you mean 'inclusoin'\?; on_error='skip' leaves such objects out"):
        fewshot(voc_cfg(tmp_path / 'voc', ('inclusoin', 'patches')))


def test_the_near_match_of_a_class_prefers_white_space_then_case_then_spelling(tmp_path):
    from mmfs_data.fewshot.classes import near_match
    assert near_match(unicodedata.normalize('NFD', 'tache é'), ['tache e', 'tache é']) == \
        'tache é'  # the same name in another Unicode normalization first
    assert near_match('crack ', ['Crack', 'crack']) == 'crack'
    assert near_match('CRACK ', ['Crack', 'crak']) == 'Crack'
    assert near_match('crak', ['Crack', 'crack', 'dent']) == 'crack'
    assert near_match('hole', ['crack', 'dent']) is None
    coco_file(tmp_path, 'train', [img(1)], [ann(1, 1, 1, [5, 5, 10, 10])],
              [dict(id=1, name='crack'), dict(id=2, name='Crack')])
    with pytest.raises(FieldError, match=r"'crack ' \(did you mean 'crack'\?\)"):
        fewshot(coco_cfg(tmp_path, 'train', ('crack', 'crack ')))


def test_a_class_name_differing_only_in_unicode_normalization_is_named_as_such(tmp_path):
    """'é' as one code point (NFC) or as 'e' and a combining accent (NFD) print alike: the
    hint says how they differ; labels are compared as written, never normalized."""
    nfc, nfd = 'tache é', unicodedata.normalize('NFD', 'tache é')
    assert nfc != nfd
    said = re.escape(f'did you mean {nfc!r}? It differs only in Unicode normalization, NFD vs '
                     f'NFC: write it as {nfc!r} is written, in NFC')
    coco_file(tmp_path, 'train', [img(1)], [ann(1, 1, 1, [5, 5, 10, 10])],
              [dict(id=1, name=nfc), dict(id=2, name='dent')])
    with pytest.raises(FieldError, match=rf"categories: the configured classes {nfd!r} "
                       rf"\({said}\) are not categories of this file"):
        fewshot(coco_cfg(tmp_path, 'train', (nfd, 'dent')))
    with pytest.raises(ValueError, match=rf"class split: classes \[{nfd!r}\] are not among "
                       rf"the dataset classes \[{nfc!r}, 'dent'\]; {nfd!r}: {said} "):
        fewshot(coco_cfg(tmp_path, 'train', (nfc, 'dent')), class_split=dict(novel=[nfd]))
    said_back = re.escape(f'did you mean {nfc!r}? It differs only in Unicode normalization, '
                          'NFD vs NFC')
    voc_tree(tmp_path / 'voc', [[(nfd, (5, 5, 20, 20), 0)]])
    with pytest.raises(FieldError, match=rf"object\[0\]/name: label not in classes "
                       rf"\({nfd!r} is not one of .*; {said_back}"):
        fewshot(voc_cfg(tmp_path / 'voc', (nfc, 'dent')))


# 16. what the run uses, per class, logged when the dataset is built -------------------------
def test_the_class_table_says_what_is_available_and_used(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr('mmfs_plugin.datasets.fewshot_dataset.print_log',
                        lambda msg, **kwargs: logged.append(msg))
    coco_file(tmp_path, 'train', [img(1), img(2), img(3)], [
        ann(1, 1, 1, [5, 5, 10, 10]), ann(2, 2, 1, [5, 5, 10, 10]), ann(3, 2, 2, [30, 30, 9, 9]),
        ann(4, 3, 2, [5, 5, 10, 10]), ann(5, 3, 2, [30, 30, 9, 9])], CRACK_DENT)
    fewshot(coco_cfg(tmp_path, 'train', ('dent', 'crack')), class_split=dict(novel=['crack']),
            shots=1, seed=0)
    table = next(msg for msg in logged if msg.startswith('FewShotDataset (train.json; training'))
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines()[2:]}
    assert rows['dent'][:4] == ['base', '2', '3', '1']
    assert rows['crack'][:4] == ['novel', '2', '2', '1']
    assert rows['(base)'] == ['base', '2', '3', '1', '1', '1']
    assert rows['(novel)'] == ['novel', '2', '2', '1', '1', '1']
    assert rows['total'] == ['3', '5', '2', '2', '2']  # every image read, every one kept


def test_the_class_table_counts_the_images_that_mmdets_filter_keeps(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr('mmfs_plugin.datasets.fewshot_dataset.print_log',
                        lambda msg, **kwargs: logged.append(msg))
    # image 1 holds a crack only: an ignore region in base training, dropped by filter_empty_gt
    coco_file(tmp_path, 'train', [img(1), img(2)], [
        ann(1, 1, 1, [5, 5, 10, 10]), ann(2, 2, 2, [5, 5, 10, 10])], CRACK_DENT)
    dataset = fewshot(coco_cfg(tmp_path, 'train', ('dent', 'crack')),
                      class_split=dict(novel=['crack']), setting='base',
                      filter_cfg=dict(filter_empty_gt=True))
    assert len(dataset) == 1
    table = next(msg for msg in logged if msg.startswith('FewShotDataset (train.json; training'))
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines()[2:]}
    assert rows['total'][-2:] == ['1', '1']  # one image used, one instance


def test_the_class_table_of_many_classes_keeps_novel_rows_and_sums_the_rest():
    from mmfs_data.fewshot.summary import class_table
    classes = tuple(f'c{i}' for i in range(50))
    space = resolve_label_space(classes, dict(novel=['c49']), 'gfsod')
    data = [dict(instances=[dict(bbox_label=i, ignore_flag=0)]) for i in range(50)]
    lines = class_table(data, data, space, 'title', max_rows=5).splitlines()
    assert [line.split()[0] for line in lines[2:]] == [
        'c0', 'c1', 'c2', 'c3', 'c49', '...', '(base)', '(novel)', 'total']
    assert lines[7] == '... 45 more base classes, 45 instances used'


def test_voc_copy_of_a_tree_keeps_its_keys(tmp_path):
    """Keys are relative to data_root: the same tree elsewhere has the same keys."""
    voc_tree(tmp_path / 'a', [[('crack', (5, 5, 20, 20), 0)]])
    shutil.copytree(tmp_path / 'a', tmp_path / 'b')
    keys = [[i['instance_key'] for e in entries(fewshot(voc_cfg(tmp_path / n, ('crack',))))
             for i in e['instances']] for n in ('a', 'b')]
    assert keys[0] == keys[1] == ['VOC2007/Annotations/000000.xml#0']


# what a first review as a new user found ----------------------------------------------------
def test_a_missing_area_of_a_compressed_rle_is_computed_and_a_bad_segmentation_named(tmp_path):
    from pycocotools import mask as mask_utils
    bitmap = np.zeros((SIZE, SIZE), np.uint8)
    bitmap[10:30, 5:25] = 1
    rle = mask_utils.encode(np.asfortranarray(bitmap))
    rle['counts'] = rle['counts'].decode()
    coco_file(tmp_path, 'train', [img(1)], [
        ann(1, 1, 1, [5, 10, 20, 20], area=None, segmentation=rle, iscrowd=1),
        ann(2, 1, 2, [5, 10, 20, 20], area=None, segmentation=[[]])], CRACK_DENT)
    from mmfs_data.formats.coco import load_coco_json, read_coco
    path = str(tmp_path / 'train.json')
    index = read_coco(load_coco_json(path), ('crack', 'dent'), path)
    assert [a['area'] for a in index.annotations[1]] == [400.0, 400.0]
    coco_file(tmp_path, 'bad', [img(1)], [
        ann(1, 1, 1, [5, 10, 20, 20], area=None, segmentation=[[1, 2, 3]])], CRACK_DENT)
    with pytest.raises(FieldError, match=r"bad\.json: annotations\[0\]\.segmentation: bad "
                       r"segmentation \(its area cannot be computed"):
        fewshot(coco_cfg(tmp_path, 'bad', ('crack', 'dent')))


def test_a_segmentation_only_coco_annotation_is_named_with_how_to_give_its_box(tmp_path):
    """No bbox but a polygon: mmdet's CocoDataset needs the box (pycocotools computes it for
    results only); the user was told 'bad bbox (... got None)'."""
    from pycocotools import mask as mask_utils
    polygon = [[5, 5, 15, 5, 15, 15, 5, 15]]
    only = ann(2, 1, 2, [5, 5, 10, 10], segmentation=polygon)
    del only['bbox']
    coco_file(tmp_path, 'train', [img(1)], [ann(1, 1, 1, [8, 8, 12, 12]), only], CRACK_DENT)
    with pytest.raises(FieldError, match=r"annotations\[1\]\.bbox: bad bbox \(the annotation "
                       r"has a segmentation and no bbox: give its box \[x, y, w, h\] .*"
                       r"mask\.toBbox\(mask\.merge\(mask\.frPyObjects\(segmentation, height, "
                       r"width\)\)\)"):
        fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')))
    box = mask_utils.toBbox(mask_utils.merge(mask_utils.frPyObjects(polygon, SIZE, SIZE)))
    assert list(box) == [5, 5, 10, 10]  # the remedy named gives the box
    dataset = fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')), on_error='skip')
    assert list(labels_by_ann_id(dataset)) == [1]
    (report,) = dataset.read_reports.values()
    assert report.by_reason('skipped', unit='object') == {'bad bbox': 1}
    coco_file(tmp_path, 'nobox', [img(1)], [dict(only, segmentation=[])], CRACK_DENT)
    with pytest.raises(FieldError, match=r"bad bbox \(must be \[x, y, w, h\] numbers, got "
                       r"None\)$"):  # no segmentation either: as before
        fewshot(coco_cfg(tmp_path, 'nobox', ('crack', 'dent')))


def test_skip_mode_skips_malformed_voc_objects_and_files_counted(tmp_path):
    voc_tree(tmp_path, [[('crack', (5, 5, 9, 9), 0), ('crack', None, 0)],
                        [('crack', (5, 5, 9, 9), 0)], [('crack', (5, 5, 9, 9), 0)]])
    (tmp_path / 'VOC2007' / 'Annotations' / '000002.xml').write_text('<annotation><object>')
    dataset = fewshot(voc_cfg(tmp_path, ('crack',)), on_error='skip')
    assert [e['img_id'] for e in entries(dataset)] == ['000000', '000001']
    (report,) = dataset.read_reports.values()
    assert report.by_reason(unit='object') == {'malformed object': 1}
    assert report.by_reason(unit='image') == {'invalid XML': 1}
    text = report.format()
    assert 'skipped 1 image: invalid XML' in text and "000000.xml: 1 (1 missing (object 'crack'))" \
        in text


def test_skip_mode_skips_coco_images_without_size_with_their_annotations(tmp_path):
    coco_file(tmp_path, 'train', [img(1), img(2)],
              [ann(1, 1, 1, [5, 5, 10, 10]), ann(2, 2, 1, [5, 5, 10, 10])], CRACK_DENT)
    data = json.loads((tmp_path / 'train.json').read_text())
    del data['images'][1]['height']
    (tmp_path / 'train.json').write_text(json.dumps(data))
    with pytest.raises(FieldError, match=r"images\[1\]\.height: must be a positive number"):
        fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')))
    dataset = fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')), on_error='skip')
    assert [e['img_id'] for e in entries(dataset)] == [1]
    (report,) = dataset.read_reports.values()
    assert report.by_reason(unit='image') == {'bad image height': 1}
    assert report.by_reason(unit='object') == {'on a skipped image': 1}


def test_skip_summaries_show_the_labels_left_out(tmp_path):
    coco_file(tmp_path, 'train', [img(1)], [ann(1, 1, 1, [5, 5, 10, 10]),
                                            ann(2, 1, 2, [5, 5, 10, 10])],
              [dict(id=1, name='crack '), dict(id=2, name='dent')])
    dataset = fewshot(coco_cfg(tmp_path, 'train', ('dent',)), on_error='skip')
    (report,) = dataset.read_reports.values()
    assert report.format().splitlines()[:2] == [
        'skipped 1 object: label not in classes', f"  {tmp_path / 'train.json'}: 1 (1 'crack ')"]


def test_voc_id_lists_as_windows_writes_them_and_lines_that_are_not_ids(tmp_path):
    voc_tree(tmp_path, [[('crack', (5, 5, 9, 9), 0)], [('crack', (5, 5, 9, 9), 0)]])
    listing = tmp_path / 'VOC2007' / 'ImageSets' / 'Main' / 'train.txt'
    listing.write_bytes('\ufeff000000\r\n\r\n000001\r\n'.encode('utf-8'))
    assert [e['img_id'] for e in entries(fewshot(voc_cfg(tmp_path, ('crack',))))] == [
        '000000', '000001']
    for text, message in (('000000\n000001\n000000\n', r"line 3: image id '000000' is listed "
                           r"twice \(line 1 too\)"),
                          ('000000  1\n', r"line 1: '000000  1' is not one image id"),
                          ('000000.jpg\n', r"line 1: '000000\.jpg': list image ids without")):
        listing.write_text(text)
        with pytest.raises(FieldError, match=r'train\.txt: ' + message):
            fewshot(voc_cfg(tmp_path, ('crack',)))


def test_a_key_a_dataset_does_not_take_is_named_with_the_remedy(tmp_path):
    """A user's CocoDataset dict merged into a base config's MVTecFSDataset keeps its `split`."""
    coco_file(tmp_path, 'train', [img(1)], [ann(1, 1, 1, [5, 5, 10, 10])], CRACK_DENT)
    cfg = dict(coco_cfg(tmp_path, 'train', ('crack', 'dent')), split='training')
    with pytest.raises(TypeError, match=r"FewShotDataset: dataset: CocoDataset does not take "
                       r"one of the keys .*'split'.*_delete_=True"):
        fewshot(cfg)


@pytest.mark.parametrize('filter_cfg', [dict(filter_empty_gt=True, min_size=32),
                                        dict(filter_empty_gt=True),
                                        dict(filter_empty_gt=False, min_size=32)])
def test_a_coco_datasets_own_filter_cfg_keeps_the_images_mmdet_keeps(tmp_path, filter_cfg):
    """mmdet's filter_data reads ``cat_img_map`` (pycocotools' catToImgs: crowd annotations
    count; an annotation of a category that is no class does not)."""
    categories = CRACK_DENT + [dict(id=3, name='hole')]
    coco_file(tmp_path, 'train', [img(1), img(2), img(3, width=20, height=20), img(4), img(5)], [
        ann(1, 1, 1, [5, 5, 10, 10]),              # image 2: no annotation
        ann(2, 3, 2, [2, 2, 10, 10]),              # image 3: 20x20, under min_size
        ann(3, 4, 3, [5, 5, 10, 10]),              # image 4: a hole only, not a class
        ann(4, 5, 1, [5, 5, 10, 10], iscrowd=1)], categories)  # image 5: a crowd region only
    cfg = dict(coco_cfg(tmp_path, 'train', ('crack', 'dent')), filter_cfg=filter_cfg,
               pipeline=[])
    args = {key: value for key, value in cfg.items() if key != 'type'}
    theirs = [e['img_id'] for e in entries(CocoDataset(**args))]
    checked = reader_class(CocoDataset)(on_error='skip', **args)
    assert [e['img_id'] for e in entries(checked)] == theirs
    assert theirs == (([1, 5] if 'min_size' in filter_cfg else [1, 3, 5])
                      if filter_cfg['filter_empty_gt'] else [1, 2, 4, 5])
    # wrapped by FewShotDataset (the crash of a new user's trial)
    ours = fewshot(cfg, on_error='skip')
    assert [e['img_id'] for e in entries(ours)] == theirs


def test_a_checked_readers_own_failure_is_not_blamed_on_the_file(tmp_path, monkeypatch):
    coco_file(tmp_path, 'train', [img(1)], [ann(1, 1, 1, [5, 5, 10, 10])], CRACK_DENT)

    def broken(*args):
        raise AttributeError('a plugin bug')

    monkeypatch.setattr('mmfs_plugin.datasets.format_readers.instance_key', broken)
    with pytest.raises(RuntimeError, match=r"FewShotDataset: CheckedCocoDataset failed on "
                       r".*train\.json \(AttributeError: a plugin bug\), not on a fault of the "
                       r"file"):
        fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')))
