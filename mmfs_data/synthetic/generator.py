"""A synthetic MVTec-FS: labelme trees of the dataset's layout with painted defects whose
polygons are exactly those painted (:mod:`.defects`), deterministic per seed."""
import json
import os
import shutil
import uuid
import zlib
from dataclasses import dataclass, replace
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image
from tqdm import tqdm

from ..formats.mvtec_fs_layout import IMAGE_FOLDER, SPLIT_FOLDERS
from ..formats.mvtec_fs_table import ClassRow, load_table
from .defects import PALETTE, ClassStyle, class_shapes, draw_image

DEMO_CATEGORIES: Tuple[str, ...] = ('bottle', 'screw', 'wood')
DEMO_CLASSES_PER_CATEGORY = 3
DEMO_IMAGE_SIZE = 128
#: Per-class instances and per-category images of the demo set (a third of the images of each
#: split hold two instances).
DEMO_COUNTS = dict(train_instances=16, test_instances=8,
                   train_images_in_category=36, test_images_in_category=18)
#: Defect-free test images per category of the demo set (MVTec AD's ``good`` folders, labelme
#: files without shapes). The MVTec-FS shape has none: MVTec-FS annotates defect images only.
DEMO_GOOD_TEST_IMAGES = 6
GOOD_FOLDER = 'good'
MIN_IMAGE_SIZE = 32
COMBINED_FOLDER = 'combined'
#: Categories whose MVTec AD ``combined`` folder holds instances of real classes.
COMBINED_CATEGORIES: Tuple[str, ...] = ('cable', 'pill', 'wood', 'zipper')
#: (category, JSON label, folder, images): images whose first instance has the label but that
#: lie in another class's folder, as relabelled in MVTec-FS.
RELABELLED: Tuple[Tuple[str, str, str, int], ...] = (
    ('grid', 'bent', 'broken', 1), ('grid', 'broken', 'bent', 1),
    ('metal_nut', 'bent', 'scratch', 3), ('screw', 'scratch_neck', 'thread_side', 1),
    ('zipper', 'fabric_interior', 'broken_teeth', 1))

_PNG_COMPRESS_LEVEL = 1


@dataclass(frozen=True)
class _ImagePlan:
    """One image to generate: where it goes, its classes and the key of its random stream."""

    category: str
    split: str
    directory: str
    stem: str
    size: int
    labels: Tuple[int, ...]
    seed_key: Tuple[int, ...]


def target_table(like_mvtec_fs: bool = False, scale: float = 1.0) -> List[ClassRow]:
    """Return the Table 1 that :func:`generate_synthetic_mvtecfs` produces.

    Args:
        like_mvtec_fs (bool): The full MVTec-FS shape instead of the demo set.
        scale (float): Image side factor (sides are rounded).

    Returns:
        list[ClassRow]: The rows, in Table 1 order.
    """
    if not scale > 0:
        raise ValueError(f'scale must be positive, got {scale}')
    table = load_table()
    if like_mvtec_fs:
        rows = table
    else:
        rows = [replace(row, image_size=DEMO_IMAGE_SIZE, **DEMO_COUNTS)
                for category in DEMO_CATEGORIES
                for row in [r for r in table if r.category == category][:DEMO_CLASSES_PER_CATEGORY]]
    rows = [replace(row, image_size=int(round(row.image_size * scale))) for row in rows]
    smallest = min(row.image_size for row in rows)
    if smallest < MIN_IMAGE_SIZE:
        raise ValueError(f'scale {scale} gives {smallest} px images; at least {MIN_IMAGE_SIZE} '
                         f'px are needed')
    return rows


def distribute_instances(counts: Sequence[int], num_images: int,
                         rng: np.random.Generator) -> List[List[int]]:
    """Spread the instances of a category's classes over its images, each image >= 1: a share
    of the images per class first, the rest to the least-filled images (mostly of its class).

    Args:
        counts (Sequence[int]): Instances per class (each >= 1).
        num_images (int): Images of the category, between ``len(counts)`` and ``sum(counts)``.
        rng (np.random.Generator): The random generator.

    Returns:
        list[list[int]]: Per image, the class indices of its instances (the first one names the
        image's defect folder).
    """
    total = sum(counts)
    if min(counts) < 1 or not len(counts) <= num_images <= total:
        raise ValueError(f'cannot put instances {list(counts)} on {num_images} images with at '
                         f'least one instance each')
    shares = [min(count, max(1, int(num_images * count / total))) for count in counts]
    while sum(shares) != num_images:
        if sum(shares) < num_images:
            index = max(range(len(counts)), key=lambda i: (counts[i] - shares[i]) / counts[i])
            shares[index] += 1
        else:
            shares[max(range(len(counts)), key=lambda i: shares[i])] -= 1
    images = [[label] for label, share in enumerate(shares) for _ in range(share)]
    owners = np.array([labels[0] for labels in images])
    for label, (count, share) in enumerate(zip(counts, shares)):
        for _ in range(count - share):
            own = rng.random() < 0.75
            candidates = np.flatnonzero(owners == label) if own else np.arange(len(images))
            sizes = np.array([len(images[i]) for i in candidates])
            images[rng.choice(candidates[sizes == sizes.min()])].append(label)
    return images


def _assign_folders(category: str, defects: Sequence[str], images: Sequence[Sequence[int]],
                    quirks: bool, rng: np.random.Generator) -> List[str]:
    """Name the defect folder of every image: its first instance's class, or a quirk."""
    folders = [defects[labels[0]] for labels in images]
    if not quirks:
        return folders
    for quirk_category, label, folder, num in RELABELLED:
        if quirk_category == category and folder in defects:
            movable = [i for i, labels in enumerate(images)
                       if folders[i] == label and defects[labels[0]] == label]
            for i in rng.permutation(movable)[:num]:
                folders[i] = folder
    if category in COMBINED_CATEGORIES:
        mixed = [i for i, labels in enumerate(images) if len(set(labels)) > 1]
        chosen = rng.permutation(mixed or range(len(images)))[:max(1, len(images) // 8)]
        for i in chosen:
            folders[i] = COMBINED_FOLDER
    return folders


def _write_sample(directory: str, stem: str, image: Image.Image, shapes: List[dict]) -> None:
    """Write ``<stem>.png`` and its labelme 5.5 ``<stem>.json`` into a folder."""
    os.makedirs(directory, exist_ok=True)
    image.save(os.path.join(directory, f'{stem}.png'), compress_level=_PNG_COMPRESS_LEVEL)
    labelme = {'version': '5.5.0', 'flags': {}, 'shapes': shapes, 'imagePath': f'{stem}.png',
               'imageData': None, 'imageHeight': image.height, 'imageWidth': image.width}
    with open(os.path.join(directory, f'{stem}.json'), 'w', encoding='utf-8') as f:
        json.dump(labelme, f, indent=2, ensure_ascii=False)
        f.write('\n')


def _plan_images(rows: Sequence[ClassRow], image_root: str, quirks: bool,
                 seed: int) -> List[_ImagePlan]:
    """Lay out every image of the tree: categories, splits, folders, file numbers, classes."""
    plans = []
    for category in dict.fromkeys(row.category for row in rows):
        cat_rows = [row for row in rows if row.category == category]
        defects = [row.defect for row in cat_rows]
        numbers: Dict[str, int] = {}  # per defect folder: training takes the lower numbers
        for split_index, (split, split_folder) in enumerate(SPLIT_FOLDERS.items()):
            key = (seed, zlib.crc32(category.encode()), split_index)
            rng = np.random.default_rng(key)
            counts = [getattr(row, f'{split}_instances') for row in cat_rows]
            images = distribute_instances(
                counts, getattr(cat_rows[0], f'{split}_images_in_category'), rng)
            folders = _assign_folders(category, defects, images, quirks, rng)
            if split == 'test' and not quirks:  # the demo's defect-free parts (own streams)
                images = images + [[]] * DEMO_GOOD_TEST_IMAGES
                folders = folders + [GOOD_FOLDER] * DEMO_GOOD_TEST_IMAGES
            for index, (labels, folder) in enumerate(zip(images, folders)):
                number = numbers.get(folder, 0)
                numbers[folder] = number + 1
                plans.append(_ImagePlan(
                    category=category,
                    split=split,
                    directory=os.path.join(image_root, category, split_folder, folder),
                    stem=f'{number:03d}',
                    size=cat_rows[0].image_size,
                    labels=tuple(labels),
                    seed_key=key + (index, )))
    return plans


def _write_tree(rows: Sequence[ClassRow], image_root: str, quirks: bool, seed: int,
                progress: bool) -> Dict[str, int]:
    """Draw and write every image of the tree; return the counts written."""
    plans = _plan_images(rows, image_root, quirks, seed)
    styles = {}
    for category in dict.fromkeys(row.category for row in rows):
        defects = [row.defect for row in rows if row.category == category]
        styles[category] = (defects, [ClassStyle(shape, PALETTE[i])
                                      for i, shape in enumerate(class_shapes(defects))])
    summary = dict(categories=len(styles), classes=len(rows), train_images=0, test_images=0,
                   train_instances=0, test_instances=0, good_test_images=0)
    for plan in tqdm(plans, desc='synthetic MVTec-FS', unit='image', disable=not progress):
        image, shapes = draw_image(plan.category, plan.size, plan.labels,
                                    *styles[plan.category], np.random.default_rng(plan.seed_key))
        _write_sample(plan.directory, plan.stem, image, shapes)
        summary[f'{plan.split}_images' if plan.labels else 'good_test_images'] += 1
        summary[f'{plan.split}_instances'] += len(plan.labels)
    return summary


def generate_synthetic_mvtecfs(out_dir: str,
                               like_mvtec_fs: bool = False,
                               scale: float = 1.0,
                               seed: int = 0,
                               progress: bool = False) -> Dict[str, int]:
    """Generate a synthetic MVTec-FS tree under ``out_dir/image``, which appears whole or not at
    all (written in a staging folder, then renamed).

    Args:
        out_dir (str): The tree root; its ``image/`` folder must not exist or be empty.
        like_mvtec_fs (bool): Reproduce all of Table 1 (14 categories, 68 classes, exact
            counts and image sizes, folders named as in the real dataset, ``combined`` ones
            included). Defaults to False: the demo set, the first 3 classes of bottle, screw
            and wood, 128 px images, 16 training and 8 testing instances per class.
        scale (float): Image side factor; sides are rounded and must reach 32 px.
            Defaults to 1.0.
        seed (int): The seed (>= 0); the same seed gives byte-identical files. Defaults to 0.
        progress (bool): Show a progress bar. Defaults to False.

    Returns:
        dict[str, int]: Counts written: ``categories``, ``classes``, ``train_images``,
        ``test_images`` (images with defects), ``train_instances``, ``test_instances`` and
        ``good_test_images`` (defect-free test images in ``testing/good/``: 6 per category in
        the demo set, none with ``like_mvtec_fs``).

    Raises:
        FileExistsError: ``out_dir/image`` exists and is not empty.
        ValueError: ``scale`` gives images under 32 px, or ``seed`` is negative.
    """
    if seed < 0:
        raise ValueError(f'seed must be >= 0, got {seed}')
    rows = target_table(like_mvtec_fs, scale)
    image_root = os.path.join(out_dir, IMAGE_FOLDER)
    if os.path.isdir(image_root) and os.listdir(image_root):
        raise FileExistsError(f'{image_root}: exists and is not empty; choose a new folder')
    staging = os.path.join(out_dir, f'.{IMAGE_FOLDER}.{uuid.uuid4().hex}.tmp')
    os.makedirs(staging)
    try:
        summary = _write_tree(rows, staging, like_mvtec_fs, seed, progress)
        if os.path.isdir(image_root):
            os.rmdir(image_root)  # empty, checked above
        os.replace(staging, image_root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return summary
