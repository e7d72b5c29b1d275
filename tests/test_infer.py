"""Tests of inference into labelme: the pure writer (mmfs_data.formats.labelme_writer, read
back by the labelme reader), the tool's helpers, and tools/misc/infer.py on a briefly trained demo
checkpoint against tools/test.py's predictions."""
import pickle
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmfs_plugin.datasets import LabelmeDataset
from mmfs_data.errors import FieldError
from mmfs_data.formats.labelme import read_labelme
from mmfs_data.formats.labelme_writer import (LABELME_VERSION, LabelmePrediction, place_image,
                                                predictions_to_labelme, write_labelme)

from .tool_runs import ROOT, data_root_options, tool_env

PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
#: The test images: two folders whose images have the same file names.
FOLDERS = ('screw/testing/scratch_head', 'wood/testing/scratch')


@pytest.fixture(scope='module')
def tool() -> dict:
    """The functions of tools/misc/infer.py."""
    return runpy.run_path(str(ROOT / 'tools' / 'misc' / 'infer.py'))


# --- the writer -----------------------------------------------------------------------------


def test_writer_output_reads_back_with_the_labelme_reader(tmp_path: Path) -> None:
    image = tmp_path / 'in' / 'part.png'
    image.parent.mkdir()
    Image.new('RGB', (40, 30)).save(image)
    predictions = [
        LabelmePrediction('scratch', 0.87349, (1.5, 2.0, 11.25, 12.0)),
        LabelmePrediction('dent', 0.5, (2, 2, 30, 20),
                          [[(2, 2), (10, 2), (10, 9)], [(20, 10), (30, 10), (30, 20), (20, 20)]]),
        LabelmePrediction('dent', 0.25, (5, 5, 9, 9), [[(5, 5), (9, 5), (9, 9)]]),
    ]
    content = predictions_to_labelme(predictions, 'part.png', 30, 40)
    assert {key: content[key] for key in content if key != 'shapes'} == dict(
        version=LABELME_VERSION, flags={}, imagePath='part.png', imageData=None,
        imageHeight=30, imageWidth=40)
    assert content['shapes'][0] == dict(
        label='scratch', points=[[1.5, 2.0], [11.25, 12.0]], group_id=None,
        description='score=0.873', shape_type='rectangle', flags={}, mask=None)
    assert [(s['shape_type'], s['group_id'], s['description']) for s in content['shapes']] == [
        ('rectangle', None, 'score=0.873'), ('polygon', 1, 'score=0.500'),
        ('polygon', 1, 'score=0.500'), ('polygon', None, 'score=0.250')]

    out = tmp_path / 'out'
    place_image(str(image), str(out / 'part.png'))
    place_image(str(out / 'part.png'), str(out / 'part.png'))  # already there: kept
    write_labelme(content, str(out / 'part.json'))
    assert (out / 'part.png').read_bytes() == image.read_bytes()
    record = read_labelme(out / 'part.json')
    assert (record.height, record.width) == (30, 40)
    assert [(inst.label, inst.bbox) for inst in record.instances] == [
        ('scratch', (1.5, 2.0, 11.25, 12.0)),
        ('dent', (2.0, 2.0, 30.0, 20.0)),  # the two outlines of one mask: one instance
        ('dent', (5.0, 5.0, 9.0, 9.0))]


@pytest.mark.parametrize('prediction, field', [
    (LabelmePrediction('', 0.5, (0, 0, 1, 1)), 'predictions[0].label'),
    (LabelmePrediction('a', float('nan'), (0, 0, 1, 1)), 'predictions[0].score'),
    (LabelmePrediction('a', 0.5, (3, 0, 3, 1)), 'predictions[0].box'),
    (LabelmePrediction('a', 0.5, (0, 0, 2, 2), [[(0, 0), (2, 2)]]),
     'predictions[0].polygons[0]'),
])
def test_writer_names_the_image_and_the_field_of_bad_predictions(
        prediction: LabelmePrediction, field: str) -> None:
    with pytest.raises(FieldError, match=rf'^a\.png: {re.escape(field)}: ') as error:
        predictions_to_labelme([prediction], 'a.png', 4, 4)
    assert (error.value.file, error.value.field) == ('a.png', field)
    with pytest.raises(FieldError, match=r'^a\.png: imageWidth: not a positive integer'):
        predictions_to_labelme([], 'a.png', 4, 0)


# --- the tool's helpers ---------------------------------------------------------------------


def test_inputs_are_named_relative_to_the_folder_or_the_glob(tool: dict, tmp_path: Path) -> None:
    for name in ('a/1.png', 'a/2.JPG', 'b/1.png', 'b/notes.txt', 'out/a/1.png'):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b'')
    list_images = tool['list_images']
    out = str(tmp_path / 'out')
    assert [name for _, name in list_images(str(tmp_path), out)] == [
        'a/1.png', 'a/2.JPG', 'b/1.png']  # recursive, images only, not the outputs
    assert list_images(f'{tmp_path}/*/1.png', out) == [
        (f'{tmp_path}/a/1.png', 'a/1.png'), (f'{tmp_path}/b/1.png', 'b/1.png')]
    assert list_images(f'{tmp_path}/a/2.JPG', out) == [(f'{tmp_path}/a/2.JPG', '2.JPG')]
    with pytest.raises(FileNotFoundError, match=r'missing: INPUT: no such image'):
        list_images(str(tmp_path / 'missing'), out)
    with pytest.raises(FileNotFoundError, match=r'\*\.gif: INPUT: no images'):
        list_images(f'{tmp_path}/*.gif', out)
    (tmp_path / 'a' / '1.jpg').write_bytes(b'')
    with pytest.raises(ValueError, match=r'a/1\.jpg and .*a/1\.png would write the same'):
        list_images(str(tmp_path), out)


def test_mask_outlines_become_polygons_without_holes(tool: dict) -> None:
    mask = np.zeros((20, 30), bool)
    mask[2:8, 3:10] = True  # a 7x6 block
    mask[10:19, 15:28] = True
    mask[13:16, 19:23] = False  # a hole, left out
    mask[0, 25:29] = True  # one pixel thin: no polygon
    polygons = sorted(tool['mask_polygons'](mask))
    assert polygons == [[(3.0, 2.0), (3.0, 7.0), (9.0, 7.0), (9.0, 2.0)],
                        [(15.0, 10.0), (15.0, 18.0), (27.0, 18.0), (27.0, 10.0)]]


# --- tools/misc/infer.py against tools/test.py ---------------------------------------------------


def run(*args: object) -> subprocess.CompletedProcess:
    """Run a tool of the repo with the test's interpreter, one thread."""
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, env=tool_env())


def score_threshold(scores: list) -> float:
    """A threshold about 20 predictions down, in a gap between scores (no score within 1e-4
    of it, so float noise between two runs cannot move a box across it)."""
    ranked = sorted(scores, reverse=True)
    index = next(i for i in range(20, len(ranked) - 1) if ranked[i] - ranked[i + 1] > 2e-4)
    return (ranked[index] + ranked[index + 1]) / 2


@pytest.mark.slow
def test_infer_writes_labelme_files_with_test_py_boxes(
        tool: dict, demo_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv('MMFS_CACHE_DIR', str(tmp_path / 'cache'))  # the tools' and ours
    proc = run('tools/train.py', 'configs/demo/demo_base.py', '--work-dir', tmp_path / 'base',
               '--cfg-options', *data_root_options(demo_data), 'train_cfg.max_iters=8',
               'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None')
    assert proc.returncode == 0, proc.stderr[-3000:]
    checkpoint = tmp_path / 'base' / 'iter_8.pth'
    # The config the run dumped (num_classes resolved); a plugin config may state another
    # number until FewShotRunner's label space is written into the configs: the tool takes the
    # checkpoint's, so give it a config with a wrong one.
    dumped = tmp_path / 'base' / 'demo_base.py'
    wrong = tmp_path / 'wrong_num_classes.py'
    wrong.write_text(f"_base_ = ['{dumped}']\n"
                     'model = dict(roi_head=dict(bbox_head=dict(num_classes=68)))\n')
    proc = run('tools/test.py', dumped, checkpoint, '--work-dir', tmp_path / 'test', '--out',
               tmp_path / 'preds.pkl')
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(tmp_path / 'preds.pkl', 'rb') as file:
        expected = {str(Path(pred['img_path']).relative_to(demo_data / 'image')):
                    pred['pred_instances'] for pred in pickle.load(file)}
    inputs = tmp_path / 'in'
    for folder in FOLDERS:
        shutil.copytree(demo_data / 'image' / folder, inputs / folder,
                        ignore=shutil.ignore_patterns('*.json'))
    names = sorted(str(path.relative_to(inputs)) for path in inputs.rglob('*.png'))
    assert len(names) >= 8 and set(names) <= set(expected)
    threshold = score_threshold(
        [score for name in names for score in expected[name]['scores'].tolist()])
    (inputs / 'broken.png').write_bytes(b'not an image')

    out = tmp_path / 'out'
    proc = run('tools/misc/infer.py', wrong, checkpoint, inputs, '--out-dir', out, '--score-thr',
               threshold, '--device', 'cpu', '--skip-bad')
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f'infer: 1 unreadable images skipped:\n  {inputs / "broken.png"}' in proc.stdout
    assert sorted(str(path.relative_to(out / 'vis')) for path in out.rglob('vis/**/*.png')) \
        == names
    assert all((out / 'vis' / name).read_bytes()[:8] == PNG_MAGIC for name in names)
    assert all((out / 'labelme' / name).read_bytes() == (inputs / name).read_bytes()
               for name in names)

    classes = tool['checkpoint_dataset_meta'](str(checkpoint))['classes']
    dataset = LabelmeDataset(data_root=str(out / 'labelme'), ann_file='', pipeline=[],
                             test_mode=True, metainfo=dict(classes=classes))
    entries = [dataset.get_data_info(index) for index in range(len(dataset))]
    read_back = {str(Path(entry['img_path']).relative_to(out / 'labelme')): entry
                 for entry in entries}
    assert sorted(read_back) == names
    num_boxes = 0
    for name in names:
        pred = expected[name]
        keep = pred['scores'] > threshold
        boxes, labels = pred['bboxes'][keep].numpy(), pred['labels'][keep].tolist()
        instances = read_back[name]['instances']
        got = np.array([inst['bbox'] for inst in instances]).reshape(-1, 4)
        order, expected_order = np.lexsort(got.T[::-1]), np.lexsort(boxes.T[::-1])
        np.testing.assert_allclose(got[order], boxes[expected_order], atol=1e-3)
        assert [instances[i]['bbox_label'] for i in order] == [labels[i] for i in expected_order]
        num_boxes += len(boxes)
    assert num_boxes >= 20

    # without --skip-bad: an error naming the file, before the model is built (in-process)
    assert tool['main']([str(dumped), str(checkpoint), str(inputs), '--out-dir', str(out)]) == 1
    assert f'infer: error: {inputs / "broken.png"}: not a readable image (1 of {len(names) + 1}' \
        in capsys.readouterr().err


def test_infer_sizes_retentive_tfas_base_branch_from_the_checkpoint(
        tool: dict, demo_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A RetentiveTFA checkpoint whose base branch knows 3 classes, inferred with a config
    whose base_detector file states 6 (a user's config over the demo's): the branch is built
    as saved, every weight loads."""
    import torch
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmfs_plugin.engine.fewshot_runner import set_num_classes
    config = str(ROOT / 'configs' / 'demo' / 'demo_5shot.py')
    cfg = Config.fromfile(config)
    classes = [f'class{i}' for i in range(9)]
    base_detector = Config.fromfile(cfg.model.base_detector).model
    set_num_classes(base_detector, 3)
    init_default_scope('mmdet')
    model = MODELS.build(dict(cfg.model, base_detector=base_detector))
    model.base_labels.copy_(torch.tensor([6, 7, 8]))
    checkpoint = tmp_path / 'retentive.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=dict(classes=classes))),
               checkpoint)
    assert tool['checkpoint_dataset_meta'](str(checkpoint))['num_base_classes'] == 3
    image = next((demo_data / 'image' / FOLDERS[0]).glob('*.png'))
    status = tool['main']([config, str(checkpoint), str(image), '--out-dir',
                           str(tmp_path / 'out'), '--device', 'cpu'])
    out = capsys.readouterr()
    assert status == 0, out.err
    assert 'size mismatch' not in out.out + out.err
