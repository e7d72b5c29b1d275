"""Predictions as labelme 5.x files (one per image, ``imageData`` null) to review in labelme and
train on again: a mask's outlines become ``polygon`` shapes of one ``group_id``, a box a
``rectangle``; the score is kept in ``description`` as ``score=0.873``."""
import math
import os
import os.path as osp
import shutil
from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, Tuple

from ..errors import FieldError
from ..fileio import atomic_write, dump_json_atomic

#: The labelme version written to ``version`` (the 5.x file format).
LABELME_VERSION = '5.5.0'
#: Digits of the score kept in a shape's ``description``.
SCORE_DIGITS = 3

Point = Tuple[float, float]


@dataclass(frozen=True)
class LabelmePrediction:
    """One predicted instance.

    Args:
        label (str): The class name.
        score (float): The confidence, finite.
        box (tuple[float, float, float, float]): ``(x1, y1, x2, y2)`` in pixels of the
            original image, ``x1 < x2`` and ``y1 < y2``.
        polygons (Sequence[Sequence[tuple[float, float]]]): The outlines of the predicted
            mask, each of at least 3 ``(x, y)`` points in pixels; empty (default) when the
            model predicts no mask: the box is written as a rectangle.
    """
    label: str
    score: float
    box: Tuple[float, float, float, float]
    polygons: Sequence[Sequence[Point]] = ()


def _shape(label: str, points: Sequence[Point], group_id: Optional[int], score: float,
           shape_type: str) -> Dict[str, Any]:
    """One labelme 5.x shape."""
    return dict(label=label, points=[[float(x), float(y)] for x, y in points],
                group_id=group_id, description=f'score={score:.{SCORE_DIGITS}f}',
                shape_type=shape_type, flags={}, mask=None)


def predictions_to_labelme(predictions: Sequence[LabelmePrediction], image_path: str,
                           height: int, width: int) -> Dict[str, Any]:
    """Make the labelme 5.x content of one image's predictions.

    Args:
        predictions (Sequence[LabelmePrediction]): The instances, in the order of the shapes.
        image_path (str): The image, relative to the JSON file (e.g. its file name).
        height (int): The image height in pixels.
        width (int): The image width in pixels.

    Returns:
        dict: ``version``, ``flags``, ``shapes``, ``imagePath``, ``imageData`` (None),
        ``imageHeight``, ``imageWidth``; ready for :func:`write_labelme`.

    Raises:
        FieldError: ``'<image_path>: predictions[i].<field>: <reason>'`` for an empty label,
            a score that is not finite, a box without area or with non-finite coordinates,
            or a polygon of fewer than 3 points; ``'<image_path>: imageHeight: ...'`` for a
            size that is not a positive integer.
    """
    for name, value in (('imageHeight', height), ('imageWidth', width)):
        if type(value) is not int or value <= 0:
            raise FieldError(image_path, name, f'not a positive integer ({value!r})')
    shapes = []
    for index, prediction in enumerate(predictions):
        field = f'predictions[{index}]'
        if not isinstance(prediction.label, str) or not prediction.label:
            raise FieldError(image_path, f'{field}.label',
                             f'not a non-empty string ({prediction.label!r})')
        if not math.isfinite(prediction.score):
            raise FieldError(image_path, f'{field}.score', f'not finite ({prediction.score})')
        x1, y1, x2, y2 = prediction.box
        if not all(map(math.isfinite, prediction.box)) or x1 >= x2 or y1 >= y2:
            raise FieldError(image_path, f'{field}.box',
                             f'not a finite box with x1 < x2 and y1 < y2 ({prediction.box})')
        if not prediction.polygons:
            shapes.append(_shape(prediction.label, [(x1, y1), (x2, y2)], None,
                                 prediction.score, 'rectangle'))
            continue
        for part, polygon in enumerate(prediction.polygons):
            if len(polygon) < 3:
                raise FieldError(image_path, f'{field}.polygons[{part}]',
                                 f'fewer than 3 points ({len(polygon)})')
        # the outlines of one mask are one instance: labelme groups shapes by group_id
        group_id = index if len(prediction.polygons) > 1 else None
        shapes += [_shape(prediction.label, polygon, group_id, prediction.score, 'polygon')
                   for polygon in prediction.polygons]
    return dict(version=LABELME_VERSION, flags={}, shapes=shapes, imagePath=image_path,
                imageData=None, imageHeight=height, imageWidth=width)


def write_labelme(content: Dict[str, Any], json_path: str) -> None:
    """Write a labelme file atomically (its folder is made if needed).

    Args:
        content (dict): From :func:`predictions_to_labelme`.
        json_path (str): The JSON file; ``content['imagePath']`` is relative to its folder.
    """
    os.makedirs(osp.dirname(osp.abspath(json_path)), exist_ok=True)
    dump_json_atomic(content, json_path)


def place_image(src: str, dst: str) -> None:
    """Copy an image, byte for byte and atomically, to where its labelme file expects it.

    An image already at ``dst`` (the same file as ``src``) is kept.

    Args:
        src (str): The input image.
        dst (str): The copy, beside the JSON file; its folder is made if needed.

    Raises:
        OSError: If ``src`` cannot be read or ``dst`` written.
    """
    if osp.exists(dst) and osp.samefile(src, dst):
        return
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    with open(src, 'rb') as source, atomic_write(dst, mode='wb') as target:
        shutil.copyfileobj(source, target)
