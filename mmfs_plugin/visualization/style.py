"""What every picture of the package shares: colours of the class splits, the drawing
resolution, figure saving, and colour helpers (matplotlib's Agg canvas, no pyplot state)."""
import os
from typing import Any, Collection, List, Optional, Sequence, Tuple

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mmfs_data.fileio import atomic_write

#: Chart colours of the class splits (matplotlib's tab:blue and tab:red, the first hues of
#: the base and novel families of the dataset palette); the box colours too where no palette
#: is given.
SPLIT_COLORS = {'base': '#1f77b4', 'novel': '#d62728'}
#: Pictures of images are drawn at this many pixels per inch (1 pt = DPI / 72 pixels).
DPI = 100


def points(pixels: float) -> float:
    """Pixels of a picture drawn at :data:`DPI` as points (font sizes, line widths)."""
    return pixels * 72 / DPI


def save_figure(fig: Figure, out_file: str) -> None:
    """Render a figure to ``out_file`` (PNG) atomically, creating its folder."""
    folder = os.path.dirname(os.path.abspath(out_file))
    os.makedirs(folder, exist_ok=True)
    FigureCanvasAgg(fig)
    with atomic_write(out_file, 'wb') as f:
        fig.savefig(f, format='png', dpi=fig.dpi, bbox_inches='tight')


def rgb(color: Sequence[int]) -> Tuple[float, float, float]:
    """A 0-255 RGB triple as matplotlib's 0-1 floats."""
    return tuple(channel / 255 for channel in color[:3])


def text_color(color: Sequence[float]) -> str:
    """Black or white, whichever reads better on a 0-1 RGB background."""
    red, green, blue = color[:3]
    return 'black' if 0.299 * red + 0.587 * green + 0.114 * blue > 0.6 else 'white'


def as_numpy(value: Any) -> np.ndarray:
    """A tensor or array-like as a numpy array."""
    return value.detach().cpu().numpy() if hasattr(value, 'cpu') else np.asarray(value)


def split_of(name: str, novel_classes: Collection[str]) -> str:
    """``'novel'`` for a novel class, else ``'base'``."""
    return 'novel' if name in novel_classes else 'base'


def class_colors(classes: Sequence[str], palette: Optional[Sequence[Sequence[int]]],
                 novel_classes: Collection[str]) -> List[Tuple[float, ...]]:
    """The 0-1 RGB colour of each class: the palette's, or its split's without a palette.

    Args:
        classes (Sequence[str]): Class names by label.
        palette (Sequence[Sequence[int]], optional): 0-255 RGB colour by label (the dataset
            metainfo's ``palette``); None, or one shorter than ``classes``, colours by split
            (:data:`SPLIT_COLORS`).
        novel_classes (Collection[str]): Names of the novel classes.

    Returns:
        list[tuple[float, ...]]: One RGB triple per class.
    """
    if palette is not None and len(palette) >= len(classes):
        return [rgb(color) for color in palette[:len(classes)]]
    return [tuple(int(SPLIT_COLORS[split_of(name, novel_classes)][i:i + 2], 16) / 255
                  for i in (1, 3, 5)) for name in classes]
