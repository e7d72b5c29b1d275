"""PNG pictures (matplotlib's Agg canvas, no pyplot state) of annotated images and of predictions
beside the ground truth, base and novel classes in distinct hues. Images are drawn pixel for pixel
at :func:`~.layout.display_scale`, labels placed by :func:`~.layout.place_labels`."""
from typing import Any, Callable, Collection, List, Mapping, Optional, Sequence, Set, Tuple

import numpy as np
import pycocotools.mask as mask_util
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib import patheffects
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Rectangle

from .layout import LABEL_GAP_PX, Box, display_scale, place_labels, scale_image
from .style import DPI, as_numpy, class_colors, points, save_figure, split_of, text_color

#: Colour of ``__ignore__`` regions.
IGNORE_COLOR = '#ffffff'
#: Height of the label text, in pixels of the picture.
LABEL_FONT_PX = 13
#: Padding around a label's text, in pixels.
LABEL_PAD_PX = 2
#: Width of a predicted box's line, in points.
PRED_LINEWIDTH = 2.0
#: Gap between the two panels of a picture of predictions beside the ground truth, in pixels.
PANEL_GAP_PX = 24

#: The font of the labels.
_LABEL_FONT = FontProperties(size=points(LABEL_FONT_PX))
#: Font size of titles, captions and legends, in points.
_TEXT_PT = points(12)


class _Label:
    """A label to place: its box (pixels of the picture), text and background colour."""

    def __init__(self, box: Box, text: str, color: Tuple[float, ...]) -> None:
        self.box = box
        self.text = text
        self.color = color


def _label_size(renderer: RendererBase, text: str) -> Tuple[float, float]:
    """Width and height of a label's background, in pixels (the height of any text)."""
    width = renderer.get_text_width_height_descent(text, _LABEL_FONT, ismath=False)[0]
    height = renderer.get_text_width_height_descent('Ag', _LABEL_FONT, ismath=False)[1]
    return width + 2 * LABEL_PAD_PX, height + 2 * LABEL_PAD_PX


def _image_figure(image: np.ndarray,
                  num_panels: int) -> Tuple[Figure, List[Axes], RendererBase, float, float]:
    """A figure of panels side by side, each showing the scaled image pixel for pixel.

    Each panel's data coordinates are the picture's pixels: the scaled image spans
    ``[0, W] x [0, H]``, and a strip of ``margin`` pixels above and below it holds labels.

    Args:
        image (np.ndarray): (H, W, 3) RGB uint8 image, or (H, W) grey.
        num_panels (int): Number of panels, :data:`PANEL_GAP_PX` apart.

    Returns:
        tuple: The figure, its panels' axes, a renderer to measure text, the scale of the image
        (:func:`display_scale`) and the margin.
    """
    height, width = image.shape[:2]
    scale = display_scale(height, width)
    shown = scale_image(image, scale)
    shown_height, shown_width = shown.shape[:2]
    fig = Figure(dpi=DPI)
    renderer = FigureCanvasAgg(fig).get_renderer()
    margin = _label_size(renderer, '')[1] + LABEL_GAP_PX + 1
    fig_width = num_panels * shown_width + (num_panels - 1) * PANEL_GAP_PX
    fig_height = shown_height + 2 * margin
    fig.set_size_inches(fig_width / DPI, fig_height / DPI)
    axes = []
    for index in range(num_panels):
        ax = fig.add_axes((index * (shown_width + PANEL_GAP_PX) / fig_width, 0.0,
                           shown_width / fig_width, 1.0))
        ax.imshow(shown, extent=(0, shown_width, shown_height, 0), interpolation='nearest',
                  cmap='gray' if shown.ndim == 2 else None)
        ax.set_aspect('auto')
        ax.set_xlim(0, shown_width)
        ax.set_ylim(shown_height + margin, -margin)
        ax.set_axis_off()
        axes.append(ax)
    return fig, axes, renderer, scale, margin


def _draw_region(ax: Axes, mask: Any, bbox: Sequence[float], color: Any, linewidth: float,
                 linestyle: str, scale: float, hatch: Optional[str] = None) -> None:
    """Outline an instance region (with a black halo, visible on any defect colour): its
    polygons, its COCO RLE's or bitmap's contour, else its box; image coordinates times
    ``scale``."""
    halo = [patheffects.withStroke(linewidth=linewidth + 2, foreground='black')]
    if isinstance(mask, dict) or (isinstance(mask, np.ndarray) and mask.ndim == 2):
        if isinstance(mask, dict):
            rle = mask_util.frPyObjects(mask, *mask['size']) \
                if isinstance(mask.get('counts'), list) else mask
            bitmap = mask_util.decode(rle)
        else:
            bitmap = mask.astype(np.uint8)
        xs = (np.arange(bitmap.shape[1]) + 0.5) * scale
        ys = (np.arange(bitmap.shape[0]) + 0.5) * scale
        if not bitmap.any():
            return
        contour = ax.contour(xs, ys, bitmap, levels=[0.5], colors=[color],
                             linewidths=linewidth, linestyles=linestyle)
        contour.set_path_effects(halo)
        if hatch:
            ax.contourf(xs, ys, bitmap, levels=[0.5, 1.5], colors='none', hatches=[hatch])
        return
    x1, y1, x2, y2 = bbox
    parts = [np.asarray(part, dtype=np.float64).reshape(-1, 2) for part in mask or ()
             if len(part) >= 6] or [np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]])]
    for part in parts:
        ax.add_patch(Polygon(part * scale, closed=True, fill=False, edgecolor=color,
                             hatch=hatch, linewidth=linewidth, linestyle=linestyle,
                             path_effects=halo))


def _draw_labels(ax: Axes, labels: Sequence[_Label], renderer: RendererBase,
                 margin: float) -> None:
    """Draw labels where :func:`place_labels` puts them (the first placed first)."""
    width = ax.get_xlim()[1]
    height = ax.get_ylim()[0] - margin
    sizes = [_label_size(renderer, label.text) for label in labels]
    rects = place_labels([label.box for label in labels], sizes, width, height, margin)
    for label, (x1, y1, x2, y2) in zip(labels, rects):
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, facecolor=label.color,
                               edgecolor='none', alpha=0.85, zorder=4))
        ax.text(x1 + LABEL_PAD_PX, (y1 + y2) / 2, label.text, fontproperties=_LABEL_FONT,
                color=text_color(label.color), ha='left', va='center', zorder=5,
                parse_math=False)


def _draw_ground_truth(ax: Axes, instances: Sequence[dict], scale: float,
                       classes: Sequence[str], colors: Sequence[Tuple[float, ...]],
                       selected_keys: Optional[Collection[str]]
                       ) -> Tuple[List[_Label], List[int], Set[str]]:
    """Draw ground-truth instances (see :func:`draw_instances` for the styles).

    Returns:
        tuple[list[_Label], list[int], set[str]]: The labels to place, the labels (class
        indices) drawn, in order of appearance, and the styles used (``'selected'``,
        ``'unselected'`` (ignored), ``'unselected_kept'`` (trained as an object),
        ``'ignore'``).
    """
    texts: List[_Label] = []
    shown: List[int] = []
    styles: Set[str] = set()
    for instance in instances:
        label = int(instance['bbox_label'])
        x1, y1, x2, y2 = (float(value) * scale for value in instance['bbox'])
        if label < 0:
            _draw_region(ax, instance.get('mask'), instance['bbox'], IGNORE_COLOR, 1.0, '-',
                         scale, hatch='////')
            styles.add('ignore')
            continue
        color = colors[label]
        if label not in shown:
            shown.append(label)
        selected = selected_keys is not None and instance.get('instance_key') in selected_keys
        if selected_keys is None:
            linewidth, linestyle = (1.0, '--') if instance.get('ignore_flag') else (1.5, '-')
        else:
            linewidth, linestyle = (3.0, '-') if selected else (1.0, '--')
            # unselected='keep' trains an unselected instance as an object, 'ignore' does not
            styles.add('selected' if selected else 'unselected'
                       if instance.get('ignore_flag') else 'unselected_kept')
        _draw_region(ax, instance.get('mask'), instance['bbox'], color, linewidth, linestyle,
                     scale)
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=color,
                               linewidth=max(linewidth - 0.5, 0.5), linestyle=':'))
        texts.append(_Label((x1, y1, x2, y2), classes[label], color))
        if selected:
            ax.plot([(x1 + x2) / 2], [(y1 + y2) / 2], marker='*', markersize=16, color='yellow',
                    markeredgecolor='black')
    return texts, shown, styles


def _kept_predictions(predictions: Mapping[str, Any],
                      score_thr: float) -> List[Tuple[Box, float, int, Any]]:
    """The predictions with a score of at least ``score_thr``, highest score first, as
    ``(box, score, label, mask)`` (mask None without masks)."""
    bboxes = as_numpy(predictions['bboxes']).reshape(-1, 4).astype(np.float64)
    scores = as_numpy(predictions['scores']).reshape(-1).astype(np.float64)
    labels = as_numpy(predictions['labels']).reshape(-1).astype(np.int64)
    masks = predictions.get('masks')
    if masks is not None and not isinstance(masks, (list, tuple)):
        masks = as_numpy(masks)
    order = np.argsort(-scores, kind='stable')
    return [(tuple(bboxes[i].tolist()), float(scores[i]), int(labels[i]),
             None if masks is None else masks[i])
            for i in order.tolist() if scores[i] >= score_thr]


def _draw_predictions(ax: Axes, predictions: Mapping[str, Any], score_thr: float, scale: float,
                      classes: Sequence[str], colors: Sequence[Tuple[float, ...]]
                      ) -> Tuple[List[_Label], List[int]]:
    """Draw the predictions with a score of at least ``score_thr``: a box (and a mask's
    outline) in the class colour, the highest score on top.

    Returns:
        tuple[list[_Label], list[int]]: The labels to place (``name 0.87``, highest score
        first) and the labels (class indices) drawn.
    """
    kept = _kept_predictions(predictions, score_thr)
    halo = [patheffects.withStroke(linewidth=PRED_LINEWIDTH + 2, foreground='black')]
    texts: List[_Label] = []
    shown: List[int] = []
    for box, score, label, mask in reversed(kept):
        x1, y1, x2, y2 = (value * scale for value in box)
        color = colors[label]
        if mask is not None:
            _draw_region(ax, mask, box, color, 1.0, '-', scale)
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=color,
                               linewidth=PRED_LINEWIDTH, path_effects=halo))
        texts.insert(0, _Label((x1, y1, x2, y2), f'{classes[label]} {score:.2f}', color))
        if label not in shown:
            shown.insert(0, label)
    return texts, shown


def _legend(fig: Figure, shown: Sequence[int], styles: Collection[str], classes: Sequence[str],
            colors: Sequence[Tuple[float, ...]], novel_classes: Collection[str]) -> None:
    """A legend below the picture: the classes drawn (base or novel) and the styles used."""
    handles = [Patch(facecolor='none', edgecolor=colors[label], linewidth=2,
                     label=f'{classes[label]} ({split_of(classes[label], novel_classes)})')
               for label in sorted(set(shown))]
    if 'selected' in styles:
        handles.append(Line2D([], [], color='gray', marker='*', markersize=12, linewidth=3,
                              markerfacecolor='yellow', markeredgecolor='black',
                              label='k-shot selected'))
    if 'unselected' in styles:
        handles.append(Line2D([], [], color='gray', linestyle='--', linewidth=1,
                              label='not selected (ignored)'))
    if 'unselected_kept' in styles:
        handles.append(Line2D([], [], color='gray', linestyle='--', linewidth=1,
                              label='not selected (trained as an object)'))
    if 'ignore' in styles:
        handles.append(Patch(facecolor='lightgray', edgecolor='black', hatch='////',
                             label='__ignore__ region'))
    if handles:
        width = fig.get_figwidth() * DPI
        fig.legend(handles=handles, loc='upper center', bbox_to_anchor=(0.5, 0.0),
                   ncol=max(1, min(len(handles), int(width // 240))), fontsize=_TEXT_PT,
                   frameon=False)


def _one_panel(image: np.ndarray, title: str, classes: Sequence[str],
               colors: Sequence[Tuple[float, ...]], novel_classes: Collection[str],
               out_file: str, draw: Callable[[Axes, float], tuple]) -> None:
    """A picture of one image: ``draw(ax, scale)`` returns its labels, the labels shown and
    the legend's styles; the labels are placed, the legend drawn and the PNG written."""
    fig, (ax,), renderer, scale, margin = _image_figure(image, 1)
    ax.set_title(title, fontsize=_TEXT_PT)
    texts, shown, styles = draw(ax, scale)
    _draw_labels(ax, texts, renderer, margin)
    _legend(fig, shown, styles, classes, colors, novel_classes)
    save_figure(fig, out_file)


def draw_instances(image: np.ndarray,
                   instances: Sequence[dict],
                   classes: Sequence[str],
                   palette: Optional[Sequence[Sequence[int]]],
                   novel_classes: Collection[str],
                   out_file: str,
                   selected_keys: Optional[Collection[str]] = None,
                   title: str = '') -> None:
    """Draw an image with its instances (outline, box, class label) and a legend to a PNG.

    With ``selected_keys``, selected instances get a thick outline and a star, the others a thin
    dashed one; ``__ignore__`` regions (``bbox_label=-1``) are hatched.

    Args:
        image (np.ndarray): (H, W, 3) RGB uint8 image.
        instances (Sequence[dict]): ``data_list`` instances (``bbox``, ``bbox_label``,
            ``ignore_flag``, optional ``mask`` and ``instance_key``).
        classes (Sequence[str]): Class names by label.
        palette (Sequence[Sequence[int]], optional): RGB colour by label; None colours by
            split.
        novel_classes (Collection[str]): Names of the novel classes (tagged in the legend).
        out_file (str): The PNG to write.
        selected_keys (Collection[str], optional): Instance keys of the k-shot selection;
            None when every instance is used. Defaults to None.
        title (str): Figure title. Defaults to ''.
    """
    colors = class_colors(classes, palette, novel_classes)
    _one_panel(image, title, classes, colors, novel_classes, out_file,
               lambda ax, scale: _draw_ground_truth(ax, instances, scale, classes, colors,
                                                    selected_keys))


def draw_predictions(image: np.ndarray,
                     predictions: Mapping[str, Any],
                     classes: Sequence[str],
                     palette: Optional[Sequence[Sequence[int]]],
                     novel_classes: Collection[str],
                     out_file: str,
                     score_thr: float = 0.3,
                     title: str = '') -> None:
    """Draw an image with the predictions of a score of at least ``score_thr`` (box, mask
    outline where given, ``name 0.87`` label above the box), and a legend, to a PNG.

    Args:
        image (np.ndarray): (H, W, 3) RGB uint8 image.
        predictions (Mapping[str, Any]): ``bboxes`` (N, 4) x1y1x2y2 pixels of ``image``,
            ``scores`` (N,), ``labels`` (N,) (arrays or tensors) and optionally ``masks``:
            (N, H, W) bitmaps or N COCO RLEs (as ``tools/test.py --out`` dumps them).
        classes (Sequence[str]): Class names by label.
        palette (Sequence[Sequence[int]], optional): RGB colour by label; None colours by
            split.
        novel_classes (Collection[str]): Names of the novel classes (tagged in the legend).
        out_file (str): The PNG to write.
        score_thr (float): Least score of a drawn prediction. Defaults to 0.3.
        title (str): Figure title. Defaults to ''.
    """
    colors = class_colors(classes, palette, novel_classes)
    _one_panel(image, title, classes, colors, novel_classes, out_file,
               lambda ax, scale: _draw_predictions(ax, predictions, score_thr, scale, classes,
                                                   colors) + ((),))


def draw_predictions_beside_gt(image: np.ndarray,
                               gt_instances: Sequence[dict],
                               predictions: Mapping[str, Any],
                               classes: Sequence[str],
                               palette: Optional[Sequence[Sequence[int]]],
                               novel_classes: Collection[str],
                               out_file: str,
                               score_thr: float = 0.3,
                               title: str = '') -> None:
    """Draw an image twice, side by side, to a PNG: left its ground truth (as
    :func:`draw_instances`), right the predictions with a score of at least ``score_thr``
    (as :func:`draw_predictions`); a caption over each half, one legend below.

    Args:
        image (np.ndarray): (H, W, 3) RGB uint8 image.
        gt_instances (Sequence[dict]): ``data_list`` instances (``bbox``, ``bbox_label``,
            ``ignore_flag``, optional ``mask``).
        predictions (Mapping[str, Any]): ``bboxes``, ``scores``, ``labels`` and optionally
            ``masks``, as :func:`draw_predictions` takes them.
        classes (Sequence[str]): Class names by label.
        palette (Sequence[Sequence[int]], optional): RGB colour by label; None colours by
            split.
        novel_classes (Collection[str]): Names of the novel classes (tagged in the legend).
        out_file (str): The PNG to write.
        score_thr (float): Least score of a drawn prediction. Defaults to 0.3.
        title (str): Title over both halves (e.g. the image's name). Defaults to ''.
    """
    colors = class_colors(classes, palette, novel_classes)
    fig, (gt_ax, pred_ax), renderer, scale, margin = _image_figure(image, 2)
    gt_ax.set_title('ground truth', fontsize=_TEXT_PT, pad=points(4))
    pred_ax.set_title(f'predictions >= {score_thr:.2f}', fontsize=_TEXT_PT, pad=points(4))
    if title:
        fig.text(0.5, 1.0 + 26 / (fig.get_figheight() * DPI), title, ha='center', va='bottom',
                 fontsize=_TEXT_PT, parse_math=False)
    texts, gt_shown, styles = _draw_ground_truth(gt_ax, gt_instances, scale, classes, colors,
                                                 None)
    _draw_labels(gt_ax, texts, renderer, margin)
    texts, pred_shown = _draw_predictions(pred_ax, predictions, score_thr, scale, classes,
                                          colors)
    _draw_labels(pred_ax, texts, renderer, margin)
    _legend(fig, gt_shown + pred_shown, styles, classes, colors, novel_classes)
    save_figure(fig, out_file)


