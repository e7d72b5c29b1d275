"""Models of the few-shot recipe: the cosine-similarity box head and the TFA detector."""
from .cosine_sim_bbox_head import CosineSimBBoxHead, CosineSimLinear
from .tfa import TFA

__all__ = ['CosineSimBBoxHead', 'CosineSimLinear', 'TFA']
