"""The predictions pickle of ``tools/test.py --out`` (mmdet's ``DumpDetResults``: one data sample
per image, its ``img_id``, ``img_path`` and ``pred_instances``), paired with the test dataset
it was made on."""
import os.path as osp
from typing import Any, Dict, List, Tuple

import mmengine
import numpy as np
from mmengine.dataset import BaseDataset


def read_dumped_predictions(pred_pkl: str,
                            dataset: BaseDataset) -> List[Tuple[int, Dict[str, Any]]]:
    """Pair each dumped prediction with its image in ``dataset``, or refuse the pickle.

    A prediction is paired by ``img_id`` and must carry the ``img_path`` of the dataset's
    image of that id (another test file, or the same one exported again with new image ids,
    numbers its images otherwise). Its labels index the dataset's classes: the pickle holds no
    class names, so labels are read in the config's class order, and a label outside it is
    refused.

    Args:
        pred_pkl (str): The pickle of ``tools/test.py --out``.
        dataset (BaseDataset): The test dataset the predictions were made on.

    Returns:
        list[tuple[int, dict]]: The dataset index of each predicted image and its
        ``pred_instances`` (``bboxes``, ``scores``, ``labels``, optional ``masks``), in the
        pickle's order.

    Raises:
        ValueError: The pickle is not a list of predictions of the dataset's images; the
            message names the file and the field.
    """
    samples = mmengine.load(pred_pkl)
    if not isinstance(samples, list):
        raise ValueError(f'{pred_pkl}: expected a list of data samples (tools/test.py --out), '
                         f'got {type(samples).__name__}')
    infos = [dataset.get_data_info(index) for index in range(len(dataset))]
    index_of = {info['img_id']: index for index, info in enumerate(infos)}
    num_classes = len(dataset.metainfo['classes'])
    paired = []
    for position, sample in enumerate(samples):
        pred = sample.get('pred_instances') if isinstance(sample, dict) else None
        if pred is None:
            raise ValueError(f'{pred_pkl}: [{position}].pred_instances: missing')
        missing = [key for key in ('bboxes', 'scores', 'labels') if key not in pred]
        if missing:
            raise ValueError(f'{pred_pkl}: [{position}].pred_instances.{missing[0]}: missing')
        img_id = sample.get('img_id')
        index = index_of.get(img_id)
        if index is None:
            raise ValueError(f'{pred_pkl}: [{position}].img_id: {img_id!r} is not an image of '
                             'the test dataset')
        img_path, expected = sample.get('img_path'), str(infos[index]['img_path'])
        if img_path is None:
            raise ValueError(f'{pred_pkl}: [{position}].img_path: missing (tools/test.py --out '
                             'records it)')
        if osp.abspath(str(img_path)) != osp.abspath(expected):
            raise ValueError(
                f'{pred_pkl}: [{position}].img_path: {img_path} was predicted as img_id '
                f'{img_id!r}, but the test dataset\'s image {img_id!r} is {expected}: the '
                'predictions were made on another test file (or on this one before its '
                'images were numbered again); run tools/test.py --out on this config')
        labels = np.asarray(pred['labels'].cpu() if hasattr(pred['labels'], 'cpu')
                            else pred['labels']).reshape(-1)
        wrong = labels[(labels < 0) | (labels >= num_classes)]
        if wrong.size:
            raise ValueError(
                f'{pred_pkl}: [{position}].pred_instances.labels: {int(wrong[0])} is not a '
                f'label of the config\'s {num_classes} classes {list(dataset.metainfo["classes"])}'
                ': the predictions were made with another label space')
        paired.append((index, pred))
    return paired
