"""Pictures (PNG, matplotlib's Agg canvas, no pyplot state): annotated images, per-class AP
bars and the confusion matrix between defect classes. Base and novel classes are told apart
everywhere: by the dataset palette (distinct hue families) on images, by split colour on
charts."""
import os
from typing import Collection, Optional, Sequence, Tuple

import numpy as np
import pycocotools.mask as mask_util
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib import patheffects
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Rectangle

from ..fileio import atomic_write

#: Chart colours of the class splits (matplotlib's tab:blue and tab:red, the first hues of
#: the base and novel families of the dataset palette).
SPLIT_COLORS = {'base': '#1f77b4', 'novel': '#d62728'}
#: Colour of ``__ignore__`` regions.
IGNORE_COLOR = '#ffffff'


def _save(fig: Figure, out_file: str) -> None:
    """Render a figure to ``out_file`` (PNG) atomically, creating its folder."""
    folder = os.path.dirname(os.path.abspath(out_file))
    os.makedirs(folder, exist_ok=True)
    FigureCanvasAgg(fig)
    with atomic_write(out_file, 'wb') as f:
        fig.savefig(f, format='png', dpi=fig.dpi, bbox_inches='tight')


def _rgb(color: Sequence[int]) -> Tuple[float, float, float]:
    """A 0-255 RGB triple as matplotlib's 0-1 floats."""
    return tuple(channel / 255 for channel in color[:3])


def _draw_region(ax: object, mask: object, bbox: Sequence[float], color: object,
                 linewidth: float, linestyle: str, hatch: Optional[str] = None) -> None:
    """Outline an instance region (with a black halo, visible on any defect colour): its
    polygons, its COCO RLE bitmap's contour, else its box."""
    halo = [patheffects.withStroke(linewidth=linewidth + 2, foreground='black')]
    if isinstance(mask, dict):
        rle = mask_util.frPyObjects(mask, *mask['size']) \
            if isinstance(mask.get('counts'), list) else mask
        bitmap = mask_util.decode(rle)
        contour = ax.contour(bitmap, levels=[0.5], colors=[color], linewidths=linewidth,
                             linestyles=linestyle)
        contour.set_path_effects(halo)
        if hatch:
            ax.contourf(bitmap, levels=[0.5, 1.5], colors='none', hatches=[hatch])
        return
    x1, y1, x2, y2 = bbox
    parts = [np.asarray(part, dtype=np.float64).reshape(-1, 2) for part in mask or ()
             if len(part) >= 6] or [np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]])]
    for part in parts:
        ax.add_patch(Polygon(part, closed=True, fill=False, edgecolor=color, hatch=hatch,
                             linewidth=linewidth, linestyle=linestyle, path_effects=halo))


def split_of(name: str, novel_classes: Collection[str]) -> str:
    """``'novel'`` for a novel class, else ``'base'``."""
    return 'novel' if name in novel_classes else 'base'


def draw_instances(image: np.ndarray,
                   instances: Sequence[dict],
                   classes: Sequence[str],
                   palette: Sequence[Sequence[int]],
                   novel_classes: Collection[str],
                   out_file: str,
                   selected_keys: Optional[Collection[str]] = None,
                   title: str = '') -> None:
    """Draw an image with its instances' outlines and boxes, and a legend, to a PNG.

    Styles: an instance outline and box in its class colour; with ``selected_keys`` (a k-shot
    selection), selected instances get a thick outline and a star, the others (unused for
    training, ``ignore_flag=1``) a thin dashed one; ``__ignore__`` regions
    (``bbox_label=-1``) are hatched.

    Args:
        image (np.ndarray): (H, W, 3) RGB uint8 image.
        instances (Sequence[dict]): ``data_list`` instances (``bbox``, ``bbox_label``,
            ``ignore_flag``, optional ``mask`` and ``instance_key``).
        classes (Sequence[str]): Class names by label.
        palette (Sequence[Sequence[int]]): RGB colour by label.
        novel_classes (Collection[str]): Names of the novel classes (tagged in the legend).
        out_file (str): The PNG to write.
        selected_keys (Collection[str], optional): Instance keys of the k-shot selection;
            None when every instance is used. Defaults to None.
        title (str): Figure title. Defaults to ''.
    """
    height, width = image.shape[:2]
    fig = Figure(figsize=(6.4, 6.4 * height / width + 0.6), dpi=100)
    ax = fig.add_subplot()
    ax.imshow(image)
    ax.set_axis_off()
    ax.set_title(title, fontsize=8)
    shown_labels = []
    styles = set()
    for instance in instances:
        label = int(instance['bbox_label'])
        x1, y1, x2, y2 = instance['bbox']
        if label < 0:
            _draw_region(ax, instance.get('mask'), instance['bbox'], IGNORE_COLOR, 1.0, '-',
                         hatch='////')
            styles.add('ignore')
            continue
        color = _rgb(palette[label])
        if label not in shown_labels:
            shown_labels.append(label)
        selected = selected_keys is not None and instance.get('instance_key') in selected_keys
        if selected_keys is None:
            linewidth, linestyle = (1.0, '--') if instance.get('ignore_flag') else (1.5, '-')
        else:
            linewidth, linestyle = (3.0, '-') if selected else (1.0, '--')
            styles.add('selected' if selected else 'unselected')
        _draw_region(ax, instance.get('mask'), instance['bbox'], color, linewidth, linestyle)
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=color,
                               linewidth=max(linewidth - 0.5, 0.5), linestyle=':'))
        ax.text(x1, y1, classes[label], fontsize=6, color='white', va='bottom',
                bbox=dict(facecolor=color, edgecolor='none', pad=1, alpha=0.8))
        if selected:
            ax.plot([(x1 + x2) / 2], [(y1 + y2) / 2], marker='*', markersize=16, color='yellow',
                    markeredgecolor='black')
    handles = [
        Patch(facecolor='none', edgecolor=_rgb(palette[label]), linewidth=2,
              label=f'{classes[label]} ({split_of(classes[label], novel_classes)})')
        for label in sorted(shown_labels)
    ]
    if 'selected' in styles:
        handles.append(Line2D([], [], color='gray', marker='*', markersize=12, linewidth=3,
                              markerfacecolor='yellow', markeredgecolor='black',
                              label='k-shot selected'))
    if 'unselected' in styles:
        handles.append(Line2D([], [], color='gray', linestyle='--', linewidth=1,
                              label='not selected (ignored)'))
    if 'ignore' in styles:
        handles.append(Patch(facecolor='lightgray', edgecolor='black', hatch='////',
                             label='__ignore__ region'))
    if handles:
        ax.legend(handles=handles, loc='upper left', bbox_to_anchor=(1.01, 1.0), fontsize=8,
                  frameon=False)
    _save(fig, out_file)


def plot_per_class_ap(classes: Sequence[str],
                      ap: np.ndarray,
                      novel_classes: Collection[str],
                      out_file: str,
                      title: str = 'Per-class AP') -> None:
    """Draw per-class AP (solid) and AP50 (hatched) bars, coloured base/novel, to a PNG.

    Args:
        classes (Sequence[str]): Class names by label.
        ap (np.ndarray): Shape (num_classes, 2): AP (IoU 0.50:0.95) and AP50, in [0, 1];
            ``nan`` for a class without ground truth (marked "no GT").
        novel_classes (Collection[str]): Names of the novel classes.
        out_file (str): The PNG to write.
        title (str): Figure title. Defaults to 'Per-class AP'.

    Raises:
        ValueError: ``ap`` is not (num_classes, 2).
    """
    ap = np.asarray(ap, dtype=np.float64)
    if ap.shape != (len(classes), 2):
        raise ValueError(f'ap: expected shape ({len(classes)}, 2), got {ap.shape}')
    fig = Figure(figsize=(7.5, 1.0 + 0.35 * len(classes)), dpi=100)
    ax = fig.add_subplot()
    rows = np.arange(len(classes))
    colors = [SPLIT_COLORS[split_of(name, novel_classes)] for name in classes]
    values = np.nan_to_num(ap, nan=0.0)
    ax.barh(rows - 0.2, values[:, 0], height=0.4, color=colors)
    ax.barh(rows + 0.2, values[:, 1], height=0.4, color=colors, alpha=0.45, hatch='//',
            edgecolor='black', linewidth=0.3)
    for row, (value, value50) in enumerate(ap):
        text = 'no GT' if np.isnan(value) else f'{value:.2f} / {value50:.2f}'
        ax.text(min(np.nan_to_num(max(value, value50)), 1.0) + 0.01, row, text,
                va='center', fontsize=7)
    ax.set_yticks(rows, labels=list(classes), fontsize=8)
    for tick, color in zip(ax.get_yticklabels(), colors):
        tick.set_color(color)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.15)
    ax.set_xlabel('AP (solid: IoU 0.50:0.95, hatched: IoU 0.50)')
    ax.set_title(title)
    ax.legend(handles=[Patch(color=SPLIT_COLORS['base'], label='base class'),
                       Patch(color=SPLIT_COLORS['novel'], label='novel class')],
              loc='lower right', fontsize=8)
    _save(fig, out_file)


def plot_confusion_matrix(matrix: np.ndarray,
                          classes: Sequence[str],
                          novel_classes: Collection[str],
                          out_file: str,
                          title: str = 'Confusion matrix') -> None:
    """Draw a confusion matrix (rows GT class, columns predicted class + missed) to a PNG.

    Cells are coloured by the row fraction and show the counts; class names are coloured
    base/novel.

    Args:
        matrix (np.ndarray): Shape (num_classes, num_classes + 1) counts, as
            :func:`~mmfs_plugin.visualization.confusion_matrix` returns.
        classes (Sequence[str]): Class names by label.
        novel_classes (Collection[str]): Names of the novel classes.
        out_file (str): The PNG to write.
        title (str): Figure title. Defaults to 'Confusion matrix'.

    Raises:
        ValueError: ``matrix`` is not (num_classes, num_classes + 1).
    """
    matrix = np.asarray(matrix)
    num_classes = len(classes)
    if matrix.shape != (num_classes, num_classes + 1):
        raise ValueError(f'matrix: expected shape ({num_classes}, {num_classes + 1}), '
                         f'got {matrix.shape}')
    totals = matrix.sum(axis=1, keepdims=True)
    fractions = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    side = 1.5 + 0.55 * (num_classes + 1)
    fig = Figure(figsize=(side + 1.5, side), dpi=100)
    ax = fig.add_subplot()
    image = ax.imshow(fractions, cmap='Blues', vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label='fraction of the GT row')
    for (row, column), count in np.ndenumerate(matrix):
        if count:
            ax.text(column, row, str(count), ha='center', va='center', fontsize=7,
                    color='white' if fractions[row, column] > 0.5 else 'black')
    colors = [SPLIT_COLORS[split_of(name, novel_classes)] for name in classes]
    ax.set_xticks(np.arange(num_classes + 1), labels=list(classes) + ['missed'], rotation=60,
                  ha='right', fontsize=8)
    ax.set_yticks(np.arange(num_classes), labels=list(classes), fontsize=8)
    for ticks in (ax.get_xticklabels(), ax.get_yticklabels()):
        for tick, color in zip(ticks, colors):
            tick.set_color(color)
    ax.axvline(num_classes - 0.5, color='gray', linewidth=1)
    ax.set_xlabel('predicted class (blue: base, red: novel)')
    ax.set_ylabel('ground-truth class')
    ax.set_title(title)
    _save(fig, out_file)
