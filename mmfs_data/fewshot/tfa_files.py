"""TFA's published k-shot files (Wang et al., ICML 2020; github.com/ucbdrive/few-shot-object-
detection), a folder per seed (``vocsplit/seed<S>/``, ``cocosplit/seed<S>/``): read as
selections and written from ours."""
import glob
import json
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..fileio import atomic_write, dump_json_atomic
from .kshot import KShotSelection, Shots
from .label_space import LabelSpace

VOC_FILE = 'box_{shots}shot_{name}_train.txt'
COCO_FILE = 'full_box_{shots}shot_{name}_trainval.json'
FORMATS = ('tfa_voc', 'tfa_coco')


def detect_format(folder: str) -> str:
    """Tell which TFA format a folder holds: ``'tfa_voc'`` or ``'tfa_coco'``.

    Raises:
        ValueError: The folder holds neither kind of file.
    """
    if glob.glob(os.path.join(glob.escape(folder), 'box_*shot_*_train.txt')):
        return 'tfa_voc'
    if glob.glob(os.path.join(glob.escape(folder), 'full_box_*shot_*_trainval.json')):
        return 'tfa_coco'
    raise ValueError(f'{folder}: load_selection: neither TFA VOC files (box_<k>shot_<class>'
                     '_train.txt) nor TFA COCO files (full_box_<k>shot_<class>_trainval.json)')


def _image_id(line: str) -> str:
    """``datasets/VOC2007/JPEGImages/000005.jpg`` -> ``000005``."""
    return os.path.splitext(line.strip().replace('\\', '/').rsplit('/', 1)[-1])[0]


def _key_image_id(key: str) -> str:
    """The image id of a VOC instance key ``VOC2007/Annotations/000005.xml#2``."""
    return _image_id(key.rpartition('#')[0])


def _annotation_id(key: str) -> int:
    """The annotation id of a COCO instance key ``annotations/train.json#42``."""
    return int(key.rpartition('#')[2])


def _class_instances(entries: Sequence[Mapping[str, Any]], label_space: LabelSpace,
                     with_ignored: bool) -> Dict[str, List[Tuple[str, str]]]:
    """Class -> ``(instance key, image file name)`` of its instances (ignored ones too when
    ``with_ignored``: VOC's difficult objects), in entry order."""
    found: Dict[str, List[Tuple[str, str]]] = {name: [] for name in label_space.classes}
    for entry in entries:
        image = os.path.basename(str(entry.get('img_path', '')))
        for instance in entry['instances']:
            label = instance['bbox_label']
            if label < 0 or (instance.get('ignore_flag', 0) and not with_ignored):
                continue
            name = label_space.all_classes[label]
            if name in found:
                found[name].append((instance['instance_key'], image))
    return found


def read_tfa_selection(folder: str, shots: int, label_space: LabelSpace,
                       entries: Sequence[Mapping[str, Any]], seed: int = 0,
                       base_shots: Shots = None) -> KShotSelection:
    """Read TFA's files of ``shots`` shots for every class of a label space as a selection.

    A VOC file (``box_<k>shot_<class>_train.txt``, image paths) selects every object of its
    class in the listed images, ``difficult`` ones too, as TFA trains on them; a COCO file
    (``full_box_<k>shot_<class>_trainval.json``) exactly its annotations.

    Args:
        folder (str): The folder of one seed (e.g. ``vocsplit/seed1``).
        shots (int): k, which names the files.
        label_space (LabelSpace): The classes to read (one file each).
        entries (Sequence[dict]): The dataset's ``data_list`` entries (labels indexing
            ``label_space.all_classes``, instances keyed): lines and annotations are matched
            to their instances.
        seed (int): Recorded in the selection. Defaults to 0.
        base_shots (int | 'all' | None): Recorded in the selection. Defaults to None.

    Returns:
        KShotSelection: The selection.

    Raises:
        ValueError: A class's file is missing or unreadable, names an image the dataset does
            not hold or that has no object of the class, or an annotation that is not one of
            the class's (non-crowd) instances on the image it names (the message names the
            file).
    """
    kind = detect_format(folder)
    voc = kind == 'tfa_voc'
    instances = _class_instances(entries, label_space, with_ignored=voc)
    dataset_images = {_image_id(str(entry.get('xml_path') or entry.get('img_path', '')))
                      for entry in entries}
    selection: Dict[str, List[str]] = {}
    for name in label_space.classes:
        template = VOC_FILE if voc else COCO_FILE
        path = os.path.join(folder, template.format(shots=shots, name=name))
        try:
            with open(path, encoding='utf-8') as f:
                data = f.read() if voc else json.load(f)
        except (OSError, ValueError) as err:
            raise ValueError(f'{path}: cannot read the TFA file of class {name!r}: {err}')
        if voc:
            ids = {_image_id(line) for line in data.splitlines() if line.strip()}
            absent = sorted(ids - dataset_images)
            if absent:
                raise ValueError(f'{path}: images {absent[:3]} are not in the dataset '
                                 f'({len(absent)} of {len(ids)} listed)')
            keys = [key for key, _ in instances[name] if _key_image_id(key) in ids]
            empty = sorted(ids - {_key_image_id(key) for key in keys})
            if empty:
                raise ValueError(f'{path}: images {empty[:3]}: no {name!r} object in them')
        else:
            keys = _coco_keys(path, data, instances[name], name)
        selection[name] = keys
    return KShotSelection(seed=seed, shots=shots, base_shots=base_shots,
                          classes=list(label_space.classes), selection=selection)


def _coco_keys(path: str, data: Any, instances: Sequence[Tuple[str, str]],
               name: str) -> List[str]:
    """The keys of a TFA COCO file's annotations among a class's instances."""
    annotations = data.get('annotations') if isinstance(data, dict) else None
    if not isinstance(annotations, list):
        raise ValueError(f'{path}: annotations: expected a list')
    images = {image.get('id'): os.path.basename(str(image.get('file_name', '')))
              for image in data.get('images') or [] if isinstance(image, dict)}
    by_id: Dict[int, List[Tuple[str, str]]] = {}
    for key, image in instances:
        by_id.setdefault(_annotation_id(key), []).append((key, image))
    keys = []
    for i, ann in enumerate(annotations):
        image = images.get(ann.get('image_id'))
        found = [key for key, on in by_id.get(ann.get('id'), ()) if image is None or on == image]
        if len(found) != 1:
            raise ValueError(f'{path}: annotations[{i}]: id {ann.get("id")!r} on image '
                             f'{image!r} is {"not a" if not found else "more than one"} '
                             f'(non-crowd) {name!r} instance of the dataset')
        keys.append(found[0])
    return keys


def write_tfa_voc(selection: KShotSelection, folder: str,
                  image_prefix: str = 'datasets') -> List[str]:
    """Write a selection of VOC instances as TFA's ``box_<k>shot_<class>_train.txt`` files.

    Args:
        selection (KShotSelection): A selection whose keys are VOC keys
            ``VOC2007/Annotations/<id>.xml#<index>``.
        folder (str): The output folder (created).
        image_prefix (str): What precedes ``VOC<year>/JPEGImages/<id>.jpg`` on each line.
            Defaults to ``'datasets'`` (TFA's own lines).

    Returns:
        list[str]: The files written.
    """
    written = []
    for name, keys in selection.selection.items():
        lines = []
        for key in keys:
            xml_path = key.rpartition('#')[0]
            year_dir = xml_path.replace('\\', '/').split('/')[-3:-2] or ['VOC2007']
            line = '/'.join([image_prefix, year_dir[0], 'JPEGImages',
                             f'{_key_image_id(key)}.jpg']).lstrip('/')
            if line not in lines:
                lines.append(line)
        path = os.path.join(folder, VOC_FILE.format(shots=selection.shots, name=name))
        os.makedirs(folder, exist_ok=True)
        with atomic_write(path, 'w') as f:
            f.write(''.join(f'{line}\n' for line in lines))
        written.append(path)
    return written


def write_tfa_coco(selection: KShotSelection, coco: Mapping[str, Any], folder: str,
                   source: Optional[str] = None) -> List[str]:
    """Write a selection of COCO annotations as TFA's ``full_box_<k>shot_<class>_trainval.json``.

    Args:
        selection (KShotSelection): A selection of COCO keys ``<ann_file>#<annotation id>``.
        coco (Mapping): The source COCO dataset (``images``, ``annotations``, ``categories``).
        folder (str): The output folder (created).
        source (str, optional): The COCO file, named in errors.

    Returns:
        list[str]: The files written.

    Raises:
        ValueError: A selected id is not an annotation of the source file.
    """
    annotations = {ann['id']: ann for ann in coco.get('annotations', [])}
    images = {image['id']: image for image in coco.get('images', [])}
    os.makedirs(folder, exist_ok=True)
    written = []
    for name, keys in selection.selection.items():
        missing = [key for key in keys if _annotation_id(key) not in annotations]
        if missing:
            raise ValueError(f'{source or "COCO file"}: annotations: selected ids {missing[:3]} '
                             f'of class {name!r} are not in the file')
        chosen = [annotations[_annotation_id(key)] for key in keys]
        image_ids = list(dict.fromkeys(ann['image_id'] for ann in chosen))
        path = os.path.join(folder, COCO_FILE.format(shots=selection.shots, name=name))
        dump_json_atomic(dict(images=[images[i] for i in image_ids], annotations=chosen,
                              categories=coco.get('categories', [])), path)
        written.append(path)
    return written
