"""tools/labelme2coco.py against labelme's own COCO export, and its command line."""
import base64
import importlib.util
import io
import json
import os
import subprocess
import sys
import uuid

import numpy as np
from PIL import Image, ImageDraw
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from .test_labelme_reader import image_b64, mask_b64, shape, write_labelme

TOOL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tools',
                    'labelme2coco.py')
_spec = importlib.util.spec_from_file_location('labelme2coco', TOOL)
labelme2coco = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(labelme2coco)


def labelme_shape_mask(doc: dict, s: dict) -> np.ndarray:
    """labelme's ``shape_to_mask`` (utils/shape.py), and its mask-shape placement (5.x)."""
    height, width = doc['imageHeight'], doc['imageWidth']
    shape_type = s.get('shape_type') or 'polygon'
    if shape_type == 'mask':
        mask = np.zeros((height, width), bool)
        (x1, y1), (x2, y2) = np.asarray(s['points']).astype(int)
        bitmap = np.asarray(Image.open(io.BytesIO(base64.b64decode(s['mask'])))).astype(bool)
        mask[y1:y2 + 1, x1:x2 + 1] = bitmap
        return mask
    image = Image.fromarray(np.zeros((height, width), np.uint8))
    draw = ImageDraw.Draw(image)
    xy = [tuple(point) for point in s['points']]
    if shape_type == 'circle':
        (cx, cy), (px, py) = xy
        d = np.hypot(cx - px, cy - py)
        draw.ellipse([cx - d, cy - d, cx + d, cy + d], outline=1, fill=1)
    elif shape_type == 'rectangle':  # sorted: modern Pillow refuses reversed corners
        (x1, y1), (x2, y2) = xy
        draw.rectangle([min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)], outline=1, fill=1)
    else:
        draw.polygon(xy=xy, outline=1, fill=1)
    return np.array(image, dtype=bool)


def labelme_export(json_path: str, classes) -> list:
    """labelme's examples/instance_segmentation/labelme2coco.py: ``(class, bbox, area)``."""
    with open(json_path) as f:
        doc = json.load(f)
    masks = {}
    for s in doc['shapes']:
        if s.get('shape_type') in ('point', 'points', 'line', 'linestrip'):
            continue  # the one documented difference: labelme paints them, they are no objects
        group_id = s.get('group_id')
        key = (s['label'], uuid.uuid1() if group_id is None else group_id)
        mask = labelme_shape_mask(doc, s)
        masks[key] = masks[key] | mask if key in masks else mask
    result = []
    for (label, _), mask in masks.items():
        if label in classes:  # __ignore__ is not a class
            rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
            result.append((label, mask_utils.toBbox(rle).tolist(), float(mask_utils.area(rle))))
    return result


def labelme_tree(root) -> list:
    """labelme's kinds of file; return the JSON paths in the tool's (sorted) order."""
    stain = np.zeros((6, 9), bool)
    stain[1:5, 2:8] = True
    return [
        write_labelme(root / 'a', 'parts', [
            shape('crack', [[3, 4], [15, 4], [15, 12], [3, 12]], group_id=1),
            shape('__ignore__', [[20, 20], [30, 20], [25, 30]]),
            shape('crack', [[30, 2], [44, 6], [36, 14]], group_id=1),
            shape('dent', [[40, 35], [28, 22]], 'rectangle'),
            shape('hole', [[10, 28], [10, 34]], 'circle'),
            shape('crack', [[2, 30], [9, 36], [4, 38]]),
        ]),
        write_labelme(root / 'b', 'embedded', [
            shape('crack', [[5, 5], [25, 8], [12, 20]]),
            shape('stain', [[30, 10], [38, 15]], 'mask', mask=mask_b64(stain)),
        ], image=False, imagePath='missing.png', imageData=image_b64()),
        write_labelme(root / 'c', 'mixed', [
            shape('stain', [[4, 4], [12, 9]], 'mask', group_id=5, mask=mask_b64(stain)),
            shape('stain', [[20, 20], [30, 20], [30, 30], [20, 30]], group_id=5),
            shape('dent', [[1, 1]], 'point'),
        ]),
    ]


def run(args, capsys):
    status = labelme2coco.main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_objects_match_labelme_coco_export(tmp_path, capsys):
    sources = labelme_tree(tmp_path / 'labelme')
    out = tmp_path / 'coco' / 'train.json'
    status, stdout, _ = run([tmp_path / 'labelme', out], capsys)
    assert status == 0, stdout
    coco = json.loads(out.read_text())
    classes = ['crack', 'dent', 'hole', 'stain']
    assert coco['categories'] == [{'id': i + 1, 'name': c} for i, c in enumerate(classes)]
    assert len(coco['images']) == len(sources)
    for image, source in zip(coco['images'], sources):
        ours = [(classes[a['category_id'] - 1], a) for a in coco['annotations']
                if a['image_id'] == image['id']]
        reference = labelme_export(source, classes)
        assert sorted(name for name, _ in ours) == sorted(name for name, _, _ in reference)
        for name, box, area in reference:
            match = [a for n, a in ours if n == name
                     and np.abs(np.subtract(a['bbox'], box)).max() <= 1]
            assert len(match) == 1, (source, name, box, [a['bbox'] for _, a in ours])
            # raster areas differ by at most a one-pixel band along the outline
            assert abs(match[0]['area'] - area) <= box[2] + box[3]
        assert all(a['iscrowd'] == 0 for _, a in ours)
    # a mask shape alone is the same pixels in both
    (stain, ) = [a for a in coco['annotations'] if a['image_id'] == 2 and a['category_id'] == 4]
    assert [stain['area']] == [area for name, _, area in labelme_export(sources[1], classes)
                               if name == 'stain']
    assert '3 images, 7 annotations, 4 categories' in stdout


def test_output_loads_in_pycocotools_and_images_resolve(tmp_path, capsys):
    labelme_tree(tmp_path / 'labelme')
    out = tmp_path / 'coco' / 'train.json'
    assert run([tmp_path / 'labelme', out], capsys)[0] == 0
    coco = COCO(str(out))
    for image in coco.dataset['images']:
        path = out.parent / image['file_name']
        assert Image.open(path).size == (image['width'], image['height'])
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=image['id'])):
            assert coco.annToMask(ann).sum() > 0
    embedded = coco.dataset['images'][1]['file_name']
    assert embedded.startswith('train_images/embedded_')
    assert coco.dataset['images'][0]['file_name'] == '../labelme/a/parts.png'


def test_classes_file_order_and_splits(tmp_path, capsys):
    labelme_tree(tmp_path / 'labelme')
    labels = tmp_path / 'labels.txt'
    labels.write_text('__ignore__\n_background_\nstain\ndent\n\ncrack\nhole\n')
    split = tmp_path / 'split.json'
    split.write_text(json.dumps({'novel': ['hole', 'dent']}))
    for option in (['--split', split], ['--novel-classes', 'dent', 'hole']):
        out = tmp_path / 'coco.json'
        assert run([tmp_path / 'labelme', out, '--classes-file', labels] + option,
                   capsys)[0] == 0
        coco = json.loads(out.read_text())
        assert [(c['id'], c['name'], c['split']) for c in coco['categories']] == [
            (1, 'stain', 'base'), (2, 'dent', 'novel'), (3, 'crack', 'base'),
            (4, 'hole', 'novel')]
        dents = [a for a in coco['annotations'] if a['category_id'] == 2]
        assert [a['bbox'] for a in dents] == [[28.0, 22.0, 12.0, 13.0]]


def test_unknown_label_fails_naming_file_and_field_or_is_skipped(tmp_path, capsys):
    sources = labelme_tree(tmp_path / 'labelme')
    out = tmp_path / 'coco.json'
    status, _, stderr = run([tmp_path / 'labelme', out, '--classes', 'crack', 'dent', 'stain'],
                            capsys)
    assert status == 1 and not out.exists()
    assert f'{sources[0]}: shapes[4].label: label not in classes' in stderr
    status, stdout, _ = run([tmp_path / 'labelme', out, '--classes', 'crack', 'dent', 'stain',
                             '--on-error', 'skip'], capsys)
    assert status == 0
    coco = json.loads(out.read_text())
    assert len(coco['annotations']) == 6 and {c['name'] for c in coco['categories']} == {
        'crack', 'dent', 'stain'}
    assert 'label not in classes' in stdout and 'non-region shape' in stdout


def test_bad_input_and_rerun_with_output_inside_the_tree(tmp_path, capsys):
    labelme_tree(tmp_path)
    assert run([tmp_path / 'nowhere', tmp_path / 'x.json'], capsys)[1:] == (
        '', f'labelme2coco: error: {tmp_path / "nowhere"}: INPUT_DIR: no such folder\n')
    out = tmp_path / 'coco.json'
    assert run([tmp_path, out], capsys)[0] == 0
    first = out.read_text()
    assert run([tmp_path, out], capsys)[0] == 0  # its own output is not read as labelme
    assert out.read_text() == first
    (tmp_path / 'a' / 'broken.json').write_text('{"shapes": [')
    status, _, stderr = run([tmp_path, out], capsys)
    assert status == 1 and f'{tmp_path / "a" / "broken.json"}: json: invalid JSON' in stderr
    assert out.read_text() == first


def test_help_runs_as_a_script():
    result = subprocess.run([sys.executable, TOOL, '--help'], capture_output=True, text=True,
                            check=True)
    assert '__ignore__ regions have no class and are left out' in ' '.join(result.stdout.split())
