"""What the plugin's detection datasets share: mmdet's image filters and class ids over entries
whose ignored instances carry ``ignore_flag=1``."""
from typing import List


class DetEntriesMixin:
    """``filter_data`` and ``get_cat_ids`` for a ``BaseDetDataset`` whose entries hold
    ``width``, ``height`` and ``instances`` with ``bbox_label`` and ``ignore_flag``."""

    def filter_data(self) -> List[dict]:
        """Filter images by ``filter_cfg`` as mmdet does (``filter_empty_gt``: no non-ignored
        instance; ``min_size``: shorter side); nothing in ``test_mode``.

        Returns:
            list[dict]: The kept entries.
        """
        if self.test_mode or self.filter_cfg is None:
            return self.data_list
        filter_empty_gt = self.filter_cfg.get('filter_empty_gt', False)
        min_size = self.filter_cfg.get('min_size', 0)
        return [
            info for info in self.data_list
            if min(info['width'], info['height']) >= min_size and not (
                filter_empty_gt and all(inst['ignore_flag'] for inst in info['instances']))
        ]

    def get_cat_ids(self, idx: int) -> List[int]:
        """Return the labels of the non-ignored instances of image ``idx`` (with repeats).

        Args:
            idx (int): Index into the dataset.

        Returns:
            list[int]: The labels.
        """
        return [inst['bbox_label'] for inst in self.get_data_info(idx)['instances']
                if not inst['ignore_flag']]
