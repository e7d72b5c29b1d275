"""Write the NEU-DET splits used by the NEU-DET configs (deterministic): trainval/test, and
trainval cut into train/val.

NEU-DET has no official split. The rule: the images are grouped by the class in their file name
(``crazing_17`` -> ``crazing``; 300 each), each group's names are shuffled with the plugin's
seeded, machine-independent shuffle (:func:`~mmfs_data.fewshot.stable_random.stable_shuffle`,
seed 0, keyed by the group) and the first 20% (60 per group, 360 images) form the test set; the
other 1440 images are ``trainval`` (base training, the full-data oracle). The same rule with
seed 1 cuts trainval into ``val`` (48 per group, 288 images: where a few-shot choice is made)
and ``train`` (1152 images: the pool the k shots are drawn from), so no choice ever sees a test
image and no shot is a validation image. The lists hold image ids (file stems), one per line,
sorted: the form of Pascal VOC's ``ImageSets/Main/*.txt``, read by mmdet's ``XMLDataset`` and by
``LabelmeDataset`` alike.

    python tools/dataset_converters/neu_det_split.py ../shared/data/neu_det \\
        configs/_base_/datasets/neu_det_splits
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from mmfs_data.fewshot.stable_random import stable_shuffle
from mmfs_data.fileio import atomic_write

#: Share of each file-name group that goes to the test set (and of trainval to val).
TEST_FRACTION = 0.2
SEED = 0
#: The seed of the shuffle that cuts trainval into train and val.
VAL_SEED = 1


def split_ids(ids: Sequence[str], test_fraction: float = TEST_FRACTION,
              seed: int = SEED) -> Tuple[List[str], List[str]]:
    """Split image ids into training and test ids by the rule of this module.

    Args:
        ids (Sequence[str]): Image ids ``<class>_<number>``.
        test_fraction (float): Share of each group for testing (rounded to the nearest
            integer count). Defaults to 0.2.
        seed (int): Seed of the shuffle. Defaults to 0.

    Returns:
        tuple[list[str], list[str]]: Training ids and test ids, each sorted.
    """
    groups: Dict[str, List[str]] = {}
    for image_id in sorted(set(ids)):
        group, _, number = image_id.rpartition('_')
        if not group or not number.isdigit():
            raise ValueError(f'{image_id}: not an id "<class>_<number>"')
        groups.setdefault(group, []).append(image_id)
    train, test = [], []
    for group, members in sorted(groups.items()):
        shuffled = stable_shuffle(members, seed, group)
        num_test = round(len(members) * test_fraction)
        test += shuffled[:num_test]
        train += shuffled[num_test:]
    return sorted(train), sorted(test)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """List ``<root>/VOC/Annotations/*.xml`` and write ``{trainval,train,val,test}.txt``.

    Args:
        argv (Sequence[str], optional): The arguments; None reads ``sys.argv``.

    Returns:
        int: The exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('root', help='the NEU-DET folder (holding VOC/Annotations)')
    parser.add_argument('out_dir',
                        help='where trainval.txt, train.txt, val.txt and test.txt are written')
    args = parser.parse_args(argv)
    ann_dir = osp.join(args.root, 'VOC', 'Annotations')
    if not osp.isdir(ann_dir):
        parser.error(f'{ann_dir}: no such folder (expected the NEU-DET layout)')
    ids = [name[:-len('.xml')] for name in os.listdir(ann_dir) if name.endswith('.xml')]
    trainval, test = split_ids(ids)
    train, val = split_ids(trainval, seed=VAL_SEED)
    splits = dict(trainval=trainval, train=train, val=val, test=test)
    os.makedirs(args.out_dir, exist_ok=True)
    for name, members in splits.items():
        with atomic_write(osp.join(args.out_dir, f'{name}.txt'), 'w') as f:
            f.write(''.join(f'{image_id}\n' for image_id in members))
    print('neu_det_split: ' + ', '.join(f'{len(members)} {name}' for name, members in
                                        splits.items()) + f' images in {args.out_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
