"""Models of the few-shot recipe: the cosine-similarity box head and the TFA detector."""
from .cosine_sim_bbox_head import CosineSimBBoxHead, CosineSimLinear
from .retentive_tfa import RetentiveTFA
from .tfa import TFA

__all__ = ['CosineSimBBoxHead', 'CosineSimLinear', 'RetentiveTFA', 'TFA']
