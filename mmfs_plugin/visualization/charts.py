"""Charts of a test run: per-class AP bars and the confusion matrix between defect classes,
base and novel classes in their split colours (PNG, matplotlib's Agg canvas)."""
from typing import Collection, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .style import SPLIT_COLORS, save_figure, split_of


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
    save_figure(fig, out_file)


def plot_confusion_matrix(matrix: np.ndarray,
                          classes: Sequence[str],
                          novel_classes: Collection[str],
                          out_file: str,
                          title: str = 'Confusion matrix') -> None:
    """Draw a confusion matrix (rows GT class, columns predicted class + missed) to a PNG:
    cells coloured by the row fraction with the counts, class names coloured base/novel.

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
    save_figure(fig, out_file)
