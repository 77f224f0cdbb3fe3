"""Kernel density estimation that stays right and fast in high dimension.

:class:`KernelDensity` computes log densities through the backend's log-sum-exp, so
they stay finite where every kernel value underflows; it selects bandwidths by rule
or by leave-one-out likelihood, evaluates on grids by FFT, and reports which of the
three high-dimensional regimes of Biroli and Mezard (2024) its bandwidth is in.
"""

from ._bandwidth import SELECTORS
from ._kde import ExtremeValueRegimeWarning, KernelDensity
from ._kernels import DENSITY_KERNELS
from ._regime import (
    RegimeReport,
    effective_h_G,
    gaussian_thresholds,
    regime_name,
    solve_r_star,
)

__all__ = [
    "DENSITY_KERNELS",
    "ExtremeValueRegimeWarning",
    "KernelDensity",
    "RegimeReport",
    "SELECTORS",
    "effective_h_G",
    "gaussian_thresholds",
    "regime_name",
    "solve_r_star",
]
