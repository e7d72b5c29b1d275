"""Models of the few-shot recipe: the cosine-similarity box head, the TFA detector and its
retentive and distilled forms, and DeFRCN's gradient-decoupled heads and prototypical
calibration."""
from .cosine_sim_bbox_head import CosineSimBBoxHead, CosineSimLinear
from .distilled_tfa import DistilledTFA
from .gradient_decoupled import (DecoupledRPNHead, DecoupledStandardRoIHead,
                                 GradientDecoupledLayer)
from .prototypical_calibration import (ClassifierRoIFeatures, DetectorRoIFeatures,
                                       PrototypicalCalibration)
from .retentive_tfa import RetentiveTFA
from .tfa import TFA

__all__ = ['ClassifierRoIFeatures', 'CosineSimBBoxHead', 'CosineSimLinear', 'DecoupledRPNHead',
           'DecoupledStandardRoIHead', 'DetectorRoIFeatures', 'DistilledTFA',
           'GradientDecoupledLayer', 'PrototypicalCalibration', 'RetentiveTFA', 'TFA']
