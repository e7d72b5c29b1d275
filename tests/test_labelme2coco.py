"""tools/dataset_converters/labelme2coco.py against labelme's own COCO export, and its command
line."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import uuid

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from .test_labelme_geometry import labelme_shape_mask
from .test_labelme_reader import image_b64, mask_b64, shape, write_image, write_labelme

TOOL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tools',
                    'dataset_converters', 'labelme2coco.py')
_spec = importlib.util.spec_from_file_location('labelme2coco', TOOL)
labelme2coco = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(labelme2coco)


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
        mask = labelme_shape_mask(doc['imageHeight'], doc['imageWidth'], s)
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


def test_areas_and_segmentations_are_what_lies_in_the_image(tmp_path, capsys):
    os.makedirs(tmp_path / 'in')
    write_image(str(tmp_path / 'in' / 'c.png'), 100, 100)
    write_labelme(tmp_path / 'in', 'c', [
        shape('dent', [[-50, -50], [50, 50]], 'rectangle'),
        shape('dent', [[80, 60], [130, 60], [130, 90], [80, 90]]),
        shape('dent', [[60, -0.4], [70, 10]], 'rectangle'),
    ], image=False, imageHeight=100, imageWidth=100)
    out = tmp_path / 'coco.json'
    assert run([tmp_path / 'in', out], capsys)[0] == 0
    coco = COCO(str(out))
    anns = coco.loadAnns(coco.getAnnIds())
    assert [(a['bbox'], a['area']) for a in anns] == [
        ([0.0, 0.0, 50.0, 50.0], 2500.0), ([80.0, 60.0, 20.0, 30.0], 600.0),
        ([60.0, 0.0, 10.0, 10.0], 100.0)]
    for ann in anns:
        (polygon,) = ann['segmentation']
        assert min(polygon) >= 0 and max(polygon) <= 100  # clipped, as the area
        assert abs(coco.annToMask(ann).sum() - ann['area']) <= ann['bbox'][2] + ann['bbox'][3]


def test_image_size_and_embedded_image_as_labelme_reads_them(tmp_path, capsys):
    # t3 declares 200 high, 100 wide for a 200 wide, 100 high image; t2 embeds its image and
    # names a file that was shrunk later
    box = shape('crack', [[20, 10], [180, 90]], 'rectangle')
    os.makedirs(tmp_path / 'in')
    write_image(str(tmp_path / 'in' / 't3.png'), 100, 200)
    t3 = write_labelme(tmp_path / 'in', 't3', [box], image=False, imageHeight=200,
                       imageWidth=100)
    write_image(str(tmp_path / 'in' / 't2.png'), 50, 100)
    write_labelme(tmp_path / 'in', 't2', [box], image=False, imageData=image_b64(100, 200),
                  imageHeight=100, imageWidth=200)
    out = tmp_path / 'coco.json'
    status, _, stderr = run([tmp_path / 'in', out], capsys)
    assert status == 0
    assert stderr.splitlines() == [
        f'labelme2coco: warning: {t3}: imageHeight: disagrees with the image (200 in the JSON, '
        f"100 in {tmp_path / 'in' / 't3.png'}; the image's is used)",
        f'labelme2coco: warning: {t3}: imageWidth: disagrees with the image (100 in the JSON, '
        f"200 in {tmp_path / 'in' / 't3.png'}; the image's is used)"]
    coco = json.loads(out.read_text())
    assert [(i['file_name'].split('_')[0], i['height'], i['width']) for i in coco['images']] == [
        ('coco', 100, 200), ('in/t3.png', 100, 200)]
    assert Image.open(tmp_path / coco['images'][0]['file_name']).size == (200, 100)
    assert [a['bbox'] for a in coco['annotations']] == [[20.0, 10.0, 160.0, 80.0]] * 2


def test_two_files_of_one_image_fail_or_the_later_is_skipped(tmp_path, capsys):
    first = write_labelme(tmp_path / 'in', 'a', [shape('crack', [[1, 1], [9, 1], [9, 9]])])
    copy = str(tmp_path / 'in' / 'a - Copy.json')
    shutil.copy(first, copy)
    out = tmp_path / 'coco.json'
    status, _, stderr = run([tmp_path / 'in', out], capsys)
    assert status == 1 and not out.exists()
    # files are read in name order: 'a - Copy.json' before 'a.json'
    assert stderr == (f'labelme2coco: error: {first}: imagePath: image annotated twice '
                      f"({tmp_path / 'in' / 'a.png'} is also annotated by {copy})\n")
    status, stdout, _ = run([tmp_path / 'in', out, '--on-error', 'skip'], capsys)
    assert status == 0
    coco = json.loads(out.read_text())
    assert len(coco['images']) == len(coco['annotations']) == 1
    assert 'image annotated twice' in stdout and '1 of 2 shapes skipped' in stdout


def test_a_file_cut_in_half_is_counted_and_named_when_skipped(tmp_path, capsys):
    write_labelme(tmp_path / 'in', 'a', [shape('crack', [[1, 1], [9, 1], [9, 9]])])
    cut = write_labelme(tmp_path / 'in', 'b', [shape('crack', [[1, 1], [9, 1], [9, 9]])])
    with open(cut) as f:
        text = f.read()
    with open(cut, 'w') as f:
        f.write(text[:len(text) // 2])
    out = tmp_path / 'coco.json'
    status, _, stderr = run([tmp_path / 'in', out], capsys)
    assert status == 1 and not out.exists()
    assert stderr.startswith(f'labelme2coco: error: {cut}: json: invalid JSON')
    status, stdout, _ = run([tmp_path / 'in', out, '--on-error', 'skip'], capsys)
    assert status == 0, stdout
    coco = json.loads(out.read_text())
    assert len(coco['images']) == len(coco['annotations']) == 1
    assert 'skipped input:' in stdout
    assert '0 of 1 shapes skipped (1 parsed) in 1 of 2 files; 1 file skipped whole' in stdout
    assert f'  {cut}: json: invalid JSON' in stdout.splitlines()


def test_output_folder_is_created(tmp_path, capsys):
    labelme_tree(tmp_path / 'labelme')
    out = tmp_path / 'data' / 'not_yet' / 'coco.json'
    assert run([tmp_path / 'labelme', out], capsys)[0] == 0
    assert len(json.loads(out.read_text())['images']) == 3


def test_class_lists_are_checked_and_look_alike_labels_reported(tmp_path, capsys):
    labelme_tree(tmp_path / 'labelme')
    out = tmp_path / 'coco.json'
    status, _, stderr = run([tmp_path / 'labelme', out, '--classes', 'crack', 'dent', 'crack'],
                            capsys)
    assert status == 1 and "--classes: listed more than once: ['crack']" in stderr
    status, _, stderr = run([tmp_path / 'labelme', out, '--classes', 'crack', ''], capsys)
    assert status == 1 and '--classes: every class name must be a non-empty str' in stderr
    labels = tmp_path / 'labels.txt'
    labels.write_text('__ignore__\n')
    status, _, stderr = run([tmp_path / 'labelme', out, '--classes-file', labels], capsys)
    assert status == 1 and f'{labels}: no class listed' in stderr
    assert not out.exists()
    write_labelme(tmp_path / 'labelme' / 'd', 'look', [shape('Crack ', [[1, 1], [9, 1], [9, 9]]),
                                                       shape('CRACK', [[1, 1], [9, 1], [9, 9]])])
    status, _, stderr = run([tmp_path / 'labelme', out], capsys)
    assert status == 0
    assert stderr == ('labelme2coco: warning: labels differing only in case or surrounding '
                      "spaces, each a class of its own: 'CRACK', 'Crack ', 'crack'\n")
    assert [c['name'] for c in json.loads(out.read_text())['categories']] == [
        'CRACK', 'Crack ', 'crack', 'dent', 'hole', 'stain']
