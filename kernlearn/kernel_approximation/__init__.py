"""Explicit feature maps that approximate kernels.

Random Fourier features of shift-invariant kernels (i.i.d., orthogonal and
structured Hadamard blocks), positive random features of the softmax kernel
(FAVOR+), arc-cosine random features, and Nystroem maps with better landmarks.
"""

from ..backend import fwht  # re-exported: the SORF transform's reference
from ._fourier import (
    ArcCosineFeatures,
    PositiveRandomFeatures,
    RandomFourierFeatures,
    arccos_kernel,
)
from ._nystroem import Nystroem, ridge_leverage_scores
from ._spectral import SpectralMeasure, spectral_measure

__all__ = [
    "ArcCosineFeatures",
    "Nystroem",
    "PositiveRandomFeatures",
    "RandomFourierFeatures",
    "SpectralMeasure",
    "arccos_kernel",
    "fwht",
    "ridge_leverage_scores",
    "spectral_measure",
]
