"""Detect objects in images and write labelme files: predictions to review, correct in labelme
and train on again (pre-annotation)::

    python tools/misc/infer.py CONFIG CHECKPOINT INPUT [--out-dir DIR] [--score-thr T] \\
        [--device cuda:0] [--skip-bad]

``INPUT`` is an image file, a folder (every image under it, sub-folders included) or a glob
pattern (quoted; ``**`` matches sub-folders). Each image's name ``NAME`` below is its path
relative to the folder (for a glob: the folder part before the first wildcard; for one image:
its file name). Under ``DIR`` (default ``work_dirs/infer``):

- ``DIR/labelme/NAME``: the image, copied byte for byte (kept when it is already there);
- ``DIR/labelme/NAME`` with ``.json``: its labelme 5.x file, beside it (``imagePath`` is the
  image's file name, ``imageData`` null): a ``rectangle`` per predicted box, or ``polygon``
  outlines where the model predicts masks; the label is the class name and the shape's
  ``description`` the score (``score=0.873``); only predictions with a score above ``T``;
- ``DIR/vis/NAME`` with ``.png``: the picture with those predictions drawn: boxes (and mask
  outlines) in the class colours, base and novel classes in distinct hue families where the
  checkpoint has the dataset's palette, each labelled ``NAME SCORE`` (``crack 0.87``) above its
  box where there is room, else below; a small image is upscaled first (nearest neighbour, so
  that its shorter side is at least 512 pixels), so that labels fit beside the defects
  (:func:`~mmfs_plugin.visualization.draw_predictions`).

Why a copy: labelme finds a file's image by ``imagePath`` relative to the JSON, so
``DIR/labelme`` is a complete labelme folder: open it in labelme (Open Dir) to correct the
shapes, then train on it (``LabelmeDataset`` with ``data_root='DIR/labelme'``). Files of the same
names there are replaced.

Inference is mmdet's :class:`~mmdet.apis.DetInferencer` (the config's test pipeline, one image at
a time, a progress bar over the images). The class names and their number come from the
checkpoint (``meta.dataset_meta``, which mmengine's Runner saves): the RoI box heads of
``CONFIG`` get that ``num_classes``, so a few-shot config works as well as the config a training
run dumps into its work dir.

Every image is decoded first (as ``LoadImageFromFile`` decodes it): one that cannot be stops the
run before any inference, with an error naming the file (exit status 1); with ``--skip-bad`` it
is skipped and listed in the summary printed at the end. A predicted box without area (after
clipping to the image) is left out and counted, since labelme files cannot hold one.
"""
import argparse
import glob
import os
import os.path as osp
import sys
from itertools import takewhile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import mmcv
import numpy as np
from mmdet.apis import DetInferencer
from mmdet.apis.det_inferencer import IMG_EXTENSIONS
from mmengine.config import Config
from mmengine.runner import CheckpointLoader
from tqdm import tqdm

import mmfs_plugin  # noqa: F401  (registers the plugin, installs the fixes)
from mmfs_plugin.engine.fewshot_runner import set_num_classes
from mmfs_plugin.models.retentive_tfa import base_detector_config
from mmfs_data.errors import FieldError
from mmfs_data.formats.labelme_writer import (LabelmePrediction, place_image,
                                                predictions_to_labelme, write_labelme)
from mmfs_plugin.visualization import draw_predictions

#: Characters that make a path a glob pattern.
GLOB_MAGIC = frozenset('*?[')
#: How many skipped images the summary lists.
MAX_LISTED = 20


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        argparse.Namespace: The arguments.
    """
    parser = argparse.ArgumentParser(
        description='Detect objects in images; write labelme files (and pictures) of the '
        'predictions, to review and correct in labelme and train on again.')
    parser.add_argument('config', help='the model config (a training config, or the one a '
                        'training run dumped into its work dir)')
    parser.add_argument('checkpoint', help='the checkpoint (with meta.dataset_meta.classes)')
    parser.add_argument('input', help='an image, a folder (searched recursively) or a quoted '
                        'glob pattern')
    parser.add_argument('--out-dir', default=osp.join('work_dirs', 'infer'),
                        help='labelme files and image copies go to OUT_DIR/labelme, pictures '
                        'to OUT_DIR/vis (default: work_dirs/infer)')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='keep predictions with a score above this (default: 0.3)')
    parser.add_argument('--device', help='e.g. cuda:0 or cpu (default: cuda if available)')
    parser.add_argument('--skip-bad', action='store_true',
                        help='skip unreadable images and list them at the end, instead of '
                        'stopping at the first one')
    return parser.parse_args(argv)


def list_images(spec: str, out_dir: str) -> List[Tuple[str, str]]:
    """The images of ``INPUT`` and their names relative to the output folder.

    Args:
        spec (str): An image file, a folder (searched recursively) or a glob pattern.
        out_dir (str): The output folder; images under it are not inputs (a rerun into a
            folder inside ``spec`` does not read its own outputs).

    Returns:
        list[tuple[str, str]]: ``(path, name)`` sorted by path; ``name`` is the path relative
        to the folder, the glob's folder part before its first wildcard, or the file name.

    Raises:
        FileNotFoundError: If ``spec`` is no file or folder and no pattern, or holds no image.
        ValueError: If two images would write the same labelme file (same name but the
            suffix).
    """
    if osp.isfile(spec):
        return [(spec, osp.basename(spec))]
    if osp.isdir(spec):
        base = spec
        paths = [osp.join(folder, name) for folder, _, names in os.walk(spec) for name in names]
    elif GLOB_MAGIC & set(spec):
        base = str(Path(*takewhile(lambda part: not GLOB_MAGIC & set(part), Path(spec).parts)))
        paths = glob.glob(spec, recursive=True)
    else:
        raise FileNotFoundError(f'{spec}: INPUT: no such image file or folder')
    out_dir = osp.abspath(out_dir)
    images = sorted(path for path in paths
                    if path.lower().endswith(IMG_EXTENSIONS) and osp.isfile(path)
                    and osp.commonpath([osp.abspath(path), out_dir]) != out_dir)
    if not images:
        raise FileNotFoundError(f'{spec}: INPUT: no images ({" ".join(IMG_EXTENSIONS)})')
    named = [(path, osp.relpath(path, base)) for path in images]
    by_stem: Dict[str, str] = {}
    for path, name in named:
        other = by_stem.setdefault(osp.splitext(name)[0], path)
        if other != path:
            raise ValueError(f'{spec}: INPUT: {other} and {path} would write the same '
                             'labelme file; infer them separately')
    return named


def checkpoint_dataset_meta(checkpoint: str) -> Dict[str, Any]:
    """The ``meta.dataset_meta`` of a checkpoint: its class names (and palette).

    Args:
        checkpoint (str): The checkpoint file (or URL mmengine can load).

    Returns:
        dict: At least a non-empty ``classes``; ``num_base_classes`` for a ``RetentiveTFA``
        checkpoint.

    Raises:
        FieldError: If the checkpoint does not name its classes.
    """
    loaded = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    dataset_meta = dict((loaded.get('meta') or {}).get('dataset_meta') or {})
    if not dataset_meta.get('classes'):
        raise FieldError(checkpoint, 'meta.dataset_meta.classes',
                         'missing or empty: the labels of the labelme shapes are the class '
                         "names the checkpoint was trained with (mmengine's Runner saves them)")
    base_labels = (loaded.get('state_dict') or {}).get('base_labels')
    if base_labels is not None:  # RetentiveTFA: the size of its base branch's label space
        dataset_meta['num_base_classes'] = base_labels.numel()
    return dataset_meta


def mask_polygons(mask: np.ndarray) -> List[List[Tuple[float, float]]]:
    """The outer outlines of a binary mask, as labelme polygons.

    Holes are left out: a labelme polygon is a filled region. (mmdet's ``bitmap_to_polygon``
    returns the holes' outlines too.)

    Args:
        mask (np.ndarray): ``(H, W)`` bool or 0/1 array.

    Returns:
        list[list[tuple[float, float]]]: One polygon per connected region with at least 3
        vertices (pixel coordinates of its boundary pixels, ``x`` then ``y``); regions thinner
        than that are left out.
    """
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    return [[(float(x), float(y)) for x, y in contour.reshape(-1, 2)]
            for contour in contours if len(contour) >= 3]


def to_predictions(instances: Any, classes: Sequence[str],
                   score_thr: float) -> Tuple[List[LabelmePrediction], int]:
    """Turn mmdet's predicted instances into writer input.

    Args:
        instances (InstanceData): ``pred_instances`` of a ``DetDataSample``: ``bboxes``
            ``(N, 4)`` x1y1x2y2 pixels of the original image, ``scores`` ``(N,)``, ``labels``
            ``(N,)`` and, for mask models, ``masks`` ``(N, H, W)``.
        classes (Sequence[str]): The class names, by label.
        score_thr (float): Keep the instances with a score above this.

    Returns:
        tuple[list[LabelmePrediction], int]: The kept instances, and how many of them were
        left out for a box without area.
    """
    instances = instances[instances.scores > score_thr]
    boxes = instances.bboxes.cpu().numpy().tolist()
    masks = instances.masks.cpu().numpy() if 'masks' in instances else None
    predictions = []
    for index, (box, score, label) in enumerate(
            zip(boxes, instances.scores.tolist(), instances.labels.tolist())):
        if box[0] >= box[2] or box[1] >= box[3]:
            continue
        polygons = mask_polygons(masks[index]) if masks is not None else []
        predictions.append(LabelmePrediction(classes[label], score, tuple(box), polygons))
    return predictions, len(boxes) - len(predictions)


def write_picture(path: str, instances: Any, dataset_meta: Dict[str, Any], score_thr: float,
                  out_file: str, title: str) -> None:
    """Draw an image's predictions above ``score_thr`` to a PNG (its folder made if needed).

    Args:
        path (str): The image file.
        instances (InstanceData): Its ``pred_instances`` (``bboxes``, ``scores``, ``labels``,
            optional ``masks``).
        dataset_meta (dict): The checkpoint's ``dataset_meta``: ``classes``, and ``palette``
            and ``novel_classes`` where it has them.
        score_thr (float): Draw the predictions with a score above this.
        out_file (str): The PNG to write.
        title (str): The picture's title.
    """
    instances = instances[instances.scores > score_thr]
    predictions = dict(bboxes=instances.bboxes, scores=instances.scores,
                       labels=instances.labels)
    if 'masks' in instances:
        predictions['masks'] = instances.masks
    draw_predictions(mmcv.imread(path, channel_order='rgb'), predictions,
                     classes=dataset_meta['classes'], palette=dataset_meta.get('palette'),
                     novel_classes=dataset_meta.get('novel_classes') or (), out_file=out_file,
                     score_thr=float('-inf'), title=title)


def readable(path: str) -> bool:
    """Whether an image file decodes as ``LoadImageFromFile`` decodes it (mmcv, cv2)."""
    try:
        return mmcv.imread(path) is not None
    except (OSError, cv2.error):  # cv2.error: an empty file
        return False


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Detect on every image of INPUT and write the labelme files and pictures.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        int: The exit status: 0, or 1 for bad input (an unreadable image without
        ``--skip-bad``, no images, a checkpoint without class names).
    """
    args = parse_args(argv)
    try:
        images = list_images(args.input, args.out_dir)
        unreadable = [path for path, _ in tqdm(images, desc='check', unit='image')
                      if not readable(path)]
        if unreadable and not args.skip_bad:
            raise ValueError(f'{unreadable[0]}: not a readable image ({len(unreadable)} of '
                             f'{len(images)} images unreadable; --skip-bad skips them)')
        dataset_meta = checkpoint_dataset_meta(args.checkpoint)
    except (OSError, ValueError) as error:
        print(f'infer: error: {error}', file=sys.stderr)
        return 1
    classes = dataset_meta['classes']
    cfg = Config.fromfile(args.config)
    set_num_classes(cfg.model, len(classes))  # the checkpoint's, whatever the config says
    if 'num_base_classes' in dataset_meta:  # RetentiveTFA's base branch, as saved
        base_detector = cfg.model.base_detector = base_detector_config(cfg.model.base_detector)
        set_num_classes(base_detector, dataset_meta['num_base_classes'])
    inferencer = DetInferencer(cfg, args.checkpoint, device=args.device,
                               palette=dataset_meta.get('palette') or 'random',
                               show_progress=False)
    labelme_dir, vis_dir = osp.join(args.out_dir, 'labelme'), osp.join(args.out_dir, 'vis')
    num_shapes = num_empty_boxes = 0
    skipped = set(unreadable)
    readable_images = [(path, name) for path, name in images if path not in skipped]
    for path, name in tqdm(readable_images, desc='infer', unit='image'):
        result = inferencer(path, return_datasamples=True, no_save_vis=True)
        sample = result['predictions'][0]
        predictions, empty = to_predictions(sample.pred_instances, classes, args.score_thr)
        height, width = sample.metainfo['ori_shape']
        stem = osp.splitext(name)[0]
        place_image(path, osp.join(labelme_dir, name))
        content = predictions_to_labelme(predictions, osp.basename(name), height, width)
        write_labelme(content, osp.join(labelme_dir, f'{stem}.json'))
        write_picture(path, sample.pred_instances, dataset_meta, args.score_thr,
                      osp.join(vis_dir, f'{stem}.png'), f'{name}: score > {args.score_thr:g}')
        num_shapes += len(content['shapes'])
        num_empty_boxes += empty
    print(f'infer: {len(readable_images)} images, {num_shapes} shapes (score > '
          f'{args.score_thr}) in {labelme_dir}; pictures in {vis_dir}')
    if num_empty_boxes:
        print(f'infer: {num_empty_boxes} predicted boxes without area left out')
    if unreadable:
        print(f'infer: {len(unreadable)} unreadable images skipped:')
        print('\n'.join(f'  {path}' for path in unreadable[:MAX_LISTED]))
        if len(unreadable) > MAX_LISTED:
            print(f'  ... and {len(unreadable) - MAX_LISTED} more')
    return 0


if __name__ == '__main__':
    sys.exit(main())
