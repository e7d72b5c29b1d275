"""Write small MVTec-FS-layout labelme trees for tests."""
import json
import os
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image

# (category, data folder, defect folder, file stem) -> list of (label, polygon points)
TreeSpec = Dict[Tuple[str, str, str, str], List[Tuple[str, Sequence[Sequence[float]]]]]


def square(x: float, y: float, side: float) -> List[List[float]]:
    """A square polygon with its top-left corner at (x, y)."""
    return [[x, y], [x + side, y], [x + side, y + side], [x, y + side]]


def write_tree(root: str, spec: TreeSpec, size: int = 64) -> None:
    """Write one PNG and one labelme JSON per entry of ``spec`` under ``root/image``."""
    for (category, split_folder, defect, stem), shapes in spec.items():
        write_tree_file(os.path.join(root, 'image', category, split_folder, defect), stem,
                        shapes, size)


def small_tree_spec() -> TreeSpec:
    """Two categories, four classes; 'bottle' has several instances per image."""
    spec: TreeSpec = {}
    for i in range(6):
        spec[('bottle', 'training', 'broken_large', f'{i:03d}')] = [
            ('broken_large', square(4, 4, 10 + i)), ('broken_small', square(40, 40, 8))]
        spec[('screw', 'training', 'scratch_head', f'{i:03d}')] = [
            ('scratch_head', square(10, 10, 20))]
    for i in range(2):
        spec[('screw', 'training', 'thread_side', f'{i:03d}')] = [
            ('thread_side', square(30, 5, 12))]
        spec[('bottle', 'testing', 'broken_large', f'{10 + i:03d}')] = [
            ('broken_large', square(4, 4, 20))]
        spec[('screw', 'testing', 'scratch_head', f'{10 + i:03d}')] = [
            ('scratch_head', square(4, 4, 20)), ('__ignore__', square(40, 40, 10))]
    return spec


def write_flat_tree(root: str, classes: Sequence[str], images_per_class: int = 3,
                    size: int = 64) -> None:
    """Write a flat folder of labelme files, ``images_per_class`` images per class, each with
    one instance of its class and one of the next class."""
    for index, name in enumerate(classes):
        other = classes[(index + 1) % len(classes)]
        for i in range(images_per_class):
            write_tree_file(root, f'{index:02d}_{i:02d}',
                            [(name, square(4 + i, 4, 14)), (other, square(30, 30 + i, 12))],
                            size)


def write_tree_file(folder: str, stem: str, shapes, size: int = 64) -> None:
    """Write ``<folder>/<stem>.png`` and its labelme JSON."""
    os.makedirs(folder, exist_ok=True)
    Image.fromarray(np.full((size, size, 3), 128, np.uint8)).save(
        os.path.join(folder, f'{stem}.png'))
    doc = dict(version='5.5.0', flags={}, imagePath=f'{stem}.png', imageData=None,
               imageHeight=size, imageWidth=size,
               shapes=[dict(label=label, points=[list(p) for p in points], group_id=None,
                            description='', shape_type='polygon', flags={}, mask=None)
                       for label, points in shapes])
    with open(os.path.join(folder, f'{stem}.json'), 'w') as f:
        json.dump(doc, f)
