"""The synthetic MVTec-FS-shaped data generator (demo and tests); pure (no torch, no mmdet)."""
from .generator import generate_synthetic_mvtecfs

__all__ = ['generate_synthetic_mvtecfs']
