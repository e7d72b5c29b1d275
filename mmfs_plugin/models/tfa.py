"""TFA: Faster R-CNN fine-tuned with part of its weights frozen (Wang et al., ICML 2020)."""
from typing import Any, Sequence

from mmdet.models.detectors import FasterRCNN
from mmdet.registry import MODELS

from ..engine.freezing import freeze_parameters, frozen_modules


@MODELS.register_module()
class TFA(FasterRCNN):
    """Faster R-CNN whose parameters under ``frozen_parameters`` are frozen.

    The fine-tuning stage of "Frustratingly Simple Few-Shot Object Detection" trains only
    the last layers of the box head. Freezing lives in the detector rather than in a hook
    because mmengine's Runner builds the optimizer wrapper before any hook runs: frozen
    here, the parameters never receive a gradient, so the optimizer keeps no state for them
    and weight decay leaves them alone. The frozen modules stay in eval mode while the model
    trains (:meth:`train`), so batch-norm statistics and dropout of a frozen part behave as
    at inference and the part is frozen in full, not only its parameters.

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
