"""Check that NEU-DET's two forms read the same through the few-shot protocol.

NEU-DET ships as LabelImg's Pascal VOC XML and as labelme JSON (``../shared/data/neu_det``). This
builds both forms for every image through ``FewShotDataset`` (mmdet's ``XMLDataset`` for the XML,
the plugin's ``LabelmeDataset`` for the JSON) and prints, per image, whether the labels and boxes
agree, and per shots x seed whether the k-shot rule keeps as many instances of each class in both.
The boxes are compared after mmdet's VOC convention: ``XMLDataset`` subtracts 1 from every VOC
coordinate (1-based pixel indices), the labelme files keep the numbers as written, so a VOC box
equals the labelme box minus 1. Exit status 1 on any difference. Not a unit test: tests never need
the shared data.

    python tools/analysis_tools/check_neu_det.py ../shared/data/neu_det
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.registry import init_default_scope
from terminaltables import AsciiTable

import mmfs_plugin  # noqa: F401  (registers the plugin)
from mmfs_plugin.datasets import FewShotDataset

CLASSES = ('crazing', 'inclusion', 'patches', 'pitted_surface', 'rolled-in_scale', 'scratches')
NOVEL = ['pitted_surface', 'scratches']
#: mmdet's XMLDataset subtracts this from every VOC coordinate.
VOC_SHIFT = 1.0


def build(form: str, root: str, id_list: str, **fewshot) -> FewShotDataset:
    """Build one form of the whole of NEU-DET through FewShotDataset.

    Args:
        form (str): ``'voc'`` or ``'labelme'``.
        root (str): The NEU-DET folder.
        id_list (str): A file listing the image ids.
        **fewshot: FewShotDataset's protocol arguments.

    Returns:
        FewShotDataset: The dataset.
    """
    if form == 'voc':
        inner = dict(type='XMLDataset', data_root=osp.join(root, 'VOC', ''), ann_file=id_list,
                     data_prefix=dict(sub_data_root=''), metainfo=dict(classes=CLASSES))
    else:
        inner = dict(type='LabelmeDataset', data_root=osp.join(root, 'labelme', ''),
                     ann_file=id_list, metainfo=dict(classes=CLASSES))
    return FewShotDataset(dataset=inner, class_split=dict(novel=NOVEL), pipeline=[],
                          serialize_data=False, **fewshot)


def objects(dataset: FewShotDataset) -> Dict[str, List[Tuple[int, Tuple[float, ...]]]]:
    """Image file name -> its (label, box) pairs, in file order."""
    return {osp.basename(info['img_path']): [(inst['bbox_label'], tuple(inst['bbox']))
                                             for inst in info['instances']]
            for info in dataset.data_list}


def compare_objects(voc: FewShotDataset, labelme: FewShotDataset) -> Tuple[List[str], int, float]:
    """Compare every image's labels and boxes.

    Returns:
        tuple[list[str], int, float]: The differences found (one line each), the number of
        boxes compared and the largest coordinate difference after the VOC shift.
    """
    problems = []
    voc_objects, labelme_objects = objects(voc), objects(labelme)
    if set(voc_objects) != set(labelme_objects):
        only = sorted(set(voc_objects) ^ set(labelme_objects))
        problems.append(f'images in one form only: {only[:5]} ({len(only)})')
    boxes, largest = 0, 0.0
    for image in sorted(set(voc_objects) & set(labelme_objects)):
        ours, theirs = labelme_objects[image], voc_objects[image]
        if [label for label, _ in ours] != [label for label, _ in theirs]:
            problems.append(f'{image}: labels {[label for label, _ in theirs]} (VOC) vs '
                            f'{[label for label, _ in ours]} (labelme)')
            continue
        for (_, box), (_, voc_box) in zip(ours, theirs):
            diff = float(np.abs(np.subtract(box, voc_box) - VOC_SHIFT).max())
            largest = max(largest, diff)
            boxes += 1
            if diff > 1e-6:
                problems.append(f'{image}: box {list(voc_box)} (VOC) vs {list(box)} (labelme)')
    return problems, boxes, largest


def kshot_counts(dataset: FewShotDataset) -> Dict[str, int]:
    """Selected instances per class."""
    return {name: len(keys) for name, keys in dataset.kshot_selection.selection.items()}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the check and print its tables.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        int: 0 when both forms agree, 1 otherwise.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('root', help='the NEU-DET folder (VOC/ and labelme/)')
    parser.add_argument('--shots', type=int, nargs='+', default=[1, 3, 5, 10])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    args = parser.parse_args(argv)
    init_default_scope('mmdet')
    ann_dir = osp.join(args.root, 'VOC', 'Annotations')
    ids = sorted(name[:-len('.xml')] for name in os.listdir(ann_dir) if name.endswith('.xml'))
    with tempfile.TemporaryDirectory() as tmp:
        id_list = osp.join(tmp, 'all.txt')
        with open(id_list, 'w', encoding='utf-8') as f:
            f.write(''.join(f'{image_id}\n' for image_id in ids))
        voc, labelme = build('voc', args.root, id_list), build('labelme', args.root, id_list)
        problems, boxes, largest = compare_objects(voc, labelme)
        per_class = Counter(CLASSES[label] for entry in objects(labelme).values()
                            for label, _ in entry)
        print(f'{len(voc)} VOC and {len(labelme)} labelme images; {boxes} boxes compared; '
              f'largest |labelme - 1 - VOC| coordinate difference: {largest:g}')
        print('boxes per class: ' + ', '.join(f'{n} {per_class[n]}' for n in CLASSES))
        rows = [['shots', 'seed', 'per-class k-shot counts (VOC = labelme)', 'equal']]
        for shots in args.shots:
            for seed in args.seeds:
                counts = [kshot_counts(build(form, args.root, id_list, shots=shots, seed=seed))
                          for form in ('voc', 'labelme')]
                rows.append([str(shots), str(seed),
                             ' '.join(str(counts[1][n]) for n in CLASSES),
                             'yes' if counts[0] == counts[1] else 'NO'])
                if counts[0] != counts[1]:
                    problems.append(f'{shots} shots, seed {seed}: {counts[0]} (VOC) vs '
                                    f'{counts[1]} (labelme)')
    print(AsciiTable(rows).table)
    for problem in problems[:20]:
        print(f'DIFFERENCE: {problem}')
    print('check_neu_det: ' + ('both forms agree' if not problems else
                               f'{len(problems)} differences'))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
