"""The MVTec-FS folder layout, ``<root>/image/<category>/{training,testing}/<defect_folder>/``
``000.json`` beside its image: which annotation files a split holds."""
import os
from typing import Dict, List, Optional, Sequence

from .tree_listing import list_json_files

#: The data split name -> the folder that holds it inside each category.
SPLIT_FOLDERS: Dict[str, str] = {'train': 'training', 'test': 'testing'}
IMAGE_FOLDER = 'image'


def list_annotation_files(root: str,
                          split: str,
                          categories: Optional[Sequence[str]] = None) -> List[str]:
    """List the labelme files of one data split of an MVTec-FS tree.

    Args:
        root (str): The MVTec-FS root (the folder holding ``image/``).
        split (str): ``'train'`` or ``'test'``.
        categories (Sequence[str], optional): Categories to list. Defaults to every category
            folder found under ``<root>/image``.

    Returns:
        list[str]: JSON paths relative to ``root`` (POSIX separators), sorted.
    """
    if split not in SPLIT_FOLDERS:
        raise ValueError(f'split must be one of {sorted(SPLIT_FOLDERS)}, got {split!r}')
    image_dir = os.path.join(root, IMAGE_FOLDER)
    if not os.path.isdir(image_dir):
        raise FileNotFoundError(f'{image_dir}: not an MVTec-FS tree (no "{IMAGE_FOLDER}/" folder)')
    if categories is None:
        with os.scandir(image_dir) as entries:
            categories = sorted(entry.name for entry in entries if entry.is_dir())
    files = []
    for category in categories:
        split_dir = os.path.join(image_dir, category, SPLIT_FOLDERS[split])
        if not os.path.isdir(split_dir):
            raise FileNotFoundError(f'{split_dir}: category {category!r} has no '
                                    f'{SPLIT_FOLDERS[split]!r} folder')
        files += list_json_files(split_dir, root)
    return sorted(files)


def category_folder(relpath: str) -> str:
    """Return the category folder an annotation file lies in, which names its classes
    (``'<category folder>/<label>'``).

    Args:
        relpath (str): A path as returned by :func:`list_annotation_files`.

    Returns:
        str: The category folder name, e.g. ``'bottle'``.
    """
    parts = relpath.replace(os.sep, '/').split('/', 2)
    if len(parts) < 3 or parts[0] != IMAGE_FOLDER:
        raise ValueError(f'{relpath}: not inside "{IMAGE_FOLDER}/<category>/"')
    return parts[1]
