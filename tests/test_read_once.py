"""Traps a new user's own COCO/VOC data and config fell into without a word (a fresh user's
trial, 2026-12-07): one image read as two, a split or a ``fewshot`` key that silently does
nothing, categories of one name, a border box one pixel off, mmdet's CocoMetric scoring
labels as other classes. Each is now read as the format's tools read it, or named."""
import os

import pytest
from mmdet.registry import DATASETS
from mmengine.config import Config

import mmfs_plugin  # noqa: F401  (registers the plugin)
from mmfs_data.errors import FieldError
from mmfs_plugin.engine import apply_fewshot_settings
from mmfs_plugin.engine.fewshot_runner import _is_fewshot_dataset, check_evaluated_images_apart
from mmfs_plugin.engine.label_order import check_coco_metric_file, check_coco_metric_labels

from .test_coco_voc_faults import (CRACK_DENT, ann, coco_cfg, coco_file, entries, fewshot, img,
                                   voc_cfg, voc_tree)


def test_a_voc_filename_naming_another_files_image_is_an_error_or_a_counted_skip(tmp_path):
    """mmdet looks for <id>.jpg; the plugin's fallback to <filename> must not read one image
    as two entries, each training the other's objects as background."""
    voc_tree(tmp_path, [[('crack', (5, 5, 20, 20), 0)], [('dent', (30, 30, 50, 50), 0)]])
    base = tmp_path / 'VOC2007'
    os.remove(base / 'JPEGImages' / '000001.jpg')  # 000001.xml names 000001.jpg: now gone,
    xml = (base / 'Annotations' / '000001.xml').read_text()  # so its <filename> names 000000's
    (base / 'Annotations' / '000001.xml').write_text(xml.replace('000001.jpg', '000000.jpg'))
    with pytest.raises(FieldError, match=r"000001\.xml: filename: image annotated twice "
                       r"\(.*000000\.jpg is also the image of .*000000\.xml, filename"):
        fewshot(voc_cfg(tmp_path, ('crack', 'dent')))
    skipped = fewshot(voc_cfg(tmp_path, ('crack', 'dent')), on_error='skip')
    assert [e['img_id'] for e in entries(skipped)] == ['000000']
    (report,) = skipped.read_reports.values()
    assert report.by_reason('skipped', unit='image') == {'image annotated twice': 1}
    assert report.by_reason('skipped', unit='object') == {'on a skipped image': 1}


def test_a_coco_file_name_reaching_one_image_by_two_paths_is_an_error(tmp_path):
    coco_file(tmp_path, 'train', [img(1, 'a.jpg'), img(2, './a.jpg')],
              [ann(1, 1, 1, [5, 5, 10, 10]), ann(2, 2, 2, [8, 8, 12, 12])], CRACK_DENT)
    with pytest.raises(FieldError, match=r"train\.json: images\[1\]\.file_name: '\./a\.jpg' is "
                       r"listed twice \(ids 1 and 2, the first as 'a\.jpg'\)"):
        fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')))


def test_concatenated_datasets_of_the_same_images_are_an_error_or_a_counted_skip(tmp_path):
    """Two annotation files of the same images: every image and object would count twice (in
    the k-shot draw a defect could be two of its own shots)."""
    coco_file(tmp_path, 'train', [img(1), img(2)],
              [ann(1, 1, 1, [5, 5, 10, 10]), ann(2, 2, 2, [8, 8, 12, 12])], CRACK_DENT)
    coco_file(tmp_path, 'copy', [img(7, '2.jpg')], [ann(1, 7, 1, [1, 1, 9, 9])], CRACK_DENT)
    parts = [coco_cfg(tmp_path, 'train', ('crack', 'dent')),
             coco_cfg(tmp_path, 'copy', ('crack', 'dent'))]
    with pytest.raises(FieldError, match=r"copy\.json: images\[id=7\]\.file_name: image "
                       r"annotated twice \(.*2\.jpg is also the image of .*train\.json, "
                       r"images\[id=2\]\.file_name"):
        fewshot(parts, test_mode=True)
    skipped = fewshot(parts, test_mode=True, on_error='skip')
    assert len(skipped) == 2  # the first file's two images; the copy's counted
    assert skipped.read_reports[os.path.join(str(tmp_path), 'copy.json')].count() == 2


def test_a_named_split_of_another_dataset_is_an_error(tmp_path):
    coco_file(tmp_path, 'train', [img(1)], [ann(1, 1, 1, [5, 5, 10, 10])], CRACK_DENT)
    for split in ('voc_split1', 'coco_fsod', 'defect_split1'):
        with pytest.raises(ValueError, match=rf"{split}: none of its novel classes .* is among "
                           r"the dataset classes \['crack', 'dent'\]"):
            fewshot(coco_cfg(tmp_path, 'train', ('crack', 'dent')), class_split=split)


def test_coco_categories_of_one_name_are_one_class_counted(tmp_path):
    """pycocotools keeps them apart; labels follow names, so both are 'crack', and the log says
    so (``fixed 1 category``)."""
    categories = CRACK_DENT + [dict(id=30, name='crack', supercategory='plastic')]
    coco_file(tmp_path, 'train', [img(1), img(2)],
              [ann(1, 1, 1, [5, 5, 10, 10]), ann(2, 2, 30, [8, 8, 12, 12])], categories)
    dataset = fewshot(coco_cfg(tmp_path, 'train', ('dent', 'crack')))
    assert sorted(i['bbox_label'] for e in entries(dataset) for i in e['instances']) == [1, 1]
    (report,) = dataset.read_reports.values()
    assert report.by_reason('fixed', unit='category') == {
        'categories of one name read as one class': 1}
    assert "train.json: 1 (id 30 = id 1)" in report.format()


def test_a_voc_box_drawn_past_the_border_reads_as_one_drawn_to_it(tmp_path):
    voc_tree(tmp_path, [[('crack', (40, 40, 64, 64), 0)], [('crack', (40, 40, 70, 70), 0)]])
    dataset = fewshot(voc_cfg(tmp_path, ('crack',)))
    assert [e['instances'][0]['bbox'] for e in entries(dataset)] == [[39, 39, 63, 63]] * 2
    (report,) = dataset.read_reports.values()
    assert report.by_reason('fixed') == {'box clipped to the image': 1}


def _config(tmp_path, fewshot_cfg, evaluator=None):
    coco_file(tmp_path, 'train', [img(1), img(2)],
              [ann(1, 1, 1, [5, 5, 10, 10]), ann(2, 2, 2, [8, 8, 12, 12])], CRACK_DENT)
    dataset = dict(type='FewShotDataset', dataset=coco_cfg(tmp_path, 'train', ('dent', 'crack')))
    return Config(dict(fewshot=fewshot_cfg, default_scope='mmdet',
                       model=dict(type='FasterRCNN', roi_head=dict(bbox_head=dict())),
                       train_dataloader=dict(dataset=dataset),
                       test_dataloader=dict(dataset=dict(dataset, test_mode=True)),
                       test_evaluator=evaluator or dict(type='FewShotCocoMetric')))


def test_an_unknown_fewshot_key_is_an_error_and_on_error_reaches_every_dataset(tmp_path):
    with pytest.raises(ValueError, match=r"fewshot: unknown key 'shot' \(did you mean "
                       r"'shots'\?\); fewshot takes \['setting', 'class_split', 'on_error'"):
        apply_fewshot_settings(_config(tmp_path, dict(shot=1)))
    cfg = apply_fewshot_settings(_config(tmp_path, dict(shots=1, on_error='skip')))
    assert cfg.train_dataloader.dataset.on_error == 'skip'
    assert cfg.test_dataloader.dataset.on_error == 'skip'
    assert cfg.train_dataloader.dataset.shots == 1
    assert 'shots' not in cfg.test_dataloader.dataset


@pytest.mark.parametrize('seed', [1.0, True, '1'])
def test_a_fewshot_seed_that_is_not_an_int_is_refused_naming_seed(tmp_path, seed):
    """seed=1.0 or True drew another selection than seed=1, whose kshot_selection.json was
    then refused on loading; '1' drew seed 1's: each is refused, before any file is read."""
    cfg = apply_fewshot_settings(_config(tmp_path, dict(shots=1, seed=seed)))
    with pytest.raises(ValueError, match=rf"FewShotDataset: seed: must be an int, got {seed!r}"):
        DATASETS.build(cfg.train_dataloader.dataset)


def test_a_wrapper_of_several_evaluated_fewshot_datasets_is_refused_before_the_run(tmp_path):
    """Two COCO files numbering their images from 1 under ConcatDataset(datasets=[
    FewShotDataset, FewShotDataset]) both hold img_id 1, which the metric would evaluate as one
    image; a FewShotDataset of both (dataset=[...]) numbers them apart."""
    from mmfs_plugin.engine import FewShotRunner
    cfg = _config(tmp_path, dict(setting='gfsod'))
    part = cfg.test_dataloader.dataset
    cfg.test_dataloader.dataset = dict(type='ConcatDataset', datasets=[part, part])
    with pytest.raises(ValueError, match=r"test_dataloader\.dataset: a ConcatDataset of 2 "
                       r"FewShotDatasets: .*concatenate inside one FewShotDataset, "
                       r"dict\(type='FewShotDataset', dataset=\[cfg_a, cfg_b\], \.\.\.\)"):
        FewShotRunner.from_cfg(cfg)
    cfg.test_dataloader.dataset = dict(part, dataset=[part.dataset, part.dataset])
    check_evaluated_images_apart(cfg)  # one FewShotDataset of both: accepted
    cfg.train_dataloader.dataset = dict(type='ConcatDataset', datasets=[part, part])
    check_evaluated_images_apart(cfg)  # training pairs nothing by img_id


def test_mmdets_coco_metric_on_a_file_of_another_category_order_is_refused(tmp_path):
    """mmdet's CocoMetric scores label i as the i-th of the file's categories among the classes
    (file order: crack, dent); the dataset labels by name (dent 0, crack 1)."""
    coco_file(tmp_path, 'train', [img(1)], [ann(1, 1, 1, [5, 5, 10, 10])], CRACK_DENT)
    ann_file = str(tmp_path / 'train.json')
    metric = dict(type='CocoMetric', ann_file=ann_file)
    with pytest.raises(ValueError, match=r"test_evaluator: CocoMetric\(ann_file=.*train\.json'\) "
                       r"would score label i as .* \['crack', 'dent'\], but the dataset labels "
                       r"by class name, \['dent', 'crack'\]"):
        check_coco_metric_labels([dict(type='FewShotCocoMetric'), metric], ('dent', 'crack'),
                                 'test_evaluator')
    check_coco_metric_labels(metric, ('crack', 'dent'), 'test_evaluator')  # the file's order
    check_coco_metric_labels(metric, ('dent',), 'test_evaluator')  # one class: no order
    check_coco_metric_labels(dict(type='CocoMetric'), ('dent', 'crack'), 'x')  # no ann_file
    # two categories of one name: label 'crack' would be two category ids
    coco_file(tmp_path, 'two', [img(1)], [], CRACK_DENT + [dict(id=3, name='crack')])
    with pytest.raises(ValueError, match=r"\['crack', 'dent', 'crack'\]"):
        check_coco_metric_labels(dict(metric, ann_file=str(tmp_path / 'two.json')),
                                 ('crack', 'dent'), 'val_evaluator')


def test_the_runner_refuses_such_a_coco_metric_before_it_builds_anything(tmp_path):
    from mmfs_plugin.engine import FewShotRunner
    metric = dict(type='CocoMetric', ann_file=str(tmp_path / 'train.json'))
    cfg = _config(tmp_path, dict(setting='gfsod'), metric)
    with pytest.raises(ValueError, match='test_evaluator: CocoMetric'):  # crack, dent in file
        FewShotRunner.from_cfg(cfg)


def test_a_coco_metric_on_another_file_than_the_evaluated_dataset_is_refused(tmp_path):
    """mmdet's CocoMetric(ann_file=...) scores each prediction against the ground truth that
    its file gives the prediction's img_id: pointed at a validation file beside the test set
    (ids 1, 2 in both), it scored every test image against another image's boxes, silently."""
    from mmfs_plugin.engine import FewShotRunner
    cfg = _config(tmp_path, dict(setting='gfsod'))
    coco_file(tmp_path, 'val', [img(1), img(2)], [ann(1, 1, 2, [30, 30, 9, 9])],
              [dict(id=1, name='dent'), dict(id=2, name='crack')])  # the label space's order
    cfg.test_evaluator = dict(type='CocoMetric', ann_file=str(tmp_path / 'val.json'))
    with pytest.raises(ValueError, match=r"test_evaluator: CocoMetric\(ann_file='.*val\.json'\) "
                       r"scores each prediction against the ground truth of that file for its "
                       r"img_id, but test_dataloader\.dataset reads \['.*train\.json'\]"):
        FewShotRunner.from_cfg(cfg)

    def check(metric, dataset):
        check_coco_metric_file(metric, dataset, 'test_evaluator', 'test_dataloader.dataset',
                               _is_fewshot_dataset)

    dataset = cfg.test_dataloader.dataset
    own = dict(type='CocoMetric', ann_file=os.path.join(str(tmp_path), '.', 'train.json'))
    check(own, dataset)  # the dataset's own file, however spelled
    check(own, dataset.dataset)  # unwrapped too
    check([dict(type='FewShotCocoMetric'), dict(type='CocoMetric')], dataset)  # no ann_file
    for other in (dict(dataset, dataset=[dataset.dataset, dataset.dataset]),  # renumbered
                  dict(type='ConcatDataset', datasets=[dataset.dataset, dataset.dataset]),
                  dict(dataset, dataset=voc_cfg(tmp_path, ('dent', 'crack')))):  # VOC ids
        with pytest.raises(ValueError, match=r"test_evaluator: CocoMetric\(ann_file=.* but "
                           r"test_dataloader\.dataset reads \["):
            check(own, other)


@pytest.mark.parametrize('key, value, remedy', [
    ('classes', ('crack', 'dent'), r'metainfo=dict\(classes=\.\.\.\)'),
    ('img_prefix', 'images/', r'data_prefix=dict\(img=\.\.\.\)'),
    ('filter_empty_gt', True, r'filter_cfg=dict\(filter_empty_gt=\.\.\.\)')])
def test_mmdet2_dataset_keys_are_named_with_mmdet3s_spelling(tmp_path, key, value, remedy):
    """A config written for mmdet 2.x was told to set _delete_=True, which does not help."""
    coco_file(tmp_path, 'train', [img(1)], [ann(1, 1, 1, [5, 5, 10, 10])], CRACK_DENT)
    cfg = dict(coco_cfg(tmp_path, 'train', ('crack', 'dent')), **{key: value})
    with pytest.raises(TypeError, match=rf"dataset: CocoDataset does not take {key}= \(mmdet "
                       rf"2\.x's\): mmdet 3 takes {remedy}"):
        fewshot(cfg)


@pytest.mark.parametrize('key', ['CLASSES', 'Classes'])
def test_metainfo_classes_in_another_case_is_named_not_read_as_the_default_classes(tmp_path,
                                                                                   key):
    """mmdet 2.x's metainfo=dict(CLASSES=...): mmdet 3 took COCO's 80 classes, and the user was
    told that those are not categories of the file."""
    coco_file(tmp_path, 'train', [img(1)], [ann(1, 1, 1, [5, 5, 10, 10])], CRACK_DENT)
    cfg = dict(coco_cfg(tmp_path, 'train', ()), metainfo={key: ('crack', 'dent')})
    with pytest.raises(ValueError, match=rf"dataset: CocoDataset: metainfo has '{key}' but no "
                       r"'classes': mmdet 3 reads metainfo=dict\(classes=\.\.\.\)") as err:
        fewshot(cfg)
    assert 'person' not in str(err.value)
    other = dict(coco_cfg(tmp_path, 'train', ('crack', 'dent')))  # other keys are free
    other['metainfo'] = dict(other['metainfo'], CLASSES=('a',), source='line 3')
    assert fewshot(other).metainfo['classes'] == ('crack', 'dent')


@pytest.mark.parametrize('data_prefix', [None, dict(img_path='images/')])
def test_a_coco_data_prefix_without_img_is_named_with_the_remedy(tmp_path, data_prefix):
    """mmdet's CocoDataset reads data_prefix['img'] (mmengine's default is img_path): the
    user got a bare KeyError: 'img'."""
    coco_file(tmp_path, 'train', [img(1)], [ann(1, 1, 1, [5, 5, 10, 10])], CRACK_DENT)
    cfg = dict(coco_cfg(tmp_path, 'train', ('crack', 'dent')), data_prefix=data_prefix)
    if data_prefix is None:
        del cfg['data_prefix']
    with pytest.raises(RuntimeError, match=r"train\.json \(ValueError: data_prefix \{'img_path': "
                       r".*\} has no 'img' \(mmdet's CocoDataset reads an image at "
                       r"data_prefix\['img'\] \+ its file_name\): set "
                       r"data_prefix=dict\(img='images/'\)"):
        fewshot(cfg)


def test_a_data_prefix_that_is_not_a_dict_is_named_with_the_remedy(tmp_path):
    """data_prefix='images/' (a folder, as mmdet 2.x's img_prefix): the user got mmengine's
    bare AttributeError: 'str' object has no attribute 'items'."""
    coco_file(tmp_path, 'train', [img(1)], [ann(1, 1, 1, [5, 5, 10, 10])], CRACK_DENT)
    cfg = dict(coco_cfg(tmp_path, 'train', ('crack', 'dent')), data_prefix='images/')
    with pytest.raises(TypeError, match=r"dataset: data_prefix must be a dict, got 'images/': "
                       r"CocoDataset takes data_prefix=dict\(img='images/'\) \(the folder of "
                       r"the images"):
        fewshot(cfg)
    voc_tree(tmp_path, [[('crack', (5, 5, 20, 20), 0)]])
    cfg = dict(voc_cfg(tmp_path, ('crack', 'dent')), data_prefix='VOC2007/')
    with pytest.raises(TypeError, match=r"got 'VOC2007/': VOCDataset takes "
                       r"data_prefix=dict\(sub_data_root='VOC2007/'\) \(the folder of "
                       r"Annotations/ and JPEGImages/"):
        fewshot(cfg, test_mode=True)


def test_a_delete_key_in_a_list_of_datasets_is_named_as_such(tmp_path):
    coco_file(tmp_path, 'train', [img(1)], [ann(1, 1, 1, [5, 5, 10, 10])], CRACK_DENT)
    part = dict(coco_cfg(tmp_path, 'train', ('crack', 'dent')), _delete_=True)
    with pytest.raises(TypeError, match=r"a _delete_ key reached CocoDataset \(in a list of "
                       r"datasets, or with no base dict to replace\): remove it there"):
        fewshot([part, coco_cfg(tmp_path, 'train', ('crack', 'dent'))])


def test_an_unwrapped_coco_dataset_labelling_in_file_order_is_refused(tmp_path):
    """mmdet's own CocoDataset labels crack 0, dent 1 (file order) whatever metainfo.classes
    says; the few-shot datasets and the model label dent 0, crack 1."""
    from mmfs_plugin.engine import FewShotRunner
    cfg = _config(tmp_path, dict(setting='gfsod'))
    cfg.test_dataloader.dataset = coco_cfg(tmp_path, 'train', ('dent', 'crack'))  # mmdet style
    with pytest.raises(ValueError, match=r"test_dataloader\.dataset \(CocoDataset, 'train\.json'"
                       r"\): mmdet's CocoDataset labels the file's categories in file order, "
                       r"\['crack', 'dent'\], not in the order of metainfo\.classes, "
                       r"\['dent', 'crack'\]"):
        FewShotRunner.from_cfg(cfg)
    cfg.test_dataloader.dataset = coco_cfg(tmp_path, 'train', ('crack', 'dent'))
    with pytest.raises(ValueError, match=r"test_dataloader\.dataset \(CocoDataset, 'train\.json'"
                       r"\): labels its boxes by its classes \['crack', 'dent'\], the model by "
                       r"the label space \['dent', 'crack'\]"):
        FewShotRunner.from_cfg(cfg)
    cfg.test_dataloader.dataset = dict(coco_cfg(tmp_path, 'train', ()), metainfo=None)
    with pytest.raises(ValueError, match=r"labels its boxes by its classes \['person', "):
        FewShotRunner.from_cfg(cfg)  # COCO's 80 classes


def test_a_dataset_key_that_fewshot_would_replace_is_an_error(tmp_path):
    cfg = _config(tmp_path, dict(shots=5, seed=0))
    cfg.train_dataloader.dataset.shots = 1
    with pytest.raises(ValueError, match=r"train_dataloader\.dataset: shots=1, but fewshot\."
                       r"shots=5 \(the setting of the whole config\) would replace it"):
        apply_fewshot_settings(cfg)
    cfg.train_dataloader.dataset.shots = 5  # the same value: fine
    assert apply_fewshot_settings(cfg).train_dataloader.dataset.shots == 5
    cfg.test_dataloader.dataset.setting = 'novel'
    with pytest.raises(ValueError, match=r"setting='novel', but fewshot\.setting='gfsod' "
                       r"\(its default\)"):
        apply_fewshot_settings(cfg)
