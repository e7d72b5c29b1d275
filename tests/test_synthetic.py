"""The synthetic MVTec-FS generator: the demo set's shape, determinism, polygons, looks."""
import glob
import hashlib
import itertools
import json
import os
import runpy
import time

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mmfs_data.formats.mvtec_fs_table import load_table
from mmfs_data.synthetic.generator import (distribute_instances, generate_synthetic_mvtecfs,
                                            target_table)
from mmfs_data.synthetic.defects import class_shapes

DEMO_CLASSES = {
    'bottle': ['broken_large', 'broken_small', 'contamination'],
    'screw': ['manipulated_front', 'scratch_head', 'scratch_neck'],
    'wood': [row.defect for row in load_table() if row.category == 'wood'][:3],
}
TOOL = os.path.join(os.path.dirname(__file__), '..', 'tools', 'dataset_converters',
                    'make_synthetic_mvtecfs.py')


def tree_digest(root: str, pattern: str) -> str:
    """SHA-256 over the relative paths and bytes of the tree's files matching a pattern."""
    digest = hashlib.sha256()
    for path in sorted(glob.glob(os.path.join(root, 'image', '*', '*', '*', pattern))):
        digest.update(os.path.relpath(path, root).encode())
        with open(path, 'rb') as f:
            digest.update(f.read())
    return digest.hexdigest()


def annotations(root: str):
    """Yield (category, split folder, labelme dict, RGB array) for every image of a tree."""
    for path in sorted(glob.glob(os.path.join(root, 'image', '*', '*', '*', '*.json'))):
        category, split_folder = path.split(os.sep)[-4:-2]
        with open(path) as f:
            doc = json.load(f)
        image = np.asarray(Image.open(os.path.join(os.path.dirname(path), doc['imagePath'])))
        yield category, split_folder, doc, image


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('demo'))
    start = time.process_time()  # CPU time: robust to other jobs on a shared machine
    summary = generate_synthetic_mvtecfs(root, seed=0)
    return root, summary, time.process_time() - start


def test_demo_set_shape_and_speed(demo):
    root, summary, seconds = demo
    assert seconds < 5
    assert summary == dict(categories=3, classes=9, train_images=108, test_images=54,
                           train_instances=144, test_instances=72, good_test_images=18)
    per_image = [len(doc['shapes']) for _, _, doc, _ in annotations(root)]
    assert len(per_image) == 108 + 54 + 18 and set(per_image) == {0, 1, 2}
    # the defect-free parts: 6 per category, in testing/good/, labelme files without shapes
    good = [path for path in glob.glob(os.path.join(root, 'image', '*', '*', 'good', '*.json'))]
    assert len(good) == 18 and all('/testing/good/' in path for path in good)
    found = {}
    for category, _, doc, image in annotations(root):
        assert image.shape == (128, 128, 3)
        assert (doc['imageHeight'], doc['imageWidth']) == (128, 128)
        found.setdefault(category, set()).update(shape['label'] for shape in doc['shapes'])
    assert found == {category: set(defects) for category, defects in DEMO_CLASSES.items()}


def test_demo_images_mix_classes(demo):
    labels = [{shape['label'] for shape in doc['shapes']} for _, _, doc, _ in annotations(demo[0])]
    assert any(len(image_labels) == 2 for image_labels in labels)


def test_same_seed_same_bytes_other_seed_differs(demo, tmp_path):
    generate_synthetic_mvtecfs(str(tmp_path / 'again'), seed=0)
    generate_synthetic_mvtecfs(str(tmp_path / 'other'), seed=1)
    for pattern in ('*.json', '*.png'):
        assert tree_digest(str(tmp_path / 'again'), pattern) == tree_digest(demo[0], pattern)
    assert tree_digest(str(tmp_path / 'other'), '*.json') != tree_digest(demo[0], '*.json')


def test_polygons_are_valid_labelme_inside_the_image(demo):
    integer_coords = float_coords = 0
    for _, _, doc, _ in annotations(demo[0]):
        assert doc['version'] == '5.5.0' and doc['imageData'] is None
        for shape in doc['shapes']:
            assert shape['shape_type'] == 'polygon'
            points = np.asarray(shape['points'], float)
            assert 7 <= len(points) <= 200
            assert (points >= 0).all() and (points[:, 0] <= doc['imageWidth']).all()
            assert (points[:, 1] <= doc['imageHeight']).all()
            extent = points.max(axis=0) - points.min(axis=0)
            assert extent.max() >= 18 and extent.min() >= 3  # not tiny at 128 px
            is_int = all(isinstance(v, int) for point in shape['points'] for v in point)
            integer_coords += is_int
            float_coords += not is_int
    assert integer_coords and float_coords


def test_classes_differ_visibly_inside_their_masks(demo):
    colours = {}
    for category, _, doc, image in annotations(demo[0]):
        for shape in doc['shapes']:
            mask = Image.new('L', (doc['imageWidth'], doc['imageHeight']))
            ImageDraw.Draw(mask).polygon([tuple(p) for p in shape['points']], fill=1)
            inside = image[np.asarray(mask, bool)]
            colours.setdefault((category, shape['label']), []).append(inside.mean(axis=0))
    means = {key: np.mean(values, axis=0) for key, values in colours.items()}
    for category, defects in DEMO_CLASSES.items():
        for a, b in itertools.combinations(defects, 2):
            assert np.linalg.norm(means[category, a] - means[category, b]) > 80, (category, a, b)


def test_every_category_gets_distinct_shapes():
    table = load_table()
    for category in dict.fromkeys(row.category for row in table):
        shapes = class_shapes([row.defect for row in table if row.category == category])
        assert len(set(shapes)) == len(shapes)


@pytest.mark.parametrize('counts, num_images', [([16, 16, 16], 36), ([18, 26, 28, 12], 32),
                                                ([5, 1, 1], 3), ([3, 4], 7)])
def test_distribute_instances_keeps_counts(counts, num_images):
    images = distribute_instances(counts, num_images, np.random.default_rng(0))
    assert len(images) == num_images and all(images)
    assert [sum(labels.count(c) for labels in images) for c in range(len(counts))] == counts


def test_distribute_instances_rejects_impossible_counts():
    with pytest.raises(ValueError, match='cannot put'):
        distribute_instances([2, 2], 5, np.random.default_rng(0))


def test_bad_arguments_are_refused(demo, tmp_path):
    with pytest.raises(FileExistsError, match='not empty'):
        generate_synthetic_mvtecfs(demo[0])
    with pytest.raises(ValueError, match='32 px'):
        generate_synthetic_mvtecfs(str(tmp_path / 'tiny'), scale=0.2)
    with pytest.raises(ValueError, match='positive'):
        target_table(scale=0)


def test_command_line(tmp_path, capsys):
    main = runpy.run_path(TOOL)['main']
    out = str(tmp_path / 'tree')
    assert main([out, '--scale', '0.5', '--seed', '3']) == 0
    assert '"train_instances": 144' in capsys.readouterr().out
    assert main([out]) == 1
    err = capsys.readouterr().err
    assert 'not empty' in err and '--overwrite' in err
    assert main([out, '--overwrite', '--scale', '0.25', '--seed', '3']) == 0
    sizes = {image.shape for _, _, _, image in annotations(out)}
    assert sizes == {(32, 32, 3)}  # the old 64 px tree is gone
    with pytest.raises(SystemExit) as exit_info:
        main(['--help'])
    assert exit_info.value.code == 0 and '--like-mvtec-fs' in capsys.readouterr().out
