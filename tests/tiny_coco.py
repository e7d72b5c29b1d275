"""A tiny generated COCO dataset and a tiny Faster R-CNN config for CPU tests.

``make_tiny_coco`` draws squares and discs on noise; ``write_tiny_config``
writes a config that inherits mmdet's Faster R-CNN and shrinks it (ResNet-18
without pretrained weights, 64-channel FPN, few proposals and RoIs, 64 px
images, an iteration-based loop that validates and checkpoints only at its
end), so a training iteration takes a fraction of a second on one CPU core.
"""
import json
from pathlib import Path
from typing import Sequence, Union

import numpy as np
from PIL import Image

CLASSES = ('square', 'disc')
ANN_FILE = 'annotations.json'
IMAGE_FOLDER = 'images'

PathLike = Union[str, Path]


def _draw(canvas: np.ndarray, label: int, box: Sequence[int],
          color: np.ndarray) -> None:
    """Paint a filled square (label 0) or disc (label 1) inside ``box``.

    Args:
        canvas (np.ndarray): An H x W x 3 image, changed in place.
        label (int): Index into :data:`CLASSES`.
        box (Sequence[int]): x1, y1, x2, y2 (exclusive).
        color (np.ndarray): An RGB colour.
    """
    x1, y1, x2, y2 = box
    if label == 0:
        canvas[y1:y2, x1:x2] = color
        return
    ys, xs = np.mgrid[y1:y2, x1:x2]
    radius = (x2 - x1) / 2
    inside = ((xs + 0.5 - (x1 + radius))**2 + (ys + 0.5 -
                                               (y1 + radius))**2) <= radius**2
    canvas[ys[inside], xs[inside]] = color


def make_tiny_coco(root: PathLike,
                   num_images: int = 4,
                   image_size: int = 64,
                   seed: int = 0) -> Path:
    """Write ``root/images/*.png`` and ``root/annotations.json``.

    Each image holds one square and one disc of 16 to 28 pixels at random,
    non-overlapping places (left and right halves).

    Args:
        root (PathLike): The dataset folder (created if missing).
        num_images (int): How many images. Defaults to 4.
        image_size (int): Width and height in pixels. Defaults to 64.
        seed (int): The random seed. Defaults to 0.

    Returns:
        Path: The annotation file.
    """
    root = Path(root)
    (root / IMAGE_FOLDER).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    half = image_size // 2
    images, annotations = [], []
    for image_id in range(1, num_images + 1):
        canvas = rng.integers(0, 60, (image_size, image_size, 3), np.uint8)
        for label in range(len(CLASSES)):
            side = int(rng.integers(16, min(28, half) + 1))
            x1 = label * half + int(rng.integers(0, half - side + 1))
            y1 = int(rng.integers(0, image_size - side + 1))
            box = (x1, y1, x1 + side, y1 + side)
            _draw(canvas, label, box, rng.integers(120, 256, 3, np.uint8))
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    image_id=image_id,
                    category_id=label + 1,
                    bbox=[x1, y1, side, side],
                    area=float(side * side),
                    iscrowd=0,
                    segmentation=[[
                        x1, y1, x1 + side, y1, x1 + side, y1 + side, x1,
                        y1 + side
                    ]]))
        file_name = f'{image_id:03d}.png'
        Image.fromarray(canvas).save(root / IMAGE_FOLDER / file_name)
        images.append(
            dict(
                id=image_id,
                file_name=file_name,
                width=image_size,
                height=image_size))
    categories = [
        dict(id=index + 1, name=name) for index, name in enumerate(CLASSES)
    ]
    ann_file = root / ANN_FILE
    ann_file.write_text(
        json.dumps(
            dict(
                images=images, annotations=annotations,
                categories=categories)))
    return ann_file


_CONFIG_TEMPLATE = """\
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'

data_root = {data_root!r}
metainfo = dict(classes={classes!r})
image_scale = ({image_size}, {image_size})

model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(
            in_channels=64, fc_out_channels=128, num_classes={num_classes})),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=64)),
        rpn_proposal=dict(nms_pre=200, max_per_img=100),
        rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(
        rpn=dict(nms_pre=100, max_per_img=50), rcnn=dict(max_per_img=20)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor')),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file={ann_file!r},
        data_prefix=dict(img={image_folder!r}),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file={ann_file!r},
        data_prefix=dict(img={image_folder!r}),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + '/' + {ann_file!r})
test_evaluator = val_evaluator

train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters={max_iters},
    val_interval={max_iters} + 1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end={max_iters}),
]
optim_wrapper = dict(optimizer=dict(lr=0.01))
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(by_epoch=False, interval={max_iters}))
log_processor = dict(by_epoch=False)
"""


def write_tiny_config(config_path: PathLike,
                      data_root: PathLike,
                      max_iters: int = 2,
                      image_size: int = 64) -> Path:
    """Write the tiny Faster R-CNN config for a :func:`make_tiny_coco`
    dataset.

    Train, validation and test share the dataset; training validates once
    and writes its only checkpoint, both at ``max_iters``.

    Args:
        config_path (PathLike): The ``.py`` file to write.
        data_root (PathLike): The dataset folder.
        max_iters (int): Training iterations. Defaults to 2.
        image_size (int): The resize scale. Defaults to 64.

    Returns:
        Path: The config file.
    """
    config_path = Path(config_path)
    config_path.write_text(
        _CONFIG_TEMPLATE.format(
            data_root=str(data_root),
            classes=CLASSES,
            num_classes=len(CLASSES),
            image_size=image_size,
            ann_file=ANN_FILE,
            image_folder=f'{IMAGE_FOLDER}/',
            max_iters=max_iters))
    return config_path
