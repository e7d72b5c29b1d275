"""Generate small COCO and Pascal VOC datasets (images and annotations) for tests."""
import json
import os
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image

#: Six classes; the last two are novel in the tests.
CLASSES = ('dent', 'scratch', 'stain', 'chip', 'crack', 'hole')
NOVEL = ['crack', 'hole']
SIZE = 64


def layout(num_images: int, seed: int,
           classes: Sequence[str] = CLASSES) -> List[List[Tuple[int, List[float]]]]:
    """Per image, its objects as ``(class index, [x1, y1, x2, y2])`` (VOC-style pixels).

    Every class appears in ``num_images // 2`` images, one to three times; ``hole`` is rarer
    (one instance per 8 images), so k-shot draws run out of it.
    """
    rng = np.random.default_rng(seed)
    images: List[List[Tuple[int, List[float]]]] = [[] for _ in range(num_images)]
    for label, _ in enumerate(classes):
        holders = rng.choice(num_images, size=max(1, num_images // 2), replace=False)
        if classes[label] == 'hole':
            holders = holders[:max(1, num_images // 8)]
        for image in holders:
            for _ in range(1 if classes[label] == 'hole' else int(rng.integers(1, 4))):
                x, y = (int(v) for v in rng.integers(2, SIZE - 22, size=2))
                w, h = (int(v) for v in rng.integers(6, 20, size=2))
                images[image].append((label, [x, y, x + w, y + h]))
    return images


def _write_image(path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.full((SIZE, SIZE, 3), 100, np.uint8)).save(path)


def write_coco(root: str, name: str, num_images: int, seed: int, crowd_every: int = 0,
               classes: Sequence[str] = CLASSES) -> Dict:
    """Write ``<root>/images/<name>_<i>.jpg`` and ``<root>/<name>.json`` (COCO, ids from 1;
    category ids 11..16, not 0..5, as real exports have them).

    Args:
        crowd_every (int): Mark every n-th annotation ``iscrowd=1`` (0: none; never a hole).

    Returns:
        dict: The COCO dataset written.
    """
    images, annotations = [], []
    for index, objects in enumerate(layout(num_images, seed, classes)):
        file_name = f'{name}_{index}.jpg'
        _write_image(os.path.join(root, 'images', file_name))
        images.append(dict(id=index + 1, file_name=file_name, height=SIZE, width=SIZE))
        for label, (x1, y1, x2, y2) in objects:
            ann_id = len(annotations) + 1
            annotations.append(dict(
                id=ann_id, image_id=index + 1, category_id=11 + label,
                bbox=[x1, y1, x2 - x1, y2 - y1], area=(x2 - x1) * (y2 - y1),
                iscrowd=int(bool(crowd_every) and ann_id % crowd_every == 0
                            and classes[label] != 'hole'),
                segmentation=[[x1, y1, x2, y1, x2, y2, x1, y2]]))
    coco = dict(images=images, annotations=annotations,
                categories=[dict(id=11 + i, name=n) for i, n in enumerate(classes)])
    with open(os.path.join(root, f'{name}.json'), 'w') as f:
        json.dump(coco, f)
    return coco


def write_voc(root: str, year: str, split: str, num_images: int, seed: int,
              difficult_every: int = 0, classes: Sequence[str] = CLASSES) -> List[str]:
    """Write a VOC tree ``<root>/VOC<year>/{Annotations,JPEGImages,ImageSets/Main}``.

    Args:
        difficult_every (int): Mark every n-th object ``difficult`` (0: none; never a hole).

    Returns:
        list[str]: The image ids.
    """
    base = os.path.join(root, f'VOC{year}')
    ids = []
    count = 0
    for index, objects in enumerate(layout(num_images, seed, classes)):
        image_id = f'{split}{index:04d}' if year == '2007' else f'{year}_{split}{index:04d}'
        ids.append(image_id)
        _write_image(os.path.join(base, 'JPEGImages', f'{image_id}.jpg'))
        parts = [f'<annotation><filename>{image_id}.jpg</filename><size><width>{SIZE}</width>'
                 f'<height>{SIZE}</height><depth>3</depth></size>']
        for label, (x1, y1, x2, y2) in objects:
            count += 1
            difficult = int(bool(difficult_every) and count % difficult_every == 0
                            and classes[label] != 'hole')
            parts.append(f'<object><name>{classes[label]}</name><difficult>{difficult}'
                         f'</difficult><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}'
                         f'</xmax><ymax>{y2}</ymax></bndbox></object>')
        parts.append('</annotation>')
        os.makedirs(os.path.join(base, 'Annotations'), exist_ok=True)
        with open(os.path.join(base, 'Annotations', f'{image_id}.xml'), 'w') as f:
            f.write(''.join(parts))
    os.makedirs(os.path.join(base, 'ImageSets', 'Main'), exist_ok=True)
    with open(os.path.join(base, 'ImageSets', 'Main', f'{split}.txt'), 'w') as f:
        f.write(''.join(f'{image_id}\n' for image_id in ids))
    return ids


def class_counts(entries: Sequence[dict], classes: Sequence[str]) -> Dict[str, int]:
    """Non-ignored instances per class of ``data_list`` entries."""
    counts = {name: 0 for name in classes}
    for entry in entries:
        for inst in entry['instances']:
            if not inst['ignore_flag']:
                counts[classes[inst['bbox_label']]] += 1
    return counts
