"""The few-shot protocol as steps over ``data_list`` entries (docs/architecture.md, "The
protocol"): candidates, a drawn or loaded selection, the ``unselected`` policy. Each step
returns new objects and leaves its input unchanged."""
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .kshot import KShotSelection, ObjectRef, Shots, select_kshot, shots_per_class
from .label_space import LabelSpace

#: What becomes of the instances of a kept image that are not selected.
POLICIES = ('ignore', 'drop', 'keep')

Entry = Dict[str, Any]


def _source(entry: Entry) -> str:
    """What names an entry in messages: its annotation file, else its image."""
    return str(entry.get('json_path') or entry.get('xml_path') or entry.get('img_path')
               or f"img_id {entry.get('img_id')}")


def kshot_candidates(entries: Sequence[Entry], label_space: LabelSpace) -> Dict[str, List[str]]:
    """Collect, per class of the label space, the keys of its instances that may be shots:
    those not ignored (not crowd, difficult or ``__ignore__``).

    Args:
        entries (Sequence[dict]): ``data_list`` entries, labels indexing
            ``label_space.all_classes``.
        label_space (LabelSpace): The label space.

    Returns:
        dict[str, list[str]]: Every class of the label space (in label order) -> its
        candidates' keys, in the order of the entries.

    Raises:
        ValueError: An instance lacks ``instance_key``, or two instances share one (naming
            both images).
    """
    candidates: Dict[str, List[str]] = {name: [] for name in label_space.classes}
    seen: Dict[str, str] = {}
    for entry in entries:
        for index, instance in enumerate(entry['instances']):
            key = instance.get('instance_key')
            if key is None:
                raise ValueError(f'{_source(entry)}: instances[{index}].instance_key: missing')
            if key in seen:
                raise ValueError(f'{_source(entry)}: instances[{index}].instance_key: {key!r} '
                                 f'also names an instance of {seen[key]}')
            seen[key] = _source(entry)
            label = instance['bbox_label']
            if instance.get('ignore_flag', 0) or label < 0:
                continue
            name = label_space.all_classes[label]
            if name in candidates:
                candidates[name].append(key)
    return candidates


def draw_selection(candidates: Mapping[str, Sequence[str]], label_space: LabelSpace,
                   shots: Shots, base_shots: Shots, seed: int) -> KShotSelection:
    """Draw the k-shot selection of a label space with the k-shot rule.

    Args:
        candidates (Mapping[str, Sequence[str]]): From :func:`kshot_candidates`.
        label_space (LabelSpace): The label space.
        shots (int | None): k of the novel classes (None: every instance).
        base_shots (int | 'all' | None): k of the base classes (None: ``shots``).
        seed (int): The seed.

    Returns:
        KShotSelection: The selection, for every class of the label space.
    """
    k = shots_per_class(label_space.base_classes, label_space.novel_classes, shots, base_shots)
    return KShotSelection(seed=seed, shots=shots, base_shots=base_shots,
                          classes=list(label_space.classes),
                          selection=select_kshot(candidates, k, seed))


def resolve_selection(selection: KShotSelection, candidates: Mapping[str, Sequence[str]],
                      refs: Mapping[str, ObjectRef], label_space: LabelSpace,
                      source: str, data_roots: Sequence[str] = ()
                      ) -> Tuple[KShotSelection, Dict[str, str]]:
    """Apply a loaded selection to the same physical objects, or refuse it.

    A shot is its key's candidate when that is still the same image and box, else the one
    candidate of its class at that image and box (ids renumbered by a new export); a key
    alone (first format) must be a candidate of its class.

    Args:
        selection (KShotSelection): The loaded selection.
        candidates (Mapping[str, Sequence[str]]): From :func:`kshot_candidates`.
        refs (Mapping[str, ObjectRef]): Instance key -> its image and box, for every
            candidate.
        label_space (LabelSpace): The dataset's label space.
        source (str): The selection file, named in errors.
        data_roots (Sequence[str]): The ``data_root`` of each dataset ``refs`` are relative
            to, named in errors. Defaults to ().

    Returns:
        tuple: The selection with this dataset's keys (and their refs), and old key -> new
        key for the shots found under another key.

    Raises:
        ValueError: The selection was made for other classes, or a shot is not an object of
            its class in this dataset (the message says which shot, what it was and what its
            key names here; where the same box lies on an image whose path differs by a
            leading folder, or no image of the selection is one of this dataset, that paths
            are relative to ``data_root``, naming it).
    """
    if list(selection.classes) != list(label_space.classes):
        raise ValueError(f'{source}: classes: the selection was made for '
                         f'{list(selection.classes)}, this dataset has '
                         f'{list(label_space.classes)}')
    at_place: Dict[tuple, List[str]] = {}
    for name, keys in candidates.items():
        for key in keys:
            at_place.setdefault((name,) + refs[key].place(), []).append(key)
    resolved: Dict[str, List[str]] = {}
    moved: Dict[str, str] = {}
    for name, keys in selection.selection.items():
        known = set(candidates.get(name, ()))
        resolved[name] = []
        for i, key in enumerate(keys):
            ref = selection.objects.get(key)
            if ref is None:
                if key not in known:
                    hint = (' (a first-format selection names COCO objects by annotation id '
                            'alone; keys now name their file too: draw it again)'
                            if key.isdigit() else '')
                    raise ValueError(f'{source}: selection.{name}[{i}]: {key!r} is not a '
                                     f'(non-ignored) instance of {name!r} in this dataset'
                                     f'{hint}')
                resolved[name].append(key)
                continue
            if key in known and refs[key].place() == ref.place():
                resolved[name].append(key)
                continue
            found = at_place.get((name,) + ref.place(), [])
            if len(found) != 1:
                here = (f'; here {key!r} is {refs[key].image} box {list(refs[key].bbox)}'
                        if key in refs else f'; no instance of this dataset has key {key!r}')
                cause = (_root_hint(ref, name, selection, candidates, refs, data_roots)
                         if not found else None) or (
                    'The annotations changed since the selection was drawn: draw it again, '
                    'or train on the files it was drawn from')
                raise ValueError(
                    f'{source}: selection.{name}[{i}]: the shot {key!r} ({ref.image} box '
                    f'{list(ref.bbox)}) is not {"one" if not found else "a single"} {name!r} '
                    f'object of this dataset{here}. {cause}')
            resolved[name].append(found[0])
            if found[0] != key:
                moved[key] = found[0]
    objects = {key: refs[key] for keys in resolved.values() for key in keys if key in refs}
    return KShotSelection(seed=selection.seed, shots=selection.shots,
                          base_shots=selection.base_shots, classes=list(selection.classes),
                          selection=resolved, objects=objects), moved


def _root_hint(ref: ObjectRef, name: str, selection: KShotSelection,
               candidates: Mapping[str, Sequence[str]], refs: Mapping[str, ObjectRef],
               data_roots: Sequence[str]) -> Optional[str]:
    """Say that a selection's paths are relative to ``data_root`` where that likely explains a
    shot not found: the same box of its class lies on an image whose path differs by leading
    folders (``data_root`` and ``ann_file`` re-spelled: ``'R/'``, ``'parts/train.json'`` vs
    ``'R/parts'``, ``'train.json'``), or no image of the selection is one of this dataset.

    Returns:
        str | None: The sentence, or None where neither holds.
    """
    roots = ', '.join(repr(root) for root in data_roots) or "''"
    relative = (f'Keys and image paths in a selection file are relative to the dataset\'s '
                f'data_root ({roots} here)')
    box = ref.place()[1]
    for key in candidates.get(name, ()):
        image, place_box = refs[key].place()
        shorter, longer = sorted((image, ref.image), key=len)
        if place_box == box and longer.endswith('/' + shorter):
            prefix = longer[:-len(shorter)]
            drawn = 'a data_root' + (' without' if image == shorter else ' with')
            return (f'{relative}: this shot\'s image {ref.image!r} is {image!r} here, the '
                    f'same box, so the selection was likely drawn with {drawn} the trailing '
                    f'folder(s) {prefix!r} (moved between data_root and ann_file?): spell '
                    'data_root as when it was drawn, or draw the selection again')
    images = {other.image for other in refs.values()}
    if not any(other.image in images for other in selection.objects.values()):
        return (f'{relative}, and none of its images is an image of this dataset: was it '
                'drawn with another data_root, or for another dataset? Spell data_root as '
                'when it was drawn, or draw the selection again')
    return None


def apply_selection(entries: Sequence[Entry], label_space: LabelSpace,
                    selected: Optional[Mapping[str, str]] = None,
                    unselected: str = 'ignore') -> List[Entry]:
    """Relabel entries into the label space and apply a selection and its policy.

    Args:
        entries (Sequence[dict]): ``data_list`` entries, labels indexing
            ``label_space.all_classes``.
        label_space (LabelSpace): The label space.
        selected (Mapping[str, str], optional): Instance key -> class of the selected
            instances; None keeps every image and every instance of the label space.
        unselected (str): What becomes of an instance that is not selected (or whose class
            lies outside the label space) on a kept image: ``'ignore'`` (an ignore region,
            ``ignore_flag=1``; its label, or ``-1`` outside the label space), ``'drop'``
            (removed) or ``'keep'`` (a normal instance; outside the label space it can only be
            an ignore region). Instances that are ignore regions already (crowd, difficult,
            ``__ignore__``) stay ignore regions under every policy. Defaults to
            ``'ignore'``.

    Returns:
        list[dict]: The kept entries (shallow copies, with new ``instances`` lists), in the
        input order; ``left_out_instances`` (the image's annotated objects that are in no
        ``instances``: what its reader left out, plus what the selection drops) is added to.
    """
    if unselected not in POLICIES:
        raise ValueError(f'unselected must be one of {POLICIES}, got {unselected!r}')
    label_of = label_space.label_of
    all_classes = label_space.all_classes
    result = []
    for entry in entries:
        instances = entry['instances']
        if selected is not None and not any(inst['instance_key'] in selected
                                            for inst in instances):
            continue
        kept, dropped = [], 0
        for instance in instances:
            label = instance['bbox_label']
            new_label = label_of.get(all_classes[label], -1) if label >= 0 else -1
            already_ignored = bool(instance.get('ignore_flag', 0)) or label < 0
            chosen = new_label >= 0 and (instance['instance_key'] in selected
                                         if selected is not None else not already_ignored)
            if chosen or (already_ignored and new_label >= 0):
                flag = 0 if chosen else 1
            elif already_ignored:  # an ignore region outside the label space, or __ignore__
                if unselected == 'drop' and label >= 0:
                    dropped += 1
                    continue
                flag = 1
            elif unselected == 'drop':
                dropped += 1
                continue
            else:
                flag = 0 if unselected == 'keep' and new_label >= 0 else 1
            kept.append(dict(instance, bbox_label=new_label, ignore_flag=flag))
        result.append(dict(entry, instances=kept,
                           left_out_instances=entry.get('left_out_instances', 0) + dropped))
    return result
