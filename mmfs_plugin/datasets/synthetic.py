"""A synthetic MVTec-FS: labelme trees of the dataset's layout with drawn, traced defects.

Each image is a per-category background texture (a bottle-like radial gradient, metallic
stripes, wood grain, a woven pattern) with one or more defects painted on it. Every defect class
has its own shape (a broken-edge notch, a jagged crack, a smooth scratch, a round hole, a blotchy
stain, a spotty splash, a strip, a facetted spot) and its own colour within its category, and its
labelme polygon is exactly the polygon that was painted. Two shapes are produced:

- the demo set (default): ``bottle``, ``screw`` and ``wood`` with the first three classes of
  each in Table 1 order, 128 px images, 16 training and 8 testing instances per class, one or two
  instances per image; quick enough for tests and ``make demo``;
- ``like_mvtec_fs=True``: all of Table 1 with its exact instance and image counts and image
  sizes, defect folders named after the class except for a few relabelled instances and the
  ``combined`` folders of cable, pill, wood and zipper, as in the real dataset.

Generation is deterministic per seed. Pure: imports numpy and PIL, neither torch nor mmdet.
"""
import json
import os
import shutil
import uuid
import zlib
from dataclasses import dataclass, replace
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw
from tqdm import tqdm

from .mvtec_fs_layout import IMAGE_FOLDER, SPLIT_FOLDERS
from .mvtec_fs_table import ClassRow, load_table

DEMO_CATEGORIES: Tuple[str, ...] = ('bottle', 'screw', 'wood')
DEMO_CLASSES_PER_CATEGORY = 3
DEMO_IMAGE_SIZE = 128
#: Per-class instances and per-category images of the demo set (a third of the images of each
#: split hold two instances).
DEMO_COUNTS = dict(train_instances=16, test_instances=8,
                   train_images_in_category=36, test_images_in_category=18)
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

#: Category -> (background texture, base RGB colour).
BACKGROUNDS: Dict[str, Tuple[str, Tuple[int, int, int]]] = {
    'bottle': ('radial', (70, 70, 72)), 'cable': ('stripes', (60, 110, 70)),
    'capsule': ('radial', (190, 185, 175)), 'carpet': ('weave', (120, 105, 90)),
    'grid': ('weave', (95, 95, 95)), 'hazelnut': ('radial', (130, 85, 50)),
    'leather': ('grain', (105, 70, 45)), 'metal_nut': ('radial', (145, 145, 150)),
    'pill': ('radial', (205, 200, 195)), 'screw': ('stripes', (165, 165, 170)),
    'tile': ('weave', (150, 150, 140)), 'transistor': ('stripes', (45, 45, 50)),
    'wood': ('grain', (165, 115, 70)), 'zipper': ('stripes', (55, 55, 60)),
}
#: Defect colours, by the class's index in its category.
PALETTE: Tuple[Tuple[int, int, int], ...] = (
    (225, 35, 35), (35, 200, 60), (45, 80, 235), (245, 215, 30), (205, 45, 215),
    (30, 215, 225), (250, 135, 20), (250, 250, 250))
SHAPES: Tuple[str, ...] = ('notch', 'crack', 'scratch', 'hole', 'stain', 'splash', 'strip',
                           'facet')
#: (substring of the defect name, preferred shape); the first match wins.
SHAPE_HINTS: Tuple[Tuple[str, str], ...] = (
    ('hole', 'hole'), ('poke', 'hole'), ('crack', 'crack'), ('cut', 'crack'),
    ('scratch', 'scratch'), ('bent', 'scratch'), ('thread', 'scratch'), ('broken', 'notch'),
    ('missing', 'notch'), ('damaged', 'notch'), ('contamination', 'splash'),
    ('rough', 'splash'), ('color', 'stain'), ('liquid', 'stain'), ('oil', 'stain'),
    ('glue', 'stain'), ('print', 'strip'), ('stroke', 'strip'), ('fold', 'strip'))
_SIZE_RANGE = (0.16, 0.34)  # defect extent as a fraction of the image side
_PNG_COMPRESS_LEVEL = 1


@dataclass(frozen=True)
class _ClassStyle:
    """How one class is drawn: its shape and its colour."""

    shape: str
    colour: Tuple[int, int, int]


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


def class_shapes(defects: Sequence[str]) -> List[str]:
    """Give each defect class of a category its own shape.

    A class takes the shape its name hints at (:data:`SHAPE_HINTS`), or the next shape of
    :data:`SHAPES` not taken yet by an earlier class of the category.

    Args:
        defects (Sequence[str]): The category's defect classes, in Table 1 order (at most
            ``len(SHAPES)``).

    Returns:
        list[str]: One distinct shape per class.
    """
    if len(defects) > len(SHAPES):
        raise ValueError(f'at most {len(SHAPES)} classes per category, got {len(defects)}')
    taken: List[str] = []
    for defect in defects:
        hint = next((shape for key, shape in SHAPE_HINTS if key in defect), SHAPES[0])
        start = SHAPES.index(hint)
        taken.append(next(SHAPES[(start + i) % len(SHAPES)] for i in range(len(SHAPES))
                          if SHAPES[(start + i) % len(SHAPES)] not in taken))
    return taken


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
    """Spread the instances of a category's classes over its images, each image >= 1.

    Each class first gets its share of the images (at least one, at most one per instance),
    one instance each; the remaining instances go to the least-filled images, usually of their
    own class and sometimes of another class of the category.

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


def _background(category: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """Paint a category's background texture as a float32 (size, size, 3) RGB array."""
    texture, base = BACKGROUNDS[category]
    y, x = np.ogrid[0:1:size * 1j, 0:1:size * 1j]
    phase, angle = rng.uniform(0, 2 * np.pi, 2)
    freq = rng.uniform(6, 12)
    if texture == 'radial':
        cx, cy = rng.uniform(0.4, 0.6, 2)
        shade = 1.25 - 0.9 * np.hypot(x - cx, y - cy)
    elif texture == 'stripes':
        along = x * np.cos(angle) + y * np.sin(angle)
        shade = 0.9 + 0.12 * np.sin(2 * np.pi * freq * along + phase) + 0.1 * along
    elif texture == 'grain':
        shade = 0.85 + 0.15 * np.sin(2 * np.pi * freq * (y + 0.04 * np.sin(2 * np.pi * 3 * x
                                                                                 + phase)))
    else:  # weave
        shade = (0.88 + 0.07 * np.sin(2 * np.pi * 3 * freq * x + phase)
                 + 0.07 * np.sin(2 * np.pi * 3 * freq * y))
    return shade[..., None].astype(np.float32) * np.asarray(base, np.float32)


def _thicken(line: np.ndarray, half_width: np.ndarray) -> np.ndarray:
    """Turn a polyline (n, 2) into a closed polygon (2n, 2) of the given half widths."""
    tangent = np.gradient(line, axis=0)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    offset = normal * half_width[:, None]
    return np.concatenate([line + offset, (line - offset)[::-1]])


def _ring(radius: np.ndarray, start: float = 0.0, stop: float = 2 * np.pi,
          aspect: float = 1.0) -> np.ndarray:
    """Points at the given radii on evenly spaced angles in ``[start, stop)``."""
    angles = np.linspace(start, stop, len(radius), endpoint=stop - start < 2 * np.pi)
    return np.stack([radius * np.cos(angles), aspect * radius * np.sin(angles)], axis=1)


def _shape_outline(shape: str, extent: float, rng: np.random.Generator) -> np.ndarray:
    """Draw a shape's outline of about ``extent`` pixels, centred on the origin, unrotated."""
    half = extent / 2
    if shape == 'notch':  # a bite out of an edge: a jagged half disc
        n = int(rng.integers(16, 48))
        return _ring(half * rng.uniform(0.85, 1.0, n), 0.0, np.pi) - [0.0, half / 2]
    if shape == 'crack':  # a jagged, tapering line
        n = int(rng.integers(6, 13))
        line = np.stack([np.linspace(-half, half, n), rng.uniform(-0.08, 0.08, n) * extent], 1)
        return _thicken(line, extent * np.linspace(0.1, 0.04, n))
    if shape == 'scratch':  # a smooth arc of constant width
        n = int(rng.integers(16, 48))
        bend = rng.uniform(0.2, 0.6)
        t = np.linspace(-1.0, 1.0, n)
        return _thicken(np.stack([half * t, bend * half * (t ** 2 - 0.5)], 1),
                        np.full(n, extent * 0.07))
    if shape == 'hole':  # a round, slightly uneven ellipse
        n = int(rng.integers(24, 72))
        return _ring(half * rng.uniform(0.97, 1.0, n), aspect=rng.uniform(0.7, 1.0))
    if shape == 'stain':  # a blob with a wavy rim
        n = int(rng.integers(48, 180))
        angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
        wave = sum(rng.uniform(0, 0.12) * np.sin(k * angles + rng.uniform(0, 2 * np.pi))
                   for k in (2, 3, 5))
        return _ring(half * (0.8 + wave))
    if shape == 'splash':  # spiky spots
        spikes = int(rng.integers(7, 13))
        radius = np.tile([1.0, 0.45], spikes) * rng.uniform(0.75, 1.0, 2 * spikes)
        return _ring(half * radius)
    if shape == 'strip':  # a band with wavy long edges
        n = int(rng.integers(8, 30))
        t = np.linspace(-half, half, n)
        return _thicken(np.stack([t, np.zeros(n)], 1),
                        extent * (0.16 + rng.uniform(-0.02, 0.02, n)))
    if shape == 'facet':  # an irregular convex spot with 7 to 9 facets
        n = int(rng.integers(7, 10))
        return _ring(half * rng.uniform(0.8, 1.0, n))
    raise ValueError(f'unknown shape {shape!r}; expected one of {SHAPES}')


def _place(outline: np.ndarray, cell: Tuple[float, float, float],
           rng: np.random.Generator) -> np.ndarray:
    """Rotate an outline randomly and put it inside a square cell (x0, y0, side)."""
    angle = rng.uniform(0, 2 * np.pi)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    points = outline @ rotation.T
    points -= points.min(axis=0)
    x0, y0, side = cell
    room = 0.9 * side
    points *= min(1.0, room / points.max())
    return points + [x0, y0] + rng.uniform(0.05 * side, 0.05 * side + room - points.max(axis=0))


def _annotation_points(points: np.ndarray, size: int,
                       rng: np.random.Generator) -> List[List[float]]:
    """Clip a polygon to the image and round it to integers or to two decimals."""
    points = np.clip(points, 0, size - 1)
    if rng.random() < 0.5:
        rounded = np.rint(points).astype(int)
        keep = np.any(rounded != np.roll(rounded, 1, axis=0), axis=1)
        if keep.sum() >= 7:
            return rounded[keep].tolist()
    return np.round(points, 2).tolist()


def _draw_image(category: str, size: int, labels: Sequence[int], defects: Sequence[str],
                styles: Sequence[_ClassStyle],
                rng: np.random.Generator) -> Tuple[Image.Image, List[dict]]:
    """Paint one image and return it with its labelme shapes."""
    image = _background(category, size, rng)
    grid = int(np.ceil(np.sqrt(len(labels))))
    side = size / grid
    cells = rng.permutation(grid * grid)[:len(labels)]
    shapes = []
    for label, cell in zip(labels, cells):
        style = styles[label]
        outline = _shape_outline(style.shape, rng.uniform(*_SIZE_RANGE) * size, rng)
        points = _annotation_points(
            _place(outline, ((cell % grid) * side, (cell // grid) * side, side), rng), size, rng)
        mask = Image.new('L', (size, size))
        ImageDraw.Draw(mask).polygon([tuple(point) for point in points], fill=1)
        inside = np.asarray(mask, bool)
        colour = np.clip(np.asarray(style.colour) + rng.uniform(-12, 12, 3), 0, 255)
        image[inside] = 0.15 * image[inside] + 0.85 * colour.astype(np.float32)
        shapes.append(dict(label=defects[label], points=points, group_id=None, description='',
                           shape_type='polygon', flags={}, mask=None))
    image += rng.normal(0, 3, image.shape[:2])[..., None].astype(np.float32)
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)), shapes


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
        styles[category] = (defects, [_ClassStyle(shape, PALETTE[i])
                                      for i, shape in enumerate(class_shapes(defects))])
    summary = dict(categories=len(styles), classes=len(rows), train_images=0, test_images=0,
                   train_instances=0, test_instances=0)
    for plan in tqdm(plans, desc='synthetic MVTec-FS', unit='image', disable=not progress):
        image, shapes = _draw_image(plan.category, plan.size, plan.labels,
                                    *styles[plan.category], np.random.default_rng(plan.seed_key))
        _write_sample(plan.directory, plan.stem, image, shapes)
        summary[f'{plan.split}_images'] += 1
        summary[f'{plan.split}_instances'] += len(plan.labels)
    return summary


def generate_synthetic_mvtecfs(out_dir: str,
                               like_mvtec_fs: bool = False,
                               scale: float = 1.0,
                               seed: int = 0,
                               progress: bool = False) -> Dict[str, int]:
    """Generate a synthetic MVTec-FS tree under ``out_dir/image``.

    The tree is written into a hidden staging folder beside ``image/`` and renamed to
    ``image/`` when complete, so ``image/`` appears whole or not at all (one atomic rename
    instead of a synced write per file, which made the demo set ten times slower).

    Args:
        out_dir (str): The tree root; its ``image/`` folder must not exist or be empty.
        like_mvtec_fs (bool): Reproduce all of Table 1 (14 categories, 68 classes, exact
            counts and image sizes) instead of the small demo set. Defaults to False.
        scale (float): Image side factor; sides are rounded and must reach 32 px.
            Defaults to 1.0.
        seed (int): The seed (>= 0); the same seed gives byte-identical files. Defaults to 0.
        progress (bool): Show a progress bar. Defaults to False.

    Returns:
        dict[str, int]: Counts written: ``categories``, ``classes``, ``train_images``,
        ``test_images``, ``train_instances`` and ``test_instances``.

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
