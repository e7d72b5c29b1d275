"""Tests of the pictures of predictions: label placement and upscaling
(mmfs_plugin.visualization), predictions beside the ground truth,
tools/analysis_tools/draw_predictions.py on the synthetic demo set and tools/misc/infer.py's
pictures."""
import pickle
import re
import runpy
from pathlib import Path
from typing import List, Tuple

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData
from PIL import Image

from mmfs_plugin.engine import build_fewshot_dataset
from mmfs_plugin.visualization import (display_scale, draw_predictions_beside_gt,
                                      place_labels, scale_image)
from mmfs_plugin.visualization.drawing import PANEL_GAP_PX
from mmfs_plugin.visualization.layout import MIN_SIDE

from .tool_runs import ROOT

CONFIG = str(ROOT / 'configs' / 'demo' / 'demo_5shot.py')
#: The colour of the test image: found again in the picture where nothing is drawn over it.
GREEN = (0, 90, 0)


def tool(name: str) -> dict:
    """The globals of a script in ``tools/`` (its functions), run as a module."""
    return runpy.run_path(str(ROOT / 'tools' / f'{name}.py'))


def overlap(a: Tuple[float, ...], b: Tuple[float, ...]) -> float:
    """The area two x1y1x2y2 rectangles share."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * \
        max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def read_rgb(path: Path) -> np.ndarray:
    """A PNG as an (H, W, 3) RGB array."""
    return np.asarray(Image.open(path).convert('RGB'))


def green_panels(picture: np.ndarray) -> List[np.ndarray]:
    """The panels of a picture of the :data:`GREEN` test image, left to right: the bounding
    rectangles of the runs of columns holding green pixels (split where no column holds any
    for nearly the gap between panels: lines drawn down a whole panel split none)."""
    green = (np.abs(picture.astype(int) - GREEN).max(axis=2) <= 2)
    columns = np.flatnonzero(green.any(axis=0))
    runs = np.split(columns, np.flatnonzero(np.diff(columns) > PANEL_GAP_PX - 4) + 1)
    panels = []
    for run in runs:
        rows = np.flatnonzero(green[:, run].any(axis=1))
        panels.append(picture[rows[0]:rows[-1] + 1, run[0]:run[-1] + 1])
    return panels


def is_green(pixels: np.ndarray) -> np.ndarray:
    """Per pixel: whether it is the test image's colour."""
    return np.abs(pixels.astype(int) - GREEN).max(axis=-1) <= 2


# --- upscaling and label placement -----------------------------------------------------------


@pytest.mark.parametrize('size, scale', [((64, 64), 8), ((200, 200), 3), ((128, 128), 4),
                                         ((600, 800), 1), ((400, 600), 2), ((100, 1000), 2),
                                         ((3000, 4096), 0.5)])
def test_display_scale_upscales_small_images_by_an_integer(size: Tuple[int, int],
                                                           scale: float) -> None:
    assert display_scale(*size) == scale
    if scale >= 1:
        assert scale == int(scale)


def test_scale_image_repeats_pixels() -> None:
    image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    scaled = scale_image(image, 4.0)
    assert scaled.shape == (8, 12, 3)
    np.testing.assert_array_equal(scaled[::4, ::4], image)
    np.testing.assert_array_equal(scaled[3, 11], image[0, 2])
    assert scale_image(np.zeros((4000, 2000, 3), np.uint8), 0.5).shape == (2000, 1000, 3)


def test_labels_go_above_else_below_never_over_their_box_or_each_other() -> None:
    width, height, margin, size = 600.0, 600.0, 22.0, (120.0, 19.0)
    boxes = [
        (0.0, 0.0, 300.0, 600.0),  # full height, at the top left: above, in the strip
        (3.0, 3.0, 303.0, 597.0),  # the same corner: the "inclusion: 11.4: 12.0"
        (0.0, 0.0, 290.0, 590.0),  # a third there
        (350.0, 200.0, 450.0, 300.0),  # room above
        (550.0, 400.0, 600.0, 450.0),  # at the right edge: the label moves left
    ]
    rects = place_labels(boxes, [size] * len(boxes), width, height, margin)
    for index, (rect, box) in enumerate(zip(rects, boxes)):
        assert rect[2] - rect[0] == size[0] and rect[3] - rect[1] == size[1]
        assert 0 <= rect[0] and rect[2] <= width, rect
        assert -margin <= rect[1] and rect[3] <= height + margin, rect
        assert overlap(rect, box) == 0, (index, rect)  # outside its box
        assert all(overlap(rect, other) == 0 for other in rects[:index]), (index, rect)
    assert rects[0][3] <= 0  # above the image, in the strip
    assert rects[3] == (350.0, 200.0 - 3 - 19, 470.0, 200.0 - 3)  # just above, left-aligned
    assert rects[4][2] == width and rects[4][3] <= 400  # above, moved left to fit


def test_a_label_goes_inside_only_where_labels_take_every_place_outside() -> None:
    box = (0.0, 0.0, 100.0, 100.0)
    rects = place_labels([box] * 20, [(100.0, 10.0)] * 20, 100.0, 100.0, margin=13.0)
    assert overlap(rects[0], box) == 0 and overlap(rects[1], box) == 0
    assert overlap(rects[2], box) > 0  # the strips are full: inside, at the top
    assert rects[2] == (0.0, 3.0, 100.0, 13.0)


# --- predictions beside the ground truth -----------------------------------------------------


def test_predictions_beside_gt_upscale_and_draw_kept_predictions_only(tmp_path: Path) -> None:
    image = np.full((64, 64, 3), GREEN, np.uint8)
    gt = [dict(bbox=[4, 20, 28, 60], bbox_label=0, ignore_flag=0)]
    predictions = dict(
        bboxes=torch.tensor([[4, 20, 28, 60], [36, 36, 60, 60], [36, 4, 60, 28]]),
        scores=torch.tensor([0.9, 0.5, 0.1]), labels=torch.tensor([0, 1, 1]))
    out_file = tmp_path / 'pictures' / 'sample.png'
    draw_predictions_beside_gt(image, gt, predictions, ['a/x', 'b/y'],
                               [(31, 119, 180), (214, 39, 40)], {'b/y'}, str(out_file),
                               score_thr=0.3, title='sample.png')
    picture = read_rgb(out_file)
    scale = 8  # 64 px: upscaled to MIN_SIDE
    assert 64 * scale == MIN_SIDE
    assert 2 * MIN_SIDE + PANEL_GAP_PX <= picture.shape[1] <= 2 * MIN_SIDE + 100
    left, right = green_panels(picture)
    assert left.shape == right.shape == (MIN_SIDE, MIN_SIDE, 3)
    # the 0.5 box, not in the ground truth: drawn on the right only (its left edge)
    fp_edge = (slice(36 * scale + 4, 60 * scale - 4), slice(36 * scale - 1, 36 * scale + 2))
    assert is_green(left[fp_edge]).all()
    assert not is_green(right[fp_edge]).any()
    # the 0.1 box, under the threshold: not drawn (the image shows there on both sides)
    low = (slice(4 * scale - 4, 28 * scale + 4), slice(36 * scale - 4, 60 * scale + 4))
    assert is_green(right[low]).all() and is_green(left[low]).all()
    # the ground-truth box: drawn on both sides
    gt_edge = (slice(20 * scale + 4, 60 * scale - 4), 4 * scale)
    assert not is_green(left[gt_edge]).any() and not is_green(right[gt_edge]).any()
    # nothing over the objects: the labels are outside the boxes
    inside = (slice(20 * scale + 4, 60 * scale - 4), slice(4 * scale + 4, 28 * scale - 4))
    assert is_green(left[inside]).all() and is_green(right[inside]).all()


# --- tools/analysis_tools/draw_predictions.py --------------------------------------------------


def test_choose_images_alternates_novel_and_base() -> None:
    choose = tool('analysis_tools/draw_predictions')['choose_images']
    label_sets = [{0}, {0}, {1}, {2}, set(), {1, 2}]
    assert choose(label_sets, {1}, 4) == [2, 0, 5, 3]
    assert choose(label_sets, {1}, 6) == [2, 0, 5, 1, 3, 4]
    assert choose(label_sets, {1}, 1) == [2]
    assert choose(label_sets, set(), 2) == [0, 5]


@pytest.fixture
def demo_options(demo_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Config overrides pointing the demo config at the session's demo tree."""
    monkeypatch.setenv('MMFS_CACHE_DIR', str(tmp_path / 'cache'))
    return {'test_dataloader.dataset.dataset.data_root': str(demo_data)}


def test_draw_predictions_tool_on_the_demo_set(demo_options: dict, tmp_path: Path,
                                               capsys: pytest.CaptureFixture) -> None:
    dataset = build_fewshot_dataset(CONFIG, 'test', demo_options)
    samples = []
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        kept = [inst for inst in info['instances'] if inst['bbox_label'] >= 0]
        boxes = [inst['bbox'] for inst in kept] + [[2, 2, 30, 30]]
        samples.append(dict(img_id=info['img_id'], img_path=info['img_path'],
                            pred_instances=dict(
                                bboxes=torch.tensor(boxes, dtype=torch.float32),
                                scores=torch.tensor([0.9] * len(kept) + [0.05]),
                                labels=torch.tensor([inst['bbox_label'] for inst in kept]
                                                    + [0]))))
    pred_pkl = tmp_path / 'predictions.pkl'
    pred_pkl.write_bytes(pickle.dumps(samples))
    out_dir = tmp_path / 'pictures'
    capsys.readouterr()
    assert tool('analysis_tools/draw_predictions')['main']([
        CONFIG, str(pred_pkl), '--out-dir', str(out_dir), '--num', '4', '--cfg-options',
        *[f'{key}={value}' for key, value in demo_options.items()]]) == 0
    printed = capsys.readouterr().out.splitlines()
    pngs = sorted(str(path) for path in out_dir.glob('*.png'))
    assert sorted(printed) == pngs and len(pngs) == 4  # one line per picture, nothing else
    names = [Path(path).name for path in printed]
    novel = tuple(f'{name}_' for name in ('bottle',))  # the demo's novel category
    assert [name.startswith(novel) for name in names] == [True, False, True, False], names
    assert all(name.count('_testing_') == 1 for name in names)
    for path in printed:
        picture = read_rgb(Path(path))
        shown = 128 * display_scale(128, 128)  # the demo images are 128 px
        assert shown >= MIN_SIDE
        assert 2 * shown + PANEL_GAP_PX <= picture.shape[1] <= 2 * shown + 100


def test_draw_predictions_tool_names_a_foreign_image(demo_options: dict, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    pred_pkl = tmp_path / 'foreign.pkl'
    pred_pkl.write_bytes(pickle.dumps([dict(img_id=10**6, pred_instances=dict(
        bboxes=np.zeros((0, 4)), scores=np.zeros(0), labels=np.zeros(0, int)))]))
    assert tool('analysis_tools/draw_predictions')['main']([
        CONFIG, str(pred_pkl), '--out-dir', str(tmp_path), '--cfg-options',
        *[f'{key}={value}' for key, value in demo_options.items()]]) == 1
    assert f'{pred_pkl}: [0].img_id: 1000000 is not an image' in capsys.readouterr().err


def test_draw_predictions_tool_refuses_an_image_paired_by_id_alone(
        demo_options: dict, tmp_path: Path) -> None:
    dataset = build_fewshot_dataset(CONFIG, 'test', demo_options)
    first, second = (dataset.get_data_info(index) for index in (0, 1))
    pred_pkl = tmp_path / 'renumbered.pkl'  # the test file exported again with new image ids
    pred_pkl.write_bytes(pickle.dumps([dict(
        img_id=first['img_id'], img_path=second['img_path'], pred_instances=dict(
            bboxes=np.zeros((0, 4)), scores=np.zeros(0), labels=np.zeros(0, int)))]))
    with pytest.raises(ValueError, match=re.escape(
            f"{pred_pkl}: [0].img_path: {second['img_path']} was predicted as img_id "
            f"{first['img_id']!r}, but the test dataset's image {first['img_id']!r} is "
            f"{first['img_path']}")):
        tool('analysis_tools/draw_predictions')['load_predictions'](str(pred_pkl), dataset)


# --- tools/misc/infer.py's pictures ---------------------------------------------------------------


def test_infer_picture_is_upscaled_with_predictions_above_the_threshold(tmp_path: Path) -> None:
    image = tmp_path / 'part.png'
    Image.fromarray(np.full((200, 200, 3), GREEN, np.uint8)).save(image)
    instances = InstanceData(
        bboxes=torch.tensor([[10.0, 0.0, 100.0, 200.0], [12.0, 1.0, 98.0, 199.0],
                             [150.0, 20.0, 190.0, 60.0]]),
        scores=torch.tensor([0.12, 0.114, 0.05]), labels=torch.tensor([0, 0, 1]))
    out_file = tmp_path / 'vis' / 'part.png'
    tool('misc/infer')['write_picture'](str(image), instances,
                                   dict(classes=('inclusion', 'crack')), 0.1, str(out_file),
                                   'part.png')
    (panel,) = green_panels(read_rgb(out_file))
    assert panel.shape == (600, 600, 3)  # 200 px times 3
    assert is_green(panel[20 * 3:60 * 3, 150 * 3 - 2:150 * 3 + 3]).all()  # 0.05: not drawn
    assert not is_green(panel[10:590, 29:32]).any()  # the full-height box is drawn
    # both labels outside the boxes: the objects' pixels keep the image's colour
    assert is_green(panel[12:588, 44:286]).all()
