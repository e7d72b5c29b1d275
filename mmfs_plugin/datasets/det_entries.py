"""What the plugin's detection datasets share: mmdet's image filters and class ids over entries
whose ignored instances carry ``ignore_flag=1``."""
from typing import List


class DetEntriesMixin:
    """``filter_data`` and ``get_cat_ids`` for a ``BaseDetDataset`` whose entries hold
    ``width``, ``height`` and ``instances`` with ``bbox_label`` and ``ignore_flag``."""

    def passes_filter(self, info: dict) -> bool:
        """Whether ``filter_cfg`` keeps an entry: every entry in ``test_mode``, as mmdet's
        filters; ``min_size`` on the shorter side, as mmdet's; ``filter_empty_gt`` keeps an
        entry with a non-ignored instance. That last one is stricter than mmdet's, which keeps
        an image whose objects are all ignored (VOC's ``difficult``, COCO's crowd regions): in
        a k-shot set such an image holds no shot (its objects unselected or ignored) and
        would train only as background beside ignore regions.

        Args:
            info (dict): A ``data_list`` entry.

        Returns:
            bool: True if the entry is kept.
        """
        if self.test_mode or self.filter_cfg is None:
            return True
        if min(info['width'], info['height']) < self.filter_cfg.get('min_size', 0):
            return False
        return not (self.filter_cfg.get('filter_empty_gt', False)
                    and all(inst['ignore_flag'] for inst in info['instances']))

    def filter_data(self) -> List[dict]:
        """Filter images by ``filter_cfg`` (:meth:`passes_filter`).

        Returns:
            list[dict]: The kept entries.
        """
        return [info for info in self.data_list if self.passes_filter(info)]

    def get_cat_ids(self, idx: int) -> List[int]:
        """Return the labels of the non-ignored instances of image ``idx`` (with repeats).

        Args:
            idx (int): Index into the dataset.

        Returns:
            list[int]: The labels.
        """
        return [inst['bbox_label'] for inst in self.get_data_info(idx)['instances']
                if not inst['ignore_flag']]
