"""The colours of a label space: base classes in cool hues, novel classes in warm ones, so that
every picture tells them apart (mmdet's ``metainfo['palette']``). Pure: imports neither torch
nor mmdet."""
from typing import Collection, List, Sequence, Tuple

RGB = Tuple[int, int, int]
#: Hues of the base classes (blues, greens, greys).
BASE_HUES: List[RGB] = [(31, 119, 180), (44, 160, 44), (23, 190, 207), (148, 103, 189),
                        (127, 127, 127), (188, 189, 34), (140, 86, 75), (0, 0, 139)]
#: Hues of the novel classes (reds, oranges, pinks, gold).
NOVEL_HUES: List[RGB] = [(214, 39, 40), (255, 127, 14), (227, 119, 194), (255, 187, 120),
                         (178, 34, 34), (255, 215, 0)]


def split_palette(classes: Sequence[str], novel_classes: Collection[str]) -> List[RGB]:
    """One 0-255 RGB colour per class: the class at label ``i`` takes hue ``i`` (cycled) of its
    family.

    Args:
        classes (Sequence[str]): The label space, in label order.
        novel_classes (Collection[str]): Its novel classes.

    Returns:
        list[tuple[int, int, int]]: The palette, by label.
    """
    novel = set(novel_classes)
    palette = []
    for label, name in enumerate(classes):
        hues = NOVEL_HUES if name in novel else BASE_HUES
        palette.append(hues[label % len(hues)])
    return palette
