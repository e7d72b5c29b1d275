"""Property: any file either parses into valid instances or raises LabelmeError, nothing else."""
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmfs_data.formats.labelme import read_labelme
from mmfs_data.formats.labelme_records import LabelmeError, LabelmeRecord

from .test_labelme_reader import HEIGHT, WIDTH, mask_b64, write_image

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)
REGION_TYPES = ['polygon', 'rectangle', 'oriented_rectangle', 'circle', 'mask']
OTHER_TYPES = ['point', 'points', 'line', 'linestrip', 'ellipse']
WEIRD_NUMBERS = [float('nan'), float('inf'), -float('inf'), 10**400, -10**30, 1e300, -1e308]

sane = st.integers(-20, 70) | st.floats(-20, 70)
bitmaps = st.builds(lambda rows: mask_b64(np.array(rows, bool)),
                    st.lists(st.lists(st.booleans(), min_size=3, max_size=3), min_size=1,
                             max_size=3))


@st.composite
def shapes(draw) -> dict:
    """A labelme shape, valid or with one field made wrong, as in a hand-edited file."""
    shape_type = draw(st.sampled_from(REGION_TYPES + REGION_TYPES + OTHER_TYPES))
    size = {'polygon': draw(st.integers(3, 6)), 'oriented_rectangle': 4, 'point': 1}.get(
        shape_type, 2)
    shape = {'label': draw(st.sampled_from(['crack', 'crack', 'dent', '__ignore__'])),
             'points': draw(st.lists(st.tuples(sane, sane).map(list), min_size=size,
                                     max_size=size)),
             'shape_type': shape_type,
             'group_id': draw(st.sampled_from([None, 1, 1, 2])),
             'mask': draw(bitmaps) if shape_type == 'mask' else None}
    broken = draw(st.sampled_from([None] * 5 + list(shape) + ['coordinate', 'count']))
    if broken == 'coordinate':
        point = draw(st.sampled_from(shape['points']))
        point[draw(st.integers(0, 1))] = draw(st.sampled_from(WEIRD_NUMBERS) | json_values)
    elif broken == 'count':
        shape['points'] = shape['points'][:draw(st.integers(0, 2))]
    elif broken is not None:
        shape[broken] = draw(json_values)
    return shape


@st.composite
def documents(draw) -> dict:
    """A labelme document over ``img.png``, valid or with one top-level field made wrong."""
    doc = {'version': draw(st.sampled_from(['3.16.7', '4.5.6', '5.5.0'])), 'flags': {},
           'shapes': draw(st.lists(shapes(), max_size=5)), 'imagePath': 'img.png',
           'imageData': None, 'imageHeight': HEIGHT, 'imageWidth': WIDTH}
    broken = draw(st.sampled_from([None] * 10 + list(doc)))
    if broken is not None:
        doc[broken] = draw(json_values)
    return doc


@pytest.fixture(scope='module')
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp('property')
    write_image(str(path / 'img.png'))
    return path


def check(path: str) -> None:
    """Skip mode never raises; raise mode fails exactly on what skip mode skipped as bad."""
    record = read_labelme(path, on_error='skip')
    assert isinstance(record, LabelmeRecord)
    used = [i for inst in record.instances for i in inst.shape_indices]
    skipped = [skip.shape_index for skip in record.skipped]
    if None in skipped:
        assert skipped == [None] and used == []
    else:
        assert sorted(used + skipped) == list(range(record.num_shapes))
    for inst in record.instances:
        x1, y1, x2, y2 = inst.bbox
        assert all(math.isfinite(v) for v in inst.bbox)
        assert 0 <= x1 < x2 <= record.width and 0 <= y1 < y2 <= record.height
        assert math.isfinite(inst.area) and 0 <= inst.area <= (x2 - x1) * (y2 - y1) + 1e-6
        if not isinstance(inst.segmentation, dict):  # polygons: clipped, inside the box
            xs = [x for polygon in inst.segmentation for x in polygon[0::2]]
            ys = [y for polygon in inst.segmentation for y in polygon[1::2]]
            assert x1 - 1e-9 <= min(xs) and max(xs) <= x2 + 1e-9
            assert y1 - 1e-9 <= min(ys) and max(ys) <= y2 + 1e-9
        assert list(inst.shape_indices) == sorted(inst.shape_indices)
        json.dumps(inst.segmentation, allow_nan=False)
    bad = [skip for skip in record.skipped if skip.reason != 'non-region shape']
    try:
        strict = read_labelme(path)
    except LabelmeError as err:
        assert bad and (err.file, err.field) == (path, bad[0].field)
    else:
        assert not bad and strict == record


@SETTINGS
@given(value=json_values)
def test_any_json_value(folder, value):
    path = folder / 'any.json'
    path.write_text(json.dumps(value))
    check(str(path))


@SETTINGS
@given(doc=documents())
def test_labelme_like_documents(folder, doc):
    path = folder / 'doc.json'
    path.write_text(json.dumps(doc))
    check(str(path))


@SETTINGS
@given(data=st.binary(max_size=64))
def test_any_bytes(folder, data):
    path = folder / 'bytes.json'
    path.write_bytes(data)
    check(str(path))
