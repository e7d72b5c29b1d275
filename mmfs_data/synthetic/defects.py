"""How the synthetic MVTec-FS defects look: per-category textures, and per class its own shape
(:func:`class_shapes`) and colour; :func:`draw_image` returns exactly the polygons it paints."""
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

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


@dataclass(frozen=True)
class ClassStyle:
    """How one class is drawn: its shape and its colour."""

    shape: str
    colour: Tuple[int, int, int]


def class_shapes(defects: Sequence[str]) -> List[str]:
    """Give each defect class of a category its own shape: the one its name hints at
    (:data:`SHAPE_HINTS`), else the next of :data:`SHAPES` not taken in the category.

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


def draw_image(category: str, size: int, labels: Sequence[int], defects: Sequence[str],
               styles: Sequence[ClassStyle],
               rng: np.random.Generator) -> Tuple[Image.Image, List[dict]]:
    """Paint one square image of a category with defects on it.

    Args:
        category (str): The category (its background texture, :data:`BACKGROUNDS`).
        size (int): The image side in pixels.
        labels (Sequence[int]): The class index of each defect to paint.
        defects (Sequence[str]): The category's defect classes (the labelme labels).
        styles (Sequence[ClassStyle]): How each class of the category is drawn.
        rng (np.random.Generator): The image's random stream.

    Returns:
        tuple[Image.Image, list[dict]]: The RGB image and its labelme shapes (polygons).
    """
    image = _background(category, size, rng)
    grid = max(1, int(np.ceil(np.sqrt(len(labels)))))  # no label: a defect-free part
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
