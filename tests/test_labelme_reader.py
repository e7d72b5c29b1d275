"""The labelme reader: every shape type, group_id parts, ignore regions, images, old files.

The helpers at the top write labelme files; the other reader tests import them.
"""
import base64
import hashlib
import io
import json
import math
import os
import pickle

import numpy as np
import pytest
import shapely
from PIL import Image
from pycocotools import mask as mask_utils

from mmfs_data.formats.labelme import (check_duplicate_images, check_labels,
                                         find_duplicate_images, read_labelme,
                                         write_embedded_image)
from mmfs_data.formats.labelme_records import (FieldWarning, LabelmeError, LabelmeRecord,
                                                  SkippedShape, SkipSummary)

HEIGHT, WIDTH = 40, 50
#: Pass as a field value to :func:`write_labelme` to leave the field out.
DROP = object()


def write_image(path: str, height: int = HEIGHT, width: int = WIDTH) -> str:
    """Write a grey image (format from the suffix) and return its path."""
    Image.fromarray(np.full((height, width, 3), 120, np.uint8)).save(path)
    return path


def image_b64(height: int = HEIGHT, width: int = WIDTH, fmt: str = 'PNG') -> str:
    """Return an image as labelme's ``imageData`` (base64 of the file bytes)."""
    buffer = io.BytesIO()
    Image.fromarray(np.full((height, width, 3), 120, np.uint8)).save(buffer, format=fmt)
    return base64.b64encode(buffer.getvalue()).decode()


def mask_b64(bitmap: np.ndarray) -> str:
    """Return a bitmap as labelme 5 writes a mask shape's ``mask`` (a 0/1 PNG, base64)."""
    buffer = io.BytesIO()
    Image.fromarray(bitmap.astype(np.uint8)).save(buffer, format='PNG')
    return base64.b64encode(buffer.getvalue()).decode()


def shape(label: str, points, shape_type: str = 'polygon', group_id=None, mask=None) -> dict:
    """Return a labelme 5.5 shape."""
    return dict(label=label, points=points, group_id=group_id, description='',
                shape_type=shape_type, flags={}, mask=mask)


def write_labelme(folder, stem: str, shapes, image: bool = True, **fields) -> str:
    """Write ``<stem>.json`` (labelme 5.5, fields overridable, ``DROP`` removes one) and,
    with ``image``, ``<stem>.png`` of ``imageHeight x imageWidth``; return the JSON path."""
    doc = dict(version='5.5.0', flags={}, shapes=shapes, imagePath=f'{stem}.png',
               imageData=None, imageHeight=HEIGHT, imageWidth=WIDTH)
    doc.update(fields)
    doc = {key: value for key, value in doc.items() if value is not DROP}
    os.makedirs(folder, exist_ok=True)
    if image:
        write_image(os.path.join(folder, f'{stem}.png'), HEIGHT, WIDTH)
    path = os.path.join(folder, f'{stem}.json')
    with open(path, 'w') as f:
        json.dump(doc, f)
    return path


def read_one(tmp_path, *shapes, **kwargs) -> LabelmeRecord:
    return read_labelme(write_labelme(tmp_path, 'img', list(shapes)), **kwargs)


SQUARE = [[2, 3], [12, 3], [12, 13], [2, 13]]


def test_polygon_record_and_instance(tmp_path):
    tri = [[5.5, 4], [20, 4], [5.5, 30.25]]
    record = read_one(tmp_path, shape('crack', tri))
    assert record.img_path == str(tmp_path / 'img.png')
    assert record.image_data is None
    assert (record.height, record.width, record.num_shapes) == (HEIGHT, WIDTH, 1)
    assert record.skipped == []
    (inst,) = record.instances
    assert inst.label == 'crack' and not inst.ignore
    assert inst.bbox == (5.5, 4.0, 20.0, 30.25)
    assert inst.segmentation == [[5.5, 4, 20, 4, 5.5, 30.25]]
    assert inst.area == pytest.approx(14.5 * 26.25 / 2)
    assert (inst.shape_indices, inst.shape_type, inst.group_id) == ((0, ), 'polygon', None)


def test_rectangle_corners_in_any_order_give_the_same_instance(tmp_path):
    corners = [[[4, 5], [14, 25]], [[14, 25], [4, 5]], [[4, 25], [14, 5]], [[14, 5], [4, 25]]]
    instances = [read_one(tmp_path, shape('dent', c, 'rectangle')).instances[0]
                 for c in corners]
    for inst in instances:
        assert inst.bbox == (4.0, 5.0, 14.0, 25.0)
        assert inst.segmentation == [[4, 5, 14, 5, 14, 25, 4, 25]]
        assert inst.area == 200.0
        assert inst.shape_type == 'rectangle'


@pytest.mark.parametrize('radius, vertices', [(0.3, 12), (5, 12), (100, 22), (400, 44)])
def test_circle_polygon_follows_labelme(tmp_path, radius, vertices):
    # labelme: max(int(pi / arccos(1 - 1 / r)), 12) vertices on the circle
    side = math.ceil(2 * radius) + 2
    write_image(str(tmp_path / 'img.png'), side, side)
    c = side / 2
    path = write_labelme(tmp_path, 'img', [shape('hole', [[c, c], [c + radius, c]], 'circle')],
                         image=False, imageHeight=side, imageWidth=side)
    (inst,) = read_labelme(path).instances
    (polygon, ) = inst.segmentation
    assert len(polygon) == 2 * vertices
    points = np.array(polygon).reshape(-1, 2)
    assert np.allclose(np.hypot(points[:, 0] - c, points[:, 1] - c), radius)
    assert inst.area == pytest.approx(
        vertices * radius**2 * math.sin(2 * math.pi / vertices) / 2)
    assert inst.bbox == (c - radius, c - radius, c + radius, c + radius)  # the circle's


def labelme_circle(cx: float, cy: float, radius: float) -> shapely.Polygon:
    """labelme's labelme2coco polygon of a circle."""
    n = max(int(np.pi / np.arccos(1 - 1 / radius)), 12)
    angles = 2 * np.pi / n * np.arange(n)
    return shapely.Polygon(np.stack([cx + radius * np.sin(angles),
                                     cy + radius * np.cos(angles)], axis=1))


@pytest.mark.parametrize('centre, radius, box', [
    ((-3, 20), 5, (0, 16, 2, 24)),  # centre beyond the left border: the chord at x=0
    ((48, -4), 5, (45, 0, 50, 1)),  # beyond the top border
    ((25, 20), 60, (0, 0, WIDTH, HEIGHT)),  # the image inside the circle
    ((-3, -4), 7, (0, 0, 33 ** .5 - 3, 40 ** .5 - 4)),  # beyond a corner
])
def test_circle_crossing_the_border_keeps_what_lies_inside(tmp_path, centre, radius, box):
    cx, cy = centre
    (inst,) = read_one(tmp_path, shape('hole', [[cx, cy], [cx + radius, cy]], 'circle')).instances
    assert inst.bbox == pytest.approx(box)  # the disc's part in the image
    (polygon,) = inst.segmentation
    inside = labelme_circle(cx, cy, radius).intersection(shapely.box(0, 0, WIDTH, HEIGHT))
    ours = shapely.Polygon(np.reshape(polygon, (-1, 2)))
    assert ours.symmetric_difference(inside).area == pytest.approx(0, abs=1e-9)
    assert inst.area == pytest.approx(inside.area)


def test_mask_is_placed_at_its_first_point_as_full_frame_rle(tmp_path):
    bitmap = np.zeros((6, 8), bool)
    bitmap[1:4, 2:7] = True
    bitmap[5, 0] = True
    record = read_one(tmp_path, shape('stain', [[10, 20], [17, 25]], 'mask',
                                      mask=mask_b64(bitmap)))
    (inst,) = record.instances
    expected = np.zeros((HEIGHT, WIDTH), bool)
    expected[20:26, 10:18] = bitmap
    assert inst.segmentation['size'] == [HEIGHT, WIDTH]
    assert isinstance(inst.segmentation['counts'], str)
    assert (mask_utils.decode(inst.segmentation) == expected).all()
    assert inst.bbox == (10.0, 21.0, 17.0, 26.0)
    assert inst.area == expected.sum()


def test_non_region_shapes_are_counted_skips(tmp_path):
    record = read_one(tmp_path, shape('a', [[1, 1]], 'point'), shape('b', SQUARE),
                      shape('c', [[1, 1], [5, 5]], 'line'), shape('d', [[1, 1]] * 3, 'linestrip'),
                      shape('e', [[1, 1], [2, 2]], 'points'))
    assert [inst.label for inst in record.instances] == ['b']
    assert [(s.shape_index, s.reason) for s in record.skipped] == [
        (0, 'non-region shape'), (2, 'non-region shape'), (3, 'non-region shape'),
        (4, 'non-region shape')]


def test_group_id_parts_merge_by_label_and_group(tmp_path):
    other = [[30, 30], [40, 30], [40, 38]]
    record = read_one(tmp_path,
                      shape('crack', SQUARE, group_id=1),
                      shape('dent', SQUARE, group_id=1),
                      shape('crack', other, group_id=None),
                      shape('crack', other, group_id=1),
                      shape('crack', SQUARE, group_id=2))
    assert [(i.label, i.shape_indices, i.group_id) for i in record.instances] == [
        ('crack', (0, 3), 1), ('dent', (1, ), 1), ('crack', (2, ), None), ('crack', (4, ), 2)]
    merged = record.instances[0]
    assert merged.segmentation == [[2, 3, 12, 3, 12, 13, 2, 13], [30, 30, 40, 30, 40, 38]]
    assert merged.bbox == (2.0, 3.0, 40.0, 38.0)
    assert merged.area == pytest.approx(100 + 40)


def test_mask_and_polygon_parts_merge_into_one_rle(tmp_path):
    bitmap = np.ones((5, 5), bool)
    record = read_one(tmp_path,
                      shape('stain', [[30, 30], [34, 34]], 'mask', group_id=7,
                            mask=mask_b64(bitmap)),
                      shape('stain', [[0, 0], [10, 0], [10, 10], [0, 10]], group_id=7))
    (inst,) = record.instances
    decoded = mask_utils.decode(inst.segmentation).astype(bool)
    assert decoded[30:35, 30:35].all() and decoded[2:9, 2:9].all()
    assert inst.area == decoded.sum() > 25
    assert inst.bbox == (0.0, 0.0, 35.0, 35.0)
    assert inst.shape_type == 'mask' and inst.shape_indices == (0, 1)


def test_mask_parts_alone_merge_into_one_rle(tmp_path):
    record = read_one(tmp_path,
                      shape('stain', [[0, 0], [1, 1]], 'mask', group_id=3,
                            mask=mask_b64(np.ones((2, 2), bool))),
                      shape('stain', [[10, 5], [13, 7]], 'mask', group_id=3,
                            mask=mask_b64(np.ones((3, 4), bool))))
    (inst,) = record.instances
    expected = np.zeros((HEIGHT, WIDTH), bool)
    expected[:2, :2] = expected[5:8, 10:14] = True
    assert (mask_utils.decode(inst.segmentation).astype(bool) == expected).all()
    assert inst.bbox == (0.0, 0.0, 14.0, 8.0) and inst.shape_indices == (0, 1)


def test_far_outside_polygon_part_merges_with_a_mask_part(tmp_path):
    record = read_one(tmp_path,
                      shape('stain', [[0, 0], [1, 1]], 'mask', group_id=1,
                            mask=mask_b64(np.ones((2, 2), bool))),
                      shape('stain', [[-1e11, 10], [30, 10], [30, 20], [-1e11, 20]], group_id=1))
    (inst,) = record.instances
    expected = np.zeros((HEIGHT, WIDTH), bool)
    expected[:2, :2] = expected[10:20, :30] = True
    assert (mask_utils.decode(inst.segmentation).astype(bool) == expected).all()
    assert inst.bbox == (0.0, 0.0, 30.0, 20.0)


def test_ignore_shapes_become_ignore_instances(tmp_path):
    record = read_one(tmp_path, shape('__ignore__', SQUARE), shape('crack', SQUARE))
    assert [(i.label, i.ignore) for i in record.instances] == [('__ignore__', True),
                                                                ('crack', False)]


def test_partially_outside_polygon_is_clipped_to_the_image(tmp_path):
    triangle = [[-5, -2], [60, 10], [20, 45]]
    (inst,) = read_one(tmp_path, shape('crack', triangle)).instances
    (polygon,) = inst.segmentation
    points = np.array(polygon).reshape(-1, 2)
    assert points.min() >= 0 and (points.max(0) <= (WIDTH, HEIGHT)).all()
    assert inst.bbox == (0.0, 0.0, float(WIDTH), float(HEIGHT))
    inside = shapely.Polygon(triangle).intersection(shapely.box(0, 0, WIDTH, HEIGHT))
    assert inst.area == pytest.approx(inside.area)
    assert shapely.Polygon(points).symmetric_difference(inside).area == pytest.approx(0)


def test_labelme_3_file_without_optional_fields(tmp_path):
    old = [dict(label='crack', points=SQUARE, line_color=None, fill_color=None)]
    path = write_labelme(tmp_path, 'old', old, version='3.16.7', imageHeight=DROP,
                         imageWidth=DROP, lineColor=[0, 255, 0, 128])
    record = read_labelme(path)
    assert (record.height, record.width) == (HEIGHT, WIDTH)  # from the image header
    (inst,) = record.instances
    assert (inst.shape_type, inst.group_id, inst.bbox) == ('polygon', None, (2., 3., 12., 13.))


def test_embedded_image_only(tmp_path):
    data = image_b64()
    path = write_labelme(tmp_path, 'emb', [shape('crack', SQUARE)], image=False,
                         imagePath='elsewhere/photo.png', imageData=data)
    record = read_labelme(path)
    assert record.img_path is None and record.image_data == data
    out = write_embedded_image(record, str(tmp_path / 'out'))
    assert out.endswith('.png') and os.path.dirname(out) == str(tmp_path / 'out')
    assert np.array_equal(np.asarray(Image.open(out)), np.full((HEIGHT, WIDTH, 3), 120))
    assert write_embedded_image(record, str(tmp_path / 'out')) == out
    assert os.listdir(tmp_path / 'out') == [os.path.basename(out)]


def test_wrong_declared_size_uses_the_image_and_warns(tmp_path):
    # t3: the JSON says 200 high, 100 wide; the image is 200 wide, 100 high (labelme logs it
    # and uses the image's size)
    write_image(str(tmp_path / 't3.png'), 100, 200)
    path = write_labelme(tmp_path, 't3', [shape('crack', [[20, 10], [180, 90]], 'rectangle')],
                         image=False, imageHeight=200, imageWidth=100)
    record = read_labelme(path)
    assert (record.height, record.width) == (100, 200)
    assert [inst.bbox for inst in record.instances] == [(20.0, 10.0, 180.0, 90.0)]
    assert record.warnings == [
        FieldWarning(path, 'imageHeight', 'disagrees with the image',
                     f"200 in the JSON, 100 in {tmp_path / 't3.png'}; the image's is used"),
        FieldWarning(path, 'imageWidth', 'disagrees with the image',
                     f"100 in the JSON, 200 in {tmp_path / 't3.png'}; the image's is used")]


def test_embedded_image_comes_before_the_image_path(tmp_path):
    # t2: the annotated 200x100 image is embedded; t2.png beside it was shrunk later
    write_image(str(tmp_path / 't2.png'), 50, 100)
    data = image_b64(100, 200)
    path = write_labelme(tmp_path, 't2', [shape('crack', [[20, 10], [180, 90]], 'rectangle')],
                         image=False, imageData=data, imageHeight=100, imageWidth=200)
    record = read_labelme(path)
    assert (record.img_path, record.image_data) == (None, data)
    assert (record.height, record.width, record.warnings) == (100, 200, [])
    assert [inst.bbox for inst in record.instances] == [(20.0, 10.0, 180.0, 90.0)]
    out = write_embedded_image(record, str(tmp_path / 'out'))
    assert Image.open(out).size == (200, 100)


@pytest.mark.parametrize('image_path', ['t.json', 'notes.txt', '.', 7])
def test_embedded_image_is_used_whatever_the_image_path_names(tmp_path, image_path):
    (tmp_path / 'notes.txt').write_text('not an image')
    path = write_labelme(tmp_path, 't', [shape('crack', SQUARE)], image=False,
                         imagePath=image_path, imageData=image_b64())
    record = read_labelme(path)
    assert record.img_path is None and (record.height, record.width) == (HEIGHT, WIDTH)


def test_embedded_image_is_not_turned_by_its_exif(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # labelme turns image files, not imageData
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((HEIGHT, WIDTH, 3), np.uint8)).save(buffer, 'JPEG', exif=exif)
    path = write_labelme(tmp_path, 'e', [shape('crack', SQUARE)], image=False,
                         imageData=base64.b64encode(buffer.getvalue()).decode())
    record = read_labelme(path)
    assert (record.height, record.width, record.warnings) == (HEIGHT, WIDTH, [])


def test_find_duplicate_images_by_real_path_and_embedded_bytes(tmp_path):
    os.makedirs(tmp_path / 'sub')
    a = write_labelme(tmp_path, 'a', [shape('crack', SQUARE)])
    copy = write_labelme(tmp_path, 'a - Copy', [shape('crack', SQUARE)], image=False,
                         imagePath='a.png')
    via_folder = write_labelme(tmp_path / 'sub', 'x', [shape('crack', SQUARE)], image=False,
                               imagePath='../sub/../a.png')
    os.symlink(tmp_path / 'a.png', tmp_path / 'link.png')
    via_link = write_labelme(tmp_path, 'l', [shape('crack', SQUARE)], image=False,
                             imagePath='link.png')
    other = write_labelme(tmp_path, 'b', [shape('crack', SQUARE)])
    data = image_b64()
    embedded = [write_labelme(tmp_path / 'e', stem, [shape('crack', SQUARE)], image=False,
                              imageData=data) for stem in ('e1', 'e2')]
    alone = write_labelme(tmp_path / 'e', 'e3', [shape('crack', SQUARE)], image=False,
                          imageData=image_b64(HEIGHT, WIDTH, 'BMP'))
    broken = write_labelme(tmp_path, 'broken', [shape('crack', SQUARE)], image=False)
    records = [read_labelme(p, on_error='skip') for p in
               (a, other, copy, *embedded, via_folder, alone, via_link, broken)]
    digest = hashlib.sha1(base64.b64decode(data)).hexdigest()
    assert find_duplicate_images(records) == [
        (os.path.realpath(tmp_path / 'a.png'), [a, copy, via_folder, via_link]),
        (f'imageData sha1:{digest}', embedded)]
    assert find_duplicate_images(records[:2]) == []


def test_image_path_falls_back_to_the_json_stem(tmp_path):
    path = write_labelme(tmp_path, 'scan', [shape('crack', SQUARE)], image=False,
                         imagePath='C:\\Users\\me\\gone.png')
    write_image(str(tmp_path / 'scan.jpg'))
    assert read_labelme(path).img_path == str(tmp_path / 'scan.jpg')


def test_windows_relative_image_path_resolves(tmp_path):
    os.makedirs(tmp_path / 'images')
    write_image(str(tmp_path / 'images' / 'a.png'))
    path = write_labelme(tmp_path / 'ann', 'a', [shape('crack', SQUARE)], image=False,
                         imagePath='..\\images\\a.png')
    assert read_labelme(path).img_path == str(tmp_path / 'images' / 'a.png')


def test_exif_rotated_jpeg_size_is_the_displayed_size(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated by 90 degrees: labelme shows it WIDTH x HEIGHT transposed
    Image.fromarray(np.zeros((WIDTH, HEIGHT, 3), np.uint8)).save(tmp_path / 'r.jpg',
                                                                 exif=exif)
    path = write_labelme(tmp_path, 'r', [shape('crack', SQUARE)], image=False,
                         imagePath='r.jpg')
    assert (read_labelme(path).height, read_labelme(path).width) == (HEIGHT, WIDTH)


def test_labelme_error_names_file_and_field_and_pickles(tmp_path):
    err = LabelmeError('a/b.json', 'shapes[2].points', 'fewer than 3 points')
    assert str(err) == 'a/b.json: shapes[2].points: fewer than 3 points'
    assert isinstance(err, ValueError)
    again = pickle.loads(pickle.dumps(err))
    assert (again.file, again.field, again.reason, str(again)) == (
        err.file, err.field, err.reason, str(err))


def test_check_labels_keeps_known_and_ignore_instances(tmp_path):
    path = write_labelme(tmp_path, 'img', [shape('crack', SQUARE), shape('__ignore__', SQUARE),
                                           shape('alien', SQUARE, group_id=3),
                                           shape('alien', SQUARE, group_id=3)])
    record = read_labelme(path)
    named = check_labels(record, ['bottle/crack'], class_name=lambda label: f'bottle/{label}',
                         on_error='skip')
    assert [(name, inst.label) for name, inst in named] == [('bottle/crack', 'crack'),
                                                           (None, '__ignore__')]
    with pytest.raises(LabelmeError) as info:
        check_labels(record, ['crack'])
    assert (info.value.file, info.value.field) == (path, 'shapes[2].label')
    assert 'alien' in info.value.reason


def test_check_labels_moves_skipped_instances_in_the_summary(tmp_path):
    path = write_labelme(tmp_path, 'img', [shape('crack', SQUARE), shape('alien', SQUARE),
                                           shape('alien', SQUARE, group_id=1),
                                           shape('alien', SQUARE, group_id=1)])
    record = read_labelme(path)
    summary = SkipSummary()
    summary.add(record)
    check_labels(record, ['crack'], on_error='skip', summary=summary)
    assert (summary.num_read, summary.num_parsed, summary.num_skipped) == (4, 1, 3)
    assert summary.by_reason == {'label not in classes': 3}
    assert summary.by_file == {path: 3}


def test_skip_summary_counts_and_formats():
    ok = LabelmeRecord('a.json', 'a.png', None, 9, 9, [], [
        SkippedShape('a.json', 1, 'shapes[1].shape_type', 'non-region shape')], 1)
    broken = LabelmeRecord('b.json', None, None, 0, 0, [], [
        SkippedShape('b.json', None, 'imagePath', 'image not found')], 3)
    truncated = LabelmeRecord('c.json', None, None, 0, 0, [], [
        SkippedShape('c.json', None, 'json', 'invalid JSON')], 0)
    summary = SkipSummary()
    for record in (ok, broken, truncated):
        summary.add(record)
    assert (summary.num_files, summary.num_read, summary.num_parsed, summary.num_skipped) == (
        3, 4, 0, 4)
    assert summary.by_reason == {'non-region shape': 1, 'image not found': 3,
                                 'invalid JSON': 0}
    assert summary.by_file == {'a.json': 1, 'b.json': 3, 'c.json': 0}
    table = summary.format(max_files=2)
    assert table.splitlines()[0].split() == ['reason', 'shapes', 'files']
    assert table.splitlines()[1].split() == ['image', 'not', 'found', '3', '1']
    assert 'invalid JSON' in table and '4 of 4 shapes skipped' in table
    assert '... and 1 more files' in table
    assert summary.num_files_skipped == 2 and summary.anything_skipped
    assert summary.files_skipped == [broken.skipped[0], truncated.skipped[0]]
    assert '4 of 4 shapes skipped (0 parsed) in 3 of 3 files; 2 files skipped whole' in table
    assert table.splitlines()[-3:] == ['files skipped whole:',
                                       '  b.json: imagePath: image not found',
                                       '  c.json: json: invalid JSON']
    assert summary.format(max_files=1).splitlines()[-3:] == [
        'files skipped whole:', '  b.json: imagePath: image not found',
        '  ... and 1 more files']
    with pytest.raises(ValueError, match='whole-file'):
        summary.add([SkippedShape('b.json', None, 'json', 'x')])


def test_skip_summary_counts_a_file_skipped_whole_without_shapes():
    summary = SkipSummary()
    summary.add(LabelmeRecord('a.json', 'a.png', None, 9, 9, [], [], 0))
    assert not summary.anything_skipped and summary.num_files_skipped == 0
    assert 'files skipped whole:' not in summary.format().splitlines()
    summary.add(LabelmeRecord('c.json', None, None, 0, 0, [], [
        SkippedShape('c.json', None, 'json', 'invalid JSON')], 0))
    # no shape to count, yet the file was left out
    assert (summary.num_read, summary.num_parsed, summary.num_skipped) == (0, 0, 0)
    assert summary.num_files_skipped == 1 and summary.anything_skipped
    table = summary.format()
    assert '0 of 0 shapes skipped (0 parsed) in 1 of 2 files; 1 file skipped whole' in table
    assert table.splitlines()[-2:] == ['files skipped whole:', '  c.json: json: invalid JSON']


def test_check_duplicate_images_raises_naming_both_files_or_skips_the_later(tmp_path):
    first = write_labelme(tmp_path, 'a', [shape('crack', SQUARE), shape('crack', SQUARE)])
    other = write_labelme(tmp_path, 'b', [shape('crack', SQUARE)])
    second = write_labelme(tmp_path, 'c', [shape('crack', SQUARE), shape('crack', SQUARE)],
                           image=False, imagePath='a.png', imageHeight=41)
    embedded = [write_labelme(tmp_path / 'e', stem, [shape('crack', SQUARE)], image=False,
                              imageData=image_b64()) for stem in ('e1', 'e2')]
    records = [read_labelme(p) for p in (first, other, second, *embedded)]
    with pytest.raises(LabelmeError) as info:
        check_duplicate_images(records)
    assert str(info.value) == (f'{second}: imagePath: image annotated twice '
                               f"({tmp_path / 'a.png'} is also annotated by {first})")
    with pytest.raises(LabelmeError, match=fr'e2\.json: imageData: image annotated twice '
                                           fr'\(imageData sha1:[0-9a-f]{{40}} is also '
                                           fr'annotated by .*e1\.json\)'):
        check_duplicate_images(records[3:])
    kept = check_duplicate_images(records, on_error='skip')
    assert kept[:2] == records[:2] and kept[3] == records[3]
    assert kept[2] == LabelmeRecord(second, None, None, 0, 0, [], [
        SkippedShape(second, None, 'imagePath', 'image annotated twice')], 2,
        records[2].warnings)
    assert kept[4].skipped == [SkippedShape(embedded[1], None, 'imageData',
                                            'image annotated twice')]
    summary = SkipSummary()
    for record in kept:
        summary.add(record)
    assert (summary.num_read, summary.num_parsed, summary.num_skipped) == (7, 4, 3)
    assert summary.by_reason == {'image annotated twice': 3}
