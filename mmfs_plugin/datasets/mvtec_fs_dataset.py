"""MVTecFSDataset: the MVTec-FS layout and ``<category>/<defect>`` class naming."""
from typing import Any, List, Optional, Sequence

from mmdet.registry import DATASETS

from mmfs_data.formats.mvtec_fs_layout import category_folder, list_annotation_files
from mmfs_data.formats.mvtec_fs_table import mvtec_fs_classes
from .labelme_dataset import LabelmeDataset


@DATASETS.register_module()
class MVTecFSDataset(LabelmeDataset):
    """MVTec-FS (MVREC, AAAI 2025): defect instances of MVTec AD in labelme JSON, read from
    ``<data_root>/image/<category>/{training,testing}/<defect_folder>/*.json``.

    An instance's class is ``'<category>/<label>'``, the label from the JSON (not the folder).
    The classes are Table 1's of ``categories``, in Table 1 order, unless ``metainfo`` sets them.

    Args:
        categories (Sequence[str], optional): Categories to load. Defaults to all 14 of
            Table 1 (each must have its folder).
        split (str): ``'train'`` (``training/`` folders) or ``'test'`` (``testing/``).
            Defaults to ``'train'``.
        **kwargs: The arguments of :class:`LabelmeDataset` (``data_root`` is the MVTec-FS
            root).
    """

    def __init__(self,
                 *args: Any,
                 categories: Optional[Sequence[str]] = None,
                 split: str = 'train',
                 **kwargs: Any) -> None:
        self.categories = list(categories) if categories is not None else None
        self.split = split
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        if metainfo.get('classes') is None:
            metainfo['classes'] = tuple(mvtec_fs_classes(self.categories))
        super().__init__(*args, metainfo=metainfo, **kwargs)

    @property
    def tree_root(self) -> str:
        """The MVTec-FS root (``data_root``)."""
        return self.data_root

    def annotation_files(self) -> List[str]:
        """Return the split's labelme files relative to the root, sorted.

        Returns:
            list[str]: The files' paths with ``/`` separators.
        """
        return list_annotation_files(self.data_root, self.split, self.categories)

    def class_name(self, relpath: str, label: str) -> str:
        """Return ``'<category>/<label>'``."""
        return f'{category_folder(relpath)}/{label}'
