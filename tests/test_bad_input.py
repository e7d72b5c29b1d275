"""Bad labelme input: every error names the file and the field; skips are counted exactly."""
import json
import os
from collections import Counter

import numpy as np
import pytest

from mmfs_data.formats.labelme import read_labelme
from mmfs_data.formats.labelme_records import FieldWarning, LabelmeError, SkipSummary

from .test_labelme_reader import (DROP, HEIGHT, SQUARE, WIDTH, image_b64, mask_b64, shape,
                                  write_image, write_labelme)

GOOD = shape('crack', SQUARE)

# name -> (the bad shape written after GOOD, its field, the skip reason)
SHAPE_CASES = {
    'two-point polygon': (shape('crack', [[1, 1], [5, 5]]), 'points', 'fewer than 3 points'),
    'NaN coordinate': (shape('crack', [[1, 1], [float('nan'), 5], [9, 9]]), 'points',
                       'non-finite coordinate'),
    'infinite coordinate': (shape('crack', [[1, 1], [float('inf'), 5], [9, 9]]), 'points',
                            'non-finite coordinate'),
    'huge integer': (shape('crack', [[1, 1], [10**400, 5], [9, 9]]), 'points',
                     'non-finite coordinate'),
    'far-out coordinate': (shape('crack', [[1, 1], [1e13, 5], [9, 9]]), 'points',
                           'coordinate out of range'),
    'vertical line polygon': (shape('crack', [[4, 1], [4, 9], [4, 30]]), 'points',
                              'zero-area shape'),
    'horizontal line polygon': (shape('crack', [[1, 4], [9, 4], [30, 4]]), 'points',
                                'zero-area shape'),
    'diagonal line polygon': (shape('crack', [[2, 4], [12, 14], [22, 24], [2, 4]]), 'points',
                              'zero-area shape'),
    'point polygon': (shape('crack', [[4, 1], [4, 1], [4, 1]]), 'points', 'zero-area shape'),
    'degenerate rectangle': (shape('crack', [[4, 1], [4, 1]], 'rectangle'), 'points',
                             'zero-area shape'),
    'flat rectangle': (shape('crack', [[4, 1], [20, 1]], 'rectangle'), 'points',
                       'zero-area shape'),
    'diagonal oriented rectangle': (shape('crack', [[2, 4], [12, 14], [22, 24], [7, 9]],
                                          'oriented_rectangle'), 'points', 'zero-area shape'),
    'oriented rectangle of three points': (shape('crack', SQUARE[:3], 'oriented_rectangle'),
                                           'points', 'not 4 points'),
    'zero-radius circle': (shape('crack', [[4, 1], [4, 1]], 'circle'), 'points',
                           'zero-area shape'),
    'empty mask': (shape('crack', [[1, 1], [3, 2]], 'mask', mask=mask_b64(np.zeros((2, 3)))),
                   'mask', 'zero-area shape'),
    'mask beyond its points': (shape('crack', [[1, 1], [2, 1]], 'mask',  # labelme cuts it
                                     mask=mask_b64(np.eye(3)[::-1])), 'mask', 'zero-area shape'),
    'box outside the image': (shape('crack', [[60, 1], [70, 1], [70, 9]]), 'points',
                              'outside the image'),
    'polygon past a corner': (shape('crack', [[-10, 5], [5, -10], [-10, -10]]), 'points',
                              'outside the image'),
    'circle past a corner': (shape('crack', [[-3, -3], [-3, 1]], 'circle'), 'points',
                             'outside the image'),
    'mask outside the image': (shape('crack', [[60, 1], [61, 2]], 'mask',
                                     mask=mask_b64(np.ones((2, 2)))), 'points',
                               'outside the image'),
    'unknown shape_type': (shape('crack', SQUARE, 'ellipse'), 'shape_type',
                           'unknown shape_type'),
    'mistyped shape_type': (shape('crack', SQUARE, 5), 'shape_type', 'not a string'),
    'missing label': ({'points': SQUARE, 'shape_type': 'polygon'}, 'label',
                      'not a non-empty string'),
    'mistyped label': (shape(3, SQUARE), 'label', 'not a non-empty string'),
    'missing points': ({'label': 'crack'}, 'points', 'not a list of [x, y] points'),
    'string points': (shape('crack', '1,2 3,4 5,6'), 'points', 'not a list of [x, y] points'),
    'three-value point': (shape('crack', [[1, 1, 1], [5, 5], [9, 1]]), 'points',
                          'not a list of [x, y] points'),
    'string coordinate': (shape('crack', [[1, 1], ['5', 5], [9, 1]]), 'points',
                          'not a list of [x, y] points'),
    'mistyped group_id': (shape('crack', SQUARE, group_id='a'), 'group_id',
                          'not an integer or null'),
    'rectangle of three points': (shape('crack', SQUARE[:3], 'rectangle'), 'points',
                                  'not 2 points'),
    'mask without bitmap': (shape('crack', [[1, 1], [5, 5]], 'mask'), 'mask',
                            'not a base64 PNG'),
    'mask of garbage': (shape('crack', [[1, 1], [5, 5]], 'mask', mask='bm90IGEgcG5n'), 'mask',
                        'not a base64 PNG'),
}


def _write_raw(folder, content: bytes) -> str:
    path = os.path.join(folder, 'raw.json')
    write_image(os.path.join(folder, 'raw.png'))
    with open(path, 'wb') as f:
        f.write(content)
    return path


def _not_an_image(folder) -> str:
    path = write_labelme(folder, 'fake', [GOOD], image=False)
    with open(os.path.join(folder, 'fake.png'), 'wb') as f:
        f.write(b'\x89PNX not really an image')
    return path


def _directory(folder) -> str:
    os.makedirs(os.path.join(folder, 'dir.json'))
    return os.path.join(folder, 'dir.json')


# name -> (writes the file into a folder and returns its path, field, reason, shapes it holds)
FILE_CASES = {
    'truncated JSON': (lambda d: _write_raw(d, json.dumps(
        {'shapes': [GOOD], 'imagePath': 'raw.png'}).encode()[:-20]), 'json', 'invalid JSON', 0),
    'binary garbage': (lambda d: _write_raw(d, bytes(range(256)) * 4), 'json', 'invalid JSON',
                       0),
    'not an object': (lambda d: _write_raw(d, b'[1, 2]'), 'json', 'not a JSON object', 0),
    'missing shapes': (lambda d: write_labelme(d, 'f', DROP), 'shapes', 'missing field', 0),
    'mistyped shapes': (lambda d: write_labelme(d, 'f', {'0': GOOD}), 'shapes', 'not a list',
                        0),
    'mistyped imagePath': (lambda d: write_labelme(d, 'f', [GOOD], imagePath=7), 'imagePath',
                           'not a string', 1),
    'missing image': (lambda d: write_labelme(d, 'f', [GOOD, GOOD, GOOD], image=False),
                      'imagePath', 'image not found', 3),
    'image is not an image': (_not_an_image, 'imagePath', 'unreadable image', 1),
    'imageData of garbage': (lambda d: write_labelme(d, 'f', [GOOD], image=False,
                                                     imageData='AAAA'),
                             'imageData', 'unreadable image', 1),
    'mistyped imageData': (lambda d: write_labelme(d, 'f', [GOOD], imageData=[image_b64()]),
                           'imageData', 'not a string', 1),
    'a directory': (_directory, 'file', 'unreadable file', 0),
}


@pytest.mark.parametrize('name', sorted(SHAPE_CASES))
def test_bad_shape_raises_naming_file_and_field(tmp_path, name):
    bad, field, reason = SHAPE_CASES[name]
    path = write_labelme(tmp_path, 'bad', [GOOD, bad])
    with pytest.raises(LabelmeError) as info:
        read_labelme(path)
    assert (info.value.file, info.value.field) == (path, f'shapes[1].{field}')
    assert info.value.reason.startswith(reason)
    assert str(info.value).startswith(f'{path}: shapes[1].{field}: {reason}')


@pytest.mark.parametrize('name', sorted(SHAPE_CASES))
def test_bad_shape_is_skipped_alone(tmp_path, name):
    bad, field, reason = SHAPE_CASES[name]
    record = read_labelme(write_labelme(tmp_path, 'bad', [GOOD, bad, GOOD]), on_error='skip')
    assert [inst.shape_indices for inst in record.instances] == [(0, ), (2, )]
    assert [(s.shape_index, s.field, s.reason) for s in record.skipped] == [
        (1, f'shapes[1].{field}', reason)]


@pytest.mark.parametrize('name', sorted(FILE_CASES))
def test_bad_file_raises_naming_file_and_field(tmp_path, name):
    write, field, reason, _ = FILE_CASES[name]
    path = write(str(tmp_path))
    with pytest.raises(LabelmeError) as info:
        read_labelme(path)
    assert (info.value.file, info.value.field) == (path, field)
    assert str(info.value).startswith(f'{path}: {field}: {reason}')


@pytest.mark.parametrize('name', sorted(FILE_CASES))
def test_bad_file_is_skipped_whole(tmp_path, name):
    write, field, reason, num_shapes = FILE_CASES[name]
    path = write(str(tmp_path))
    record = read_labelme(path, on_error='skip')
    assert record.instances == [] and record.num_shapes == num_shapes
    assert [(s.file, s.shape_index, s.field, s.reason) for s in record.skipped] == [
        (path, None, field, reason)]


@pytest.mark.skipif(os.name != 'posix' or os.geteuid() == 0,
                    reason='file permissions do not bind root')
def test_unreadable_file_names_the_file(tmp_path):
    path = write_labelme(tmp_path, 'locked', [GOOD])
    os.chmod(path, 0)
    with pytest.raises(LabelmeError, match='locked.json: file: unreadable file'):
        read_labelme(path)


# name -> (the declared size fields, the warnings' fields): read with the image's size, as labelme
WARNING_CASES = {
    'imageHeight disagrees': (dict(imageHeight=41), ['imageHeight']),
    'imageWidth disagrees': (dict(imageWidth=49), ['imageWidth']),
    'size transposed': (dict(imageHeight=WIDTH, imageWidth=HEIGHT), ['imageHeight', 'imageWidth']),
    'mistyped imageHeight': (dict(imageHeight='40'), ['imageHeight']),
    'zero imageWidth': (dict(imageWidth=0), ['imageWidth']),
    'sizes left out': (dict(imageHeight=DROP, imageWidth=DROP), []),
}


@pytest.mark.parametrize('name', sorted(WARNING_CASES))
@pytest.mark.parametrize('on_error', ['raise', 'skip'])
def test_declared_size_is_checked_and_the_image_size_used(tmp_path, name, on_error):
    fields, warned = WARNING_CASES[name]
    path = write_labelme(tmp_path, 'f', [GOOD], **fields)
    record = read_labelme(path, on_error=on_error)
    assert (record.height, record.width) == (HEIGHT, WIDTH) and record.skipped == []
    assert [(w.file, w.field, w.reason) for w in record.warnings] == [
        (path, field, 'disagrees with the image') for field in warned]
    for warning in record.warnings:
        assert str(warning).startswith(f'{path}: {warning.field}: disagrees with the image (')
        assert f'{os.path.join(str(tmp_path), "f.png")}; the image' in str(warning)


def test_field_warning_reads_as_file_field_reason():
    warning = FieldWarning('a.json', 'imageWidth', 'disagrees with the image', '9 in the JSON')
    assert str(warning) == 'a.json: imageWidth: disagrees with the image (9 in the JSON)'


def test_skip_summary_over_a_broken_corpus(tmp_path):
    summary = SkipSummary()
    expected_files = Counter()
    expected_reasons = Counter()
    for i, name in enumerate(sorted(SHAPE_CASES)):
        bad, _, reason = SHAPE_CASES[name]
        path = write_labelme(tmp_path / f'shape{i}', 'bad', [GOOD, bad, shape('p', [[1, 1]],
                                                                               'point')])
        summary.add(read_labelme(path, on_error='skip'))
        expected_files[path] += 2
        expected_reasons[reason] += 1
        expected_reasons['non-region shape'] += 1
    for i, name in enumerate(sorted(FILE_CASES)):
        write, _, reason, num_shapes = FILE_CASES[name]
        (tmp_path / f'file{i}').mkdir()
        path = write(str(tmp_path / f'file{i}'))
        summary.add(read_labelme(path, on_error='skip'))
        expected_files[path] += num_shapes
        expected_reasons[reason] += num_shapes
    num_shape_files = len(SHAPE_CASES)
    assert summary.num_files == num_shape_files + len(FILE_CASES)
    assert summary.num_parsed == num_shape_files
    assert summary.num_read == 3 * num_shape_files + sum(c[3] for c in FILE_CASES.values())
    assert summary.num_parsed + summary.num_skipped == summary.num_read
    assert +summary.by_file == +expected_files
    assert +summary.by_reason == +expected_reasons
    assert set(summary.files_by_reason['invalid JSON']) == {
        str(tmp_path / f'file{i}' / 'raw.json') for i, name in enumerate(sorted(FILE_CASES))
        if FILE_CASES[name][2] == 'invalid JSON'}
    assert summary.num_files_skipped == len(FILE_CASES)
    assert [(skip.field, skip.reason) for skip in summary.files_skipped] == [
        FILE_CASES[name][1:3] for name in sorted(FILE_CASES)]
    table = summary.format(max_files=len(FILE_CASES))
    for reason in expected_reasons:
        assert reason in table
    assert f'{len(FILE_CASES)} files skipped whole' in table
    for skip in summary.files_skipped:
        assert f'  {skip.file}: {skip.field}: {skip.reason}' in table.splitlines()
