"""TFA: Faster R-CNN fine-tuned with part of its weights frozen (Wang et al., ICML 2020)."""
from typing import Any, Sequence

from mmdet.models.detectors import FasterRCNN
from mmdet.registry import MODELS

from .freezing import freeze_parameters, frozen_modules


@MODELS.register_module()
class TFA(FasterRCNN):
    """Faster R-CNN whose parameters under ``frozen_parameters`` are frozen.

    Frozen at build, before mmengine builds the optimizer, so they get no gradient, no
    optimizer state and no weight decay; the frozen modules stay in eval mode while training
    (batch-norm statistics and dropout as at inference).

    Args:
        frozen_parameters (Sequence[str]): Dotted prefixes of the parameter names to freeze,
            e.g. ``['backbone', 'neck', 'rpn_head', 'roi_head.bbox_head.shared_fcs']``.
            Each must match at least one parameter. Defaults to none (plain Faster R-CNN).
        **kwargs: The arguments of mmdet's ``FasterRCNN``.
    """

    def __init__(self, frozen_parameters: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.frozen_parameters = tuple(frozen_parameters)
        freeze_parameters(self, self.frozen_parameters)

    def train(self, mode: bool = True) -> 'TFA':
        """Set the training mode, keeping the frozen modules in eval mode.

        Args:
            mode (bool): Whether to set training mode. Defaults to True.

        Returns:
            TFA: The model itself.
        """
        super().train(mode)
        if mode:
            for module in frozen_modules(self, self.frozen_parameters):
                module.eval()
        return self
