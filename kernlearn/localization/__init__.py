"""RSS fingerprint location estimation (:mod:`kernlearn.localization`).

- :class:`FingerprintLocator`: position from BLE/Wi-Fi RSS fingerprints by
  beacon selection and kernel similarity (Ng et al. 2023), with plain and
  weighted kNN as built-in baselines.
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

__all__ = [
    "FingerprintLocator",
    "localization_errors",
    "localization_scorer",
    "mean_localization_error",
]
