"""Defect-free images (no annotation) stay in evaluation sets in every format, as mmdet keeps
them (its filter_cfg applies to training only): the image-level inspection rates count them."""
from .test_coco_voc_faults import (CRACK_DENT, ann, coco_cfg, coco_file, entries, fewshot, img,
                                   voc_cfg, voc_tree)
from .test_labelme_reader import SQUARE, shape, write_labelme


def _kept(dataset_cfg, **kwargs):
    """(number of entries, number with no instance) of the test set and the training set."""
    out = []
    for test_mode in (True, False):
        cfg = dict(dataset_cfg, test_mode=test_mode)
        data = entries(fewshot(cfg, test_mode=test_mode,
                               filter_cfg=dict(filter_empty_gt=True), **kwargs))
        out.append((len(data), sum(not entry['instances'] for entry in data)))
    return out


def test_a_coco_image_without_annotations_is_kept_for_evaluation(tmp_path):
    coco_file(tmp_path, 'test', [img(1), img(2)], [ann(1, 1, 1, [2, 2, 10, 10])], CRACK_DENT)
    test, train = _kept(coco_cfg(tmp_path, 'test', ['crack', 'dent']))
    assert test == (2, 1) and train == (1, 0)


def test_a_voc_file_without_objects_is_kept_for_evaluation(tmp_path):
    voc_tree(tmp_path, [[('crack', (5, 5, 20, 20), 0)], []], split='test')
    test, train = _kept(voc_cfg(tmp_path, ('crack', 'dent'), split='test'))
    assert test == (2, 1) and train == (1, 0)


def test_a_labelme_file_without_shapes_is_kept_for_evaluation(tmp_path):
    write_labelme(tmp_path / 'parts', 'defective', [shape('crack', SQUARE)])
    write_labelme(tmp_path / 'parts', 'good', [])
    test, train = _kept(dict(type='LabelmeDataset', data_root=str(tmp_path / 'parts'),
                             ann_file='', metainfo=dict(classes=('crack', 'dent'))))
    assert test == (2, 1) and train == (1, 0)
