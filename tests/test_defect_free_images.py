"""Defect-free images (no annotation) stay in evaluation sets in every format, as mmdet keeps
them (its filter_cfg applies to training only): the image-level inspection rates count them.
An image whose annotated objects are not all instances (outside the label space, or left out
by the reader) records how many (``left_out_instances``): it is not defect-free."""
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


def test_an_evaluation_set_keeps_defect_free_images_whatever_the_wrapped_filter_cfg(tmp_path):
    """A wrapped dataset config with training's filter_cfg and no test_mode of its own (a
    shared dict, test_mode=True set on the FewShotDataset only) dropped the defect-free test
    images without a word; mmdet filters training images only."""
    coco_file(tmp_path, 'test', [img(1), img(2), img(3)], [ann(1, 1, 1, [2, 2, 10, 10])],
              CRACK_DENT)
    cfg = dict(coco_cfg(tmp_path, 'test', ['crack', 'dent']),
               filter_cfg=dict(filter_empty_gt=True))
    assert [e['img_id'] for e in entries(fewshot(cfg, test_mode=True))] == [1, 2, 3]
    assert [e['img_id'] for e in entries(fewshot(cfg))] == [1]  # training: filtered


def _left_out(dataset):
    """image file name -> (labels of its instances, left_out_instances), in the test set."""
    return {entry['img_path'].rsplit('/', 1)[-1]: (
        sorted(inst['bbox_label'] for inst in entry['instances']), entry['left_out_instances'])
        for entry in entries(dataset)}


def test_coco_objects_outside_the_label_space_or_unread_are_counted(tmp_path):
    coco_file(tmp_path, 'test', [img(1), img(2), img(3), img(4)],
              [ann(1, 1, 1, [2, 2, 10, 10]), ann(2, 2, 2, [2, 2, 10, 10]),
               ann(3, 3, 1, [2, 2, 10, 10], area=0),  # mmdet's CocoDataset does not read it
               ann(4, 3, 2, [2, 2, 10, 10])], CRACK_DENT)
    # 'fsod' with dent novel: the crack boxes are outside the evaluated label space
    got = _left_out(fewshot(coco_cfg(tmp_path, 'test', ['crack', 'dent']), test_mode=True,
                            setting='fsod', class_split=dict(novel=['dent'])))
    assert got == {'1.jpg': ([], 1), '2.jpg': ([0], 0), '3.jpg': ([0], 1), '4.jpg': ([], 0)}
    got = _left_out(fewshot(coco_cfg(tmp_path, 'test', ['crack', 'dent']), test_mode=True))
    assert got == {'1.jpg': ([0], 0), '2.jpg': ([1], 0), '3.jpg': ([1], 1), '4.jpg': ([], 0)}


def test_voc_objects_skipped_or_outside_the_label_space_are_counted(tmp_path):
    voc_tree(tmp_path, [[('crack', (5, 5, 20, 20), 0)], [('scratch', (5, 5, 20, 20), 0)], []],
             split='test')
    cfg = voc_cfg(tmp_path, ('crack', 'dent'), split='test')
    got = [entry['left_out_instances']
           for entry in entries(fewshot(cfg, test_mode=True, on_error='skip'))]
    assert got == [0, 1, 0]  # the scratch is no class: skipped, counted
    got = [entry['left_out_instances'] for entry in entries(fewshot(
        cfg, test_mode=True, on_error='skip', setting='base', class_split=dict(novel=['crack'])))]
    assert got == [1, 1, 0]  # in the base setting the crack is outside the label space


def test_labelme_shapes_that_are_no_region_are_counted(tmp_path):
    write_labelme(tmp_path / 'parts', 'point', [shape('crack', [[4, 4]], 'point')])
    write_labelme(tmp_path / 'parts', 'good', [])
    write_labelme(tmp_path / 'parts', 'two', [shape('crack', SQUARE),
                                              shape('dent', [[2, 2], [9, 9]], 'line')])
    got = _left_out(fewshot(dict(type='LabelmeDataset', data_root=str(tmp_path / 'parts'),
                                 ann_file='', metainfo=dict(classes=('crack', 'dent')),
                                 test_mode=True), test_mode=True))
    assert got == {'point.png': ([], 1), 'good.png': ([], 0), 'two.png': ([0], 1)}
