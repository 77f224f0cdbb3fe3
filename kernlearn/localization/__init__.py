"""RSS fingerprint location estimation (:mod:`kernlearn.localization`).

- :class:`FingerprintLocator`: position from BLE/Wi-Fi RSS fingerprints by
  beacon selection and kernel similarity (Ng et al. 2023), with plain and
  weighted kNN as built-in baselines.
- :func:`consolidate_scans`, :func:`build_fingerprint_map`: fingerprint maps
  from raw scans (the two consolidation protocols, outlier handling).
- :func:`localization_errors`, :func:`mean_localization_error`,
  :data:`localization_scorer`: errors in the units of the positions, and a
  scorer for GridSearchCV.
"""

from ._locator import (
    FingerprintLocator,
    localization_errors,
    localization_scorer,
    mean_localization_error,
)
from ._maps import build_fingerprint_map, consolidate_scans

__all__ = [
    "FingerprintLocator",
    "build_fingerprint_map",
    "consolidate_scans",
    "localization_errors",
    "localization_scorer",
    "mean_localization_error",
]
