"""Shape geometry against labelme's own rendering; what lies outside the image is cut off.

:func:`labelme_shape_mask` restates labelme's current rendering (``shape_to_mask`` of
``labelme/_utils/shape.py``, and the mask branch of its ``shapes_to_label``); the other tests
use it as the reference.
"""
import base64
import io

import numpy as np
import pytest
from PIL import Image, ImageDraw
from pycocotools import mask as mask_utils

from mmfs_data.formats.labelme import read_labelme
from mmfs_data.formats.labelme_records import LabelmeError

from .test_labelme_reader import mask_b64, shape, write_image, write_labelme


def labelme_shape_mask(height: int, width: int, s: dict) -> np.ndarray:
    """The pixels labelme fills for a shape in a ``height x width`` image."""
    shape_type = s.get('shape_type') or 'polygon'
    if shape_type == 'mask':
        mask = np.zeros((height, width), bool)
        points = np.asarray(s['points'], float)
        bitmap = np.asarray(Image.open(io.BytesIO(base64.b64decode(s['mask'])))).astype(bool)
        (x1, y1), (x2, y2) = points.round().astype(int)
        if np.array_equal(points, np.trunc(points)):  # integer corners: cut at the second
            patch_height, patch_width = y2 - y1 + 1, x2 - x1 + 1
        else:
            patch_height, patch_width = bitmap.shape
        y_start, y_stop = max(y1, 0), min(y1 + patch_height, height)
        x_start, x_stop = max(x1, 0), min(x1 + patch_width, width)
        if y_start < y_stop and x_start < x_stop:
            mask[y_start:y_stop, x_start:x_stop] = bitmap[y_start - y1:y_stop - y1,
                                                          x_start - x1:x_stop - x1]
        return mask
    image = Image.fromarray(np.zeros((height, width), np.uint8))
    draw = ImageDraw.Draw(image)
    xy = [tuple(point) for point in s['points']]
    if shape_type == 'circle':
        (cx, cy), (px, py) = xy
        d = np.hypot(cx - px, cy - py)
        draw.ellipse([cx - d, cy - d, cx + d, cy + d], outline=1, fill=1)
    elif shape_type == 'rectangle':
        (x1, y1), (x2, y2) = xy
        draw.rectangle([min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)], outline=1, fill=1)
    else:  # polygon, oriented_rectangle
        draw.polygon(xy=xy, outline=1, fill=1)
    return np.array(image, dtype=bool)


def our_mask(record, inst) -> np.ndarray:
    """Our instance's segmentation rasterised by pycocotools (as COCO tools read it)."""
    segmentation = inst.segmentation
    if not isinstance(segmentation, dict):
        segmentation = mask_utils.merge(
            mask_utils.frPyObjects(segmentation, record.height, record.width))
    return mask_utils.decode(segmentation).astype(bool)


def raster_box(mask: np.ndarray) -> np.ndarray:
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1])


def read_shapes(folder, height: int, width: int, *shapes):
    """Write one labelme file over a ``height x width`` image and read it."""
    write_image(str(folder / 'g.png'), height, width)
    return read_labelme(write_labelme(folder, 'g', list(shapes), image=False,
                                      imageHeight=height, imageWidth=width))


STAIN = np.zeros((7, 9), bool)
STAIN[1:6, 2:8] = True
STAIN[6, 0] = True

# name -> a shape on a 100x120 (h x w) image, inside it or crossing its border
REGIONS = {
    'polygon': shape('a', [[10, 12], [70, 20], [55, 80], [20, 60]]),
    'polygon crossing the border': shape('a', [[90, 60], [150, 70], [110, 130]]),
    'rectangle': shape('a', [[60, 30], [15, 75]], 'rectangle'),
    'rectangle crossing the border': shape('a', [[-20, -10], [40, 30]], 'rectangle'),
    'oriented rectangle': shape('a', [[40, 20], [90, 45], [80, 65], [30, 40]],
                                'oriented_rectangle'),
    'oriented rectangle crossing the border': shape(
        'a', [[100, 60], [140, 80], [120, 120], [80, 100]], 'oriented_rectangle'),
    'circle': shape('a', [[50, 40], [50, 70]], 'circle'),
    'circle crossing the border': shape('a', [[110, 5], [90, 5]], 'circle'),
    'mask': shape('a', [[20, 30], [28, 36]], 'mask', mask=mask_b64(STAIN)),
    'mask at fractional points': shape('a', [[20.6, 30.4], [28.6, 36.4]], 'mask',
                                       mask=mask_b64(STAIN)),
    'mask cut at its points': shape('a', [[20, 30], [24, 33]], 'mask', mask=mask_b64(STAIN)),
    'mask crossing the border': shape('a', [[115, -3], [123, 3]], 'mask',
                                      mask=mask_b64(STAIN)),
}


@pytest.mark.parametrize('name', sorted(REGIONS))
def test_region_shapes_are_what_labelme_fills(tmp_path, name):
    s = REGIONS[name]
    record = read_shapes(tmp_path, 100, 120, s)
    (inst,) = record.instances
    reference = labelme_shape_mask(100, 120, s)
    ours = our_mask(record, inst)
    if s['shape_type'] == 'mask':  # the same pixels
        assert (ours == reference).all()
        assert inst.area == reference.sum()
        assert inst.bbox == tuple(float(v) for v in raster_box(reference))
        return
    # exact geometry against a raster that also fills the outline: within one pixel
    assert np.abs(np.subtract(inst.bbox, raster_box(reference))).max() <= 1
    assert np.abs(raster_box(ours) - raster_box(reference)).max() <= 1
    grown = reference.copy()  # grown by a pixel: the rasterisers differ along slanted edges
    grown[1:] |= reference[:-1]
    grown[:-1] |= reference[1:]
    grown[:, 1:] |= reference[:, :-1]
    grown[:, :-1] |= reference[:, 1:]
    assert not (ours & ~grown).any()  # nothing outside what labelme fills
    x1, y1, x2, y2 = inst.bbox
    # the outline band (labelme fills it; a circle's polygon is up to a pixel inside the arc)
    assert abs(inst.area - reference.sum()) <= 2 * ((x2 - x1) + (y2 - y1))
    assert abs(ours.sum() - inst.area) <= (x2 - x1) + (y2 - y1)


def test_oriented_rectangle_is_its_polygon(tmp_path):
    corners = [[40, 20], [90, 45], [80, 65], [30, 40]]
    record = read_shapes(tmp_path, 100, 120, shape('defect', corners, 'oriented_rectangle'))
    (inst,) = record.instances
    assert inst.shape_type == 'oriented_rectangle'
    assert inst.bbox == (30.0, 20.0, 90.0, 65.0)
    assert inst.segmentation == [[40, 20, 90, 45, 80, 65, 30, 40]]
    assert inst.area == 1250


@pytest.mark.parametrize('points, shape_type, bbox, area', [
    ([[-50, -50], [50, 50]], 'rectangle', (0, 0, 50, 50), 2500),
    ([[80, 60], [130, 60], [130, 90], [80, 90]], 'polygon', (80, 60, 100, 90), 600),
    ([[60, -0.4], [70, 10]], 'rectangle', (60, 0, 70, 10), 100),
    ([[80, 60], [130, 60], [130, 90], [80, 90]], 'oriented_rectangle', (80, 60, 100, 90), 600),
    ([[-10, 50], [50, -10], [110, 50], [50, 110]], 'polygon', (0, 0, 100, 100), 10000 - 4 * 800),
])
def test_area_and_segmentation_are_what_lies_in_the_image(tmp_path, points, shape_type, bbox,
                                                          area):
    record = read_shapes(tmp_path, 100, 100, shape('crack', points, shape_type))
    (inst,) = record.instances
    assert inst.bbox == bbox
    assert inst.area == pytest.approx(area)
    (polygon,) = inst.segmentation
    assert min(polygon) >= 0 and max(polygon) <= 100
    assert our_mask(record, inst).sum() == pytest.approx(area, abs=2 * (bbox[2] - bbox[0]))


def test_group_area_is_the_union_of_its_parts_in_the_image(tmp_path):
    record = read_shapes(tmp_path, 100, 100,
                         shape('crack', [[-10, -10], [10, 10]], 'rectangle', group_id=1),
                         shape('crack', [[5, 5], [15, 15]], 'rectangle', group_id=1),
                         shape('crack', [[90, 90], [120, 95]], 'rectangle', group_id=1))
    (inst,) = record.instances
    assert inst.bbox == (0.0, 0.0, 100.0, 95.0)
    assert inst.area == pytest.approx(100 + 100 - 25 + 50)
    assert inst.segmentation[0] == [0.0, 0.0, 10.0, 0.0, 10.0, 10.0, 0.0, 10.0]


@pytest.mark.parametrize('points', [
    [[10, 60], [30, 60], [50, 60]],  # horizontal
    [[10, 60], [30, 80], [50, 100]],  # diagonal
    [[10, 60], [10, 80], [10, 100]],  # vertical
])
def test_collinear_polygons_have_no_area_whatever_their_direction(tmp_path, points):
    path = write_labelme(tmp_path, 'z', [shape('crack', points), shape('crack', [[1, 1], [9, 1],
                                                                                [9, 9]])],
                         image=False, imageHeight=100, imageWidth=100)
    write_image(str(tmp_path / 'z.png'), 100, 100)
    with pytest.raises(LabelmeError, match=r'z\.json: shapes\[0\]\.points: zero-area shape'):
        read_labelme(path)
    record = read_labelme(path, on_error='skip')
    assert [inst.shape_indices for inst in record.instances] == [(1,)]
    assert [(s.shape_index, s.reason) for s in record.skipped] == [(0, 'zero-area shape')]
