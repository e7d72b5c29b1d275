"""TFA: Faster R-CNN fine-tuned with part of its weights frozen (Wang et al., ICML 2020)."""
from typing import Any, Optional, Sequence

from torch import Tensor

from mmdet.models.detectors import FasterRCNN
from mmdet.registry import MODELS
from mmdet.structures import SampleList
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
        pcb (dict, optional): DeFRCN's prototypical calibration of the test scores
            (:class:`~mmfs_plugin.models.prototypical_calibration.PrototypicalCalibration`'s
            arguments). Defaults to None: none.
        **kwargs: The arguments of mmdet's ``FasterRCNN``.
    """

    def __init__(self, frozen_parameters: Sequence[str] = (), pcb: Optional[dict] = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.frozen_parameters = tuple(frozen_parameters)
        freeze_parameters(self, self.frozen_parameters)
        self.pcb = None if pcb is None else MODELS.build(
            dict(pcb, type=pcb.get('type', 'PrototypicalCalibration')))

    def predict(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """The detections (:meth:`predict_detections`), their scores calibrated where the
        model has a ``pcb``.

        Args:
            batch_inputs (Tensor): Images, shape (N, C, H, W).
            batch_data_samples (list[DetDataSample]): Their data samples.
            rescale (bool): Whether to rescale the results. Defaults to True.

        Returns:
            list[DetDataSample]: The samples with ``pred_instances``.
        """
        samples = self.predict_detections(batch_inputs, batch_data_samples, rescale=rescale)
        if self.pcb is None:
            return samples
        return self.pcb.calibrate(self, batch_inputs, samples, rescale)

    def predict_detections(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                           rescale: bool = True) -> SampleList:
        """Faster R-CNN's detections (arguments and result as :meth:`predict`)."""
        return super().predict(batch_inputs, batch_data_samples, rescale=rescale)

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
