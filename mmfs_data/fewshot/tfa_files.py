"""TFA's published k-shot files (Wang et al., ICML 2020; github.com/ucbdrive/few-shot-object-
detection), a folder per seed (``vocsplit/seed<S>/``, ``cocosplit/seed<S>/``): read as
selections and written from ours."""
import glob
import json
import os
import warnings
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from ..fileio import atomic_write, dump_json_atomic
from .kshot import KShotSelection, ObjectRef, Shots
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


class _Instance(NamedTuple):
    """An instance a TFA file line or annotation is matched to."""
    key: str
    image: str  # the image's file name
    bbox: Tuple[float, ...]  # x1, y1, x2, y2 in pixels, as read
    size: Tuple[float, float]  # the image's width and height


def _place(bbox: Sequence[float]) -> Tuple[float, ...]:
    """A box rounded to 0.01 px, as :meth:`~.kshot.ObjectRef.place`: equal for the same object."""
    return tuple(round(float(v), 2) for v in bbox)


def _coco_box(ann: Mapping[str, Any], size: Tuple[float, float]) -> Optional[List[float]]:
    """A COCO annotation's ``[x, y, w, h]`` as ``[x1, y1, x2, y2]`` clipped to the image of
    ``size`` (width, height), as the readers hold boxes to their image; None when it is not
    four numbers or is empty there."""
    bbox = ann.get('bbox')
    if not (isinstance(bbox, (list, tuple)) and len(bbox) == 4 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in bbox)):
        return None
    x, y, w, h = bbox
    box = [max(x, 0), max(y, 0), min(x + w, size[0]), min(y + h, size[1])]
    return box if box[2] > box[0] and box[3] > box[1] else None


def _class_instances(entries: Sequence[Mapping[str, Any]], label_space: LabelSpace,
                     with_ignored: bool) -> Dict[str, List[_Instance]]:
    """Class -> its instances (ignored ones too when ``with_ignored``: VOC's difficult
    objects), in entry order."""
    found: Dict[str, List[_Instance]] = {name: [] for name in label_space.classes}
    for entry in entries:
        image = os.path.basename(str(entry.get('img_path', '')))
        size = (entry.get('width', float('inf')), entry.get('height', float('inf')))
        for instance in entry['instances']:
            label = instance['bbox_label']
            if label < 0 or (instance.get('ignore_flag', 0) and not with_ignored):
                continue
            name = label_space.all_classes[label]
            if name in found:
                found[name].append(_Instance(instance['instance_key'], image,
                                             tuple(instance['bbox']), size))
    return found


def read_tfa_selection(folder: str, shots: int, label_space: LabelSpace,
                       entries: Sequence[Mapping[str, Any]], seed: int = 0,
                       base_shots: Shots = None) -> KShotSelection:
    """Read TFA's files of ``shots`` shots for every class of a label space as a selection.

    A VOC file (``box_<k>shot_<class>_train.txt``, image paths) selects every object of its
    class in the listed images, ``difficult`` ones too, as TFA trains on them; a COCO file
    (``full_box_<k>shot_<class>_trainval.json``) exactly its annotations: the instance with
    the annotation's id on its image when that has the annotation's box (TFA trains on the
    box of its file), else the one instance of the class at that image and box (the ids
    changed: a warning names the file and the ids).

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
            the class's (non-crowd) instances on the image it names, by id and box or by box
            alone (the message names the file, the annotation id and the boxes).
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
            keys = [inst.key for inst in instances[name] if _key_image_id(inst.key) in ids]
            empty = sorted(ids - {_key_image_id(key) for key in keys})
            if empty:
                raise ValueError(f'{path}: images {empty[:3]}: no {name!r} object in them')
        else:
            keys = _coco_keys(path, data, instances[name], name)
        selection[name] = keys
    return KShotSelection(seed=seed, shots=shots, base_shots=base_shots,
                          classes=list(label_space.classes), selection=selection)


def _coco_keys(path: str, data: Any, instances: Sequence[_Instance], name: str) -> List[str]:
    """The keys of a TFA COCO file's annotations among a class's instances (see
    :func:`read_tfa_selection`)."""
    annotations = data.get('annotations') if isinstance(data, dict) else None
    if not isinstance(annotations, list):
        raise ValueError(f'{path}: annotations: expected a list')
    images = {image.get('id'): os.path.basename(str(image.get('file_name', '')))
              for image in data.get('images') or [] if isinstance(image, dict)}
    by_id: Dict[int, List[_Instance]] = {}
    for inst in instances:
        by_id.setdefault(_annotation_id(inst.key), []).append(inst)
    keys = []
    moved = []
    for i, ann in enumerate(annotations):
        ann = ann if isinstance(ann, dict) else {}
        image = images.get(ann.get('image_id'))
        found = [inst for inst in by_id.get(ann.get('id'), ())
                 if image is None or inst.image == image]
        if len(found) > 1:
            raise ValueError(f'{path}: annotations[{i}]: id {ann.get("id")!r} on image '
                             f'{image!r} is more than one (non-crowd) {name!r} instance of '
                             'the dataset')
        size = found[0].size if found else next(
            (inst.size for inst in instances if inst.image == image), (float('inf'),) * 2)
        box = _coco_box(ann, size)
        if box is None:
            raise ValueError(f'{path}: annotations[{i}].bbox: {ann.get("bbox")!r:.60} is not '
                             'an [x, y, w, h] box inside its image')
        if found and _place(found[0].bbox) == _place(box):
            keys.append(found[0].key)
            continue
        same = [inst for inst in instances if (image is None or inst.image == image)
                and _place(inst.bbox) == _place(box)]
        if len(same) != 1:
            here = (f'the dataset\'s annotation {ann.get("id")!r} there is box '
                    f'{list(found[0].bbox)}' if found else
                    f'the dataset has no {name!r} annotation {ann.get("id")!r} there')
            raise ValueError(
                f'{path}: annotations[{i}]: id {ann.get("id")!r} on image {image!r}, box '
                f'{box} (x1, y1, x2, y2): {here}, and {"no" if not same else "more than one"} '
                f'(non-crowd) {name!r} instance of the dataset has that box. The annotations '
                'changed since the file was written: write it again, or train on the file it '
                'was written from')
        keys.append(same[0].key)
        moved.append(f'{ann.get("id")!r} -> {same[0].key!r}')
    if moved:
        warnings.warn(f'{path}: {len(moved)} annotations found by image and box under other '
                      f'ids (the ids changed since the file was written): {", ".join(moved[:3])}'
                      f'{", ..." if len(moved) > 3 else ""}', stacklevel=3)
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


def _names_file(source: str, path: str) -> bool:
    """Whether an instance key's source can be the file ``path``: the same file when absolute,
    else the last folders and name of ``path`` (keys are relative to their dataset's root).

    Args:
        source (str): The part of a key before ``#`` (``annotations/train.json``).
        path (str): A file's path, absolute or relative to the working folder.
    """
    full = os.path.abspath(path).replace(os.sep, '/')
    if os.path.isabs(source):
        return os.path.abspath(source).replace(os.sep, '/') == full
    return f'/{full}'.endswith('/' + os.path.normpath(source).replace(os.sep, '/'))


def write_tfa_coco(selection: KShotSelection, coco: Mapping[str, Any], folder: str,
                   source: str) -> List[str]:
    """Write a selection of COCO annotations as TFA's ``full_box_<k>shot_<class>_trainval.json``.

    Args:
        selection (KShotSelection): A selection of COCO keys ``<ann_file>#<annotation id>``
            (relative to the dataset's root), all of them of the file ``source``.
        coco (Mapping): The source COCO dataset (``images``, ``annotations``, ``categories``).
        folder (str): The output folder (created).
        source (str): The COCO file: the keys must name it; named in errors.

    Returns:
        list[str]: The files written.

    Raises:
        ValueError: A shot's key names another file (a selection drawn over several COCO
            files: TFA's files hold the shots of one), its id is not an annotation of the
            source file, or the annotation is not the shot's image and box (the file changed
            since the selection was drawn); nothing is written then.
    """
    sources = sorted({key.rpartition('#')[0] for keys in selection.selection.values()
                      for key in keys} - {''})
    for name, keys in selection.selection.items():
        for i, key in enumerate(keys):
            if key.rpartition('#')[0] and not _names_file(key.rpartition('#')[0], source):
                spans = (f'; the selection spans {len(sources)} COCO files ({", ".join(sources)})'
                         ' and TFA\'s files hold the shots of one: draw the selection on one '
                         'file' if len(sources) > 1 else '')
                raise ValueError(f'{source}: selection.{name}[{i}]: the shot {key!r} is an '
                                 f'annotation of another file ({key.rpartition("#")[0]}), not '
                                 f'of {source}{spans}')
    annotations = {ann['id']: ann for ann in coco.get('annotations', [])}
    images = {image['id']: image for image in coco.get('images', [])}
    chosen: Dict[str, List[Mapping[str, Any]]] = {}
    for name, keys in selection.selection.items():
        missing = [key for key in keys if _annotation_id(key) not in annotations]
        if missing:
            raise ValueError(f'{source}: annotations: selected ids {missing[:3]} '
                             f'of class {name!r} are not in the file')
        chosen[name] = [annotations[_annotation_id(key)] for key in keys]
        for key, ann in zip(keys, chosen[name]):
            _check_shot(source, name, key, selection.objects.get(key), ann,
                        images.get(ann.get('image_id'), {}))
    os.makedirs(folder, exist_ok=True)
    written = []
    for name, anns in chosen.items():
        image_ids = list(dict.fromkeys(ann['image_id'] for ann in anns))
        path = os.path.join(folder, COCO_FILE.format(shots=selection.shots, name=name))
        dump_json_atomic(dict(images=[images[i] for i in image_ids], annotations=anns,
                              categories=coco.get('categories', [])), path)
        written.append(path)
    return written


def _check_shot(source: str, name: str, key: str, ref: Optional[ObjectRef],
                ann: Mapping[str, Any], image: Mapping[str, Any]) -> None:
    """Refuse an annotation that is not the shot's object (its image and box in the
    selection; a key-only shot is not checked)."""
    if ref is None:
        return
    file_name = str(image.get('file_name', '')).replace(os.sep, '/')
    box = _coco_box(ann, (image.get('width', float('inf')), image.get('height', float('inf'))))
    if (box is None or _place(box) != ref.place()[1]
            or not f'/{ref.image}'.endswith(f'/{file_name}')):
        raise ValueError(f'{source}: annotations: id {ann.get("id")!r} (image {file_name!r}, '
                         f'box {box}) is not the shot {key!r} of class {name!r} ({ref.image}, '
                         f'box {list(ref.bbox)}): the file is not the one the selection was '
                         'drawn from, or it changed since')
