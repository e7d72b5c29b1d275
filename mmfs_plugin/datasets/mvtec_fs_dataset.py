"""MVTecFSDataset: the MVTec-FS layout and ``<category>/<defect>`` class naming."""
from typing import Any, Dict, List, Optional, Sequence, Set

from mmdet.registry import DATASETS

from .labelme_dataset import LabelmeDataset
from ..formats.labelme_records import LabelmeRecord
from ..formats.mvtec_fs_layout import category_of, list_annotation_files
from ..formats.mvtec_fs_table import mvtec_fs_classes


@DATASETS.register_module()
class MVTecFSDataset(LabelmeDataset):
    """MVTec-FS (MVREC, AAAI 2025): defect instances of MVTec AD in labelme JSON.

    Reads ``<data_root>/image/<category>/{training,testing}/<defect_folder>/*.json``. The class
    of an instance is ``'<category>/<label>'`` with the label taken from the JSON (the truth,
    not the folder name), or the bare label with ``merge_same_names=True``. The default class
    order is Table 1's (:func:`~mmfs_plugin.fewshot.splits.mvtec_fs_classes`) over the loaded
    categories; ``metainfo=dict(classes=...)`` sets another list (e.g. for a subset or for
    labelme data in this layout with other classes).

    Args:
        categories (Sequence[str], optional): Categories to load. Defaults to every category
            folder of the tree.
        split (str): ``'train'`` (``training/`` folders) or ``'test'`` (``testing/``).
            Defaults to ``'train'``.
        merge_same_names (bool): Merge same-named defects across categories into one class.
            Defaults to False.
        **kwargs: The arguments of :class:`LabelmeDataset` (``data_root`` is the MVTec-FS
            root; ``class_split``, ``subset``, ``shots``, ``seed``, ``unselected``...).
    """

    def __init__(self,
                 *args,
                 categories: Optional[Sequence[str]] = None,
                 split: str = 'train',
                 merge_same_names: bool = False,
                 **kwargs) -> None:
        self.categories = list(categories) if categories is not None else None
        self.split = split
        self.merge_same_names = merge_same_names
        super().__init__(*args, **kwargs)

    @property
    def tree_root(self) -> str:
        """The MVTec-FS root (``data_root``)."""
        return self.data_root

    def annotation_files(self, other_files: Optional[Set[str]] = None) -> List[str]:
        """Return the split's labelme files relative to the root, sorted.

        Args:
            other_files (set[str], optional): Receives the other files listed (the images).

        Returns:
            list[str]: The files' paths with ``/`` separators.
        """
        return list_annotation_files(self.data_root, self.split, self.categories, other_files)

    def cache_args(self) -> Dict[str, Any]:
        """Return :class:`LabelmeDataset`'s cache key arguments and this layout's."""
        return dict(super().cache_args(), categories=self.categories, split=self.split,
                    merge_same_names=self.merge_same_names)

    def class_name(self, relpath: str, label: str) -> str:
        """Return ``'<category>/<label>'`` (or ``label`` with ``merge_same_names``)."""
        return label if self.merge_same_names else f'{category_of(relpath)}/{label}'

    def default_classes(self, records: Dict[str, LabelmeRecord]) -> List[str]:
        """Return Table 1's classes of the loaded categories, in Table 1 order."""
        categories = self.categories
        if categories is None:
            categories = sorted({category_of(relpath) for relpath in records})
        return mvtec_fs_classes(categories, self.merge_same_names)
