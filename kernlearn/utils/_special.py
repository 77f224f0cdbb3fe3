"""Special functions evaluated in log space.

``log_kv(nu, z)`` is the natural logarithm of the modified Bessel function of the
second kind, finite wherever the true value is, for large arguments and large orders
alike. It backs the general-``nu`` Matern kernel and, later, Student-t spectra.
"""

import numpy as np
from scipy import special

# Coefficients of the polynomials u_k(t) of the Debye (uniform) asymptotic expansion
# K_nu(nu z) ~ sqrt(pi / (2 nu)) exp(-nu eta) / (1 + z^2)^(1/4)
#              * sum_k (-1)^k u_k(t) / nu^k,   t = 1 / sqrt(1 + z^2)
# (Abramowitz & Stegun 9.7.8 and 9.3.9-10; DLMF 10.41.10).  Highest power last.
_DEBYE_U = (
    (1.0,),
    (0.0, 1.0 / 8.0, 0.0, -5.0 / 24.0),
    (0.0, 0.0, 9.0 / 128.0, 0.0, -77.0 / 192.0, 0.0, 385.0 / 1152.0),
    (
        0.0,
        0.0,
        0.0,
        75.0 / 1024.0,
        0.0,
        -4563.0 / 5120.0,
        0.0,
        17017.0 / 9216.0,
        0.0,
        -85085.0 / 82944.0,
    ),
    (
        0.0,
        0.0,
        0.0,
        0.0,
        3675.0 / 32768.0,
        0.0,
        -96833.0 / 40960.0,
        0.0,
        144001.0 / 16384.0,
        0.0,
        -7436429.0 / 663552.0,
        0.0,
        37182145.0 / 7962624.0,
    ),
)


def _log_kv_debye(nu, x):
    """Uniform asymptotic expansion of log K_nu(x); accurate for nu >~ 10."""
    z = x / nu
    sq = np.sqrt(1.0 + z * z)
    t = 1.0 / sq
    # eta = sqrt(1+z^2) + log(z / (1 + sqrt(1+z^2))), written to avoid cancellation
    eta = sq + np.log(z) - np.log1p(sq)
    series = np.zeros_like(x)
    for k, coefs in enumerate(_DEBYE_U):
        uk = np.polynomial.polynomial.polyval(t, coefs)
        series = series + (-1.0) ** k * uk / nu**k
    return (
        0.5 * np.log(np.pi / (2.0 * nu))
        - nu * eta
        - 0.25 * np.log1p(z * z)
        + np.log(series)
    )


def log_kv(nu, x):
    """Natural logarithm of the modified Bessel function of the second kind.

    Stable where ``scipy.special.kv`` overflows (small ``x`` or large ``nu``) or
    underflows (large ``x``).

    Parameters
    ----------
    nu : float
        Order; ``K_{-nu} = K_nu`` so its sign is ignored.
    x : array_like
        Non-negative arguments. ``log_kv(nu, 0)`` is ``+inf``.

    Returns
    -------
    out : ndarray of float64
        ``log K_nu(x)``, same shape as ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from kernlearn.utils._special import log_kv
    >>> float(np.round(log_kv(0.5, 1000.0), 6))  # K_0.5 is closed-form
    -1004.684029
    """
    nu = abs(float(nu))
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        # kve(nu, x) = K_nu(x) exp(x) neither underflows for large x nor loses
        # precision; it overflows only where x << nu.
        kve = special.kve(nu, x)
        out[...] = np.log(kve) - x
    bad = ~np.isfinite(out) & (x > 0)
    if np.any(bad):
        xb = x[bad]
        # Overflow means x << nu. Where the first correction x^2 / (4 (nu - 1)) of
        # the small-argument series is below double precision, its leading term
        # Gamma(nu) / 2 * (2 / x)^nu is exact; otherwise nu is large (>~ 100) and
        # the Debye expansion is accurate to double precision.
        if nu > 0:
            lead = special.gammaln(nu) + (nu - 1.0) * np.log(2.0) - nu * np.log(xb)
        else:
            lead = np.log(-np.log(xb / 2.0) - np.euler_gamma)
        tiny = (nu <= 1.0) | (xb * xb < 4e-17 * max(nu - 1.0, 1e-300))
        res = lead.copy()
        if np.any(~tiny):
            res[~tiny] = _log_kv_debye(nu, xb[~tiny])
        out[bad] = res
    out[x == 0] = np.inf
    return out
