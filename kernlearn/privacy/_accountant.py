"""Privacy budget accounting across several private releases.

A :class:`BudgetAccountant` holds a ceiling ``(epsilon, delta)``, records every
``(epsilon_i, delta_i)`` spent on the same private data, and refuses a spend that
would take the composed guarantee past the ceiling. Composition is basic (sums of
epsilons) or, given a slack ``delta~ > 0``, the heterogeneous advanced composition
of Kairouz, Oh and Viswanath (2015), which grows like ``sqrt(sum epsilon_i**2)``
instead of ``sum epsilon_i``. The design follows diffprivlib's accountant
(Holohan et al. 2019); the code is written anew.

References
----------
.. [1] P. Kairouz, S. Oh, P. Viswanath, "The composition theorem for differential
   privacy", ICML 2015 / IEEE Trans. Inf. Theory 63(6), 2017, Theorem 3.5.
.. [2] C. Dwork, G. N. Rothblum, S. Vadhan, "Boosting and differential privacy",
   FOCS 2010.
.. [3] N. Holohan, S. Braghin, P. Mac Aonghusa, K. Levacher, "Diffprivlib: the IBM
   differential privacy library", arXiv:1907.02444, 2019.
"""

import math
import numbers

# Spends are compared with the ceiling up to this relative rounding: sums of
# decimal budgets (0.1 + 0.2 > 0.3 in float64) would otherwise be refused. The
# overshoot it allows (one part in 10**12) changes no guarantee in practice.
_RTOL = 1e-12


class BudgetError(ValueError):
    """A privacy spend would exceed the accountant's budget ceiling.

    Raised by :meth:`BudgetAccountant.spend` before anything is recorded (and so
    by a private ``fit`` before it touches the data).

    Examples
    --------
    >>> from kernlearn.privacy import BudgetAccountant, BudgetError
    >>> acc = BudgetAccountant(epsilon=1.0)
    >>> acc.spend(0.75, 0.0)
    >>> try:
    ...     acc.spend(0.5, 0.0)
    ... except BudgetError:
    ...     print("refused; spent so far:", acc.total())
    refused; spent so far: (0.75, 0.0)
    """


class PrivacyLeakWarning(UserWarning):
    """A privacy guarantee is weaker than it looks.

    Emitted, for example, when noise is drawn from a caller-supplied seed (whoever
    knows it can remove the noise) or when data fall outside their declared
    bounds.

    Examples
    --------
    A record outside the public bounds is clipped into them, with a warning:

    >>> import warnings
    >>> from kernlearn.privacy import PrivacyLeakWarning, PrivateSimilaritySum
    >>> X = [[0.2, 0.3], [1.5, 0.5]]
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = PrivateSimilaritySum(epsilon=1.0, bounds=(0, 1)).fit(X)
    >>> [w.category is PrivacyLeakWarning for w in caught]
    [True]
    """


def _check_epsilon_delta(epsilon, delta, what="spend"):
    if (
        isinstance(epsilon, bool)
        or not isinstance(epsilon, numbers.Real)
        or math.isnan(epsilon)
        or epsilon < 0
    ):
        raise ValueError(
            f"epsilon of the {what} must be a number >= 0 (inf allowed), got "
            f"{epsilon!r}."
        )
    if (
        isinstance(delta, bool)
        or not isinstance(delta, numbers.Real)
        or not 0.0 <= delta <= 1.0
    ):
        raise ValueError(
            f"delta of the {what} must be a number in [0, 1], got {delta!r}."
        )
    return float(epsilon), float(delta)


def _check_slack(slack):
    if (
        isinstance(slack, bool)
        or not isinstance(slack, numbers.Real)
        or not 0.0 <= slack <= 1.0
    ):
        raise ValueError(f"slack must be a number in [0, 1], got {slack!r}.")
    return float(slack)


def _moments(spends):
    """Sufficient statistics of a list of spends for :func:`_compose`."""
    eps = [e for e, _ in spends]
    return (
        math.fsum(eps),
        # eps (e^eps - 1) / (e^eps + 1) = eps tanh(eps / 2); inf * 1 = inf.
        math.fsum(e * math.tanh(e / 2.0) for e in eps),
        math.fsum(e * e for e in eps),
        # log prod (1 - delta_i), accurate for many tiny deltas.
        math.fsum(math.log1p(-d) if d < 1.0 else -math.inf for _, d in spends),
    )


def _compose(moments, slack):
    """Composed ``(epsilon, delta)`` from :func:`_moments` (see ``total``)."""
    eps_sum, eps_tanh, eps_sq, log_keep = moments
    basic = (eps_sum, 0.0 - math.expm1(log_keep) + 0.0)  # + 0.0: no "-0.0"
    if slack == 0.0 or math.isinf(eps_sum):
        return basic
    root = math.sqrt(eps_sq)
    advanced = eps_tanh + min(
        math.sqrt(2.0 * eps_sq * -math.log(slack)),
        root * math.sqrt(2.0 * math.log(math.e + root / slack)),
    )
    if eps_sum <= advanced:
        return basic
    return advanced, -math.expm1(log_keep + math.log1p(-slack))


class BudgetAccountant:
    """Track privacy spends on one dataset against an ``(epsilon, delta)`` ceiling.

    Every private release on the same data calls :meth:`spend` with its
    guarantee; a spend that would take the composed guarantee (see :meth:`total`)
    past the ceiling raises :class:`BudgetError` and is not recorded.

    Parameters
    ----------
    epsilon : float, default=inf
        Ceiling on the composed epsilon, ``>= 0`` (``inf``: track only).
    delta : float, default=1.0
        Ceiling on the composed delta, in ``[0, 1]``.
    slack : float, default=0.0
        The ``delta~`` of advanced composition, ``0 <= slack <= delta``: a part of
        the delta ceiling traded for a smaller composed epsilon. ``0`` means basic
        composition.

    Attributes
    ----------
    spent_budget : list of (float, float)
        The recorded spends ``(epsilon_i, delta_i)``, oldest first.

    See Also
    --------
    kernlearn.privacy._noise.release : the releases whose guarantees are spent.

    References
    ----------
    Kairouz, Oh, Viswanath, "The composition theorem for differential privacy",
    ICML 2015, Theorem 3.5; Dwork, Rothblum, Vadhan, "Boosting and differential
    privacy", FOCS 2010.

    Examples
    --------
    >>> acc = BudgetAccountant(epsilon=1.0, delta=1e-6)
    >>> acc.spend(0.25, 0.0)
    >>> acc.spend(0.25, 1e-7)
    >>> acc.total()
    (0.5, 1e-07)
    >>> acc.remaining()
    (0.5..., 9.0000009...e-07)
    """

    def __init__(self, epsilon=math.inf, delta=1.0, slack=0.0):
        epsilon, delta = _check_epsilon_delta(epsilon, delta, "ceiling")
        slack = _check_slack(slack)
        if slack > delta:
            raise ValueError(
                f"slack={slack!r} exceeds the delta ceiling {delta!r}; the slack is "
                "part of delta, so choose slack <= delta."
            )
        self.epsilon = epsilon
        self.delta = delta
        self.slack = slack
        self.spent_budget = []

    def total(self, spent_budget=None, slack=None):
        """The composed guarantee of a list of spends.

        Rule. Basic composition: ``(sum eps_i, 1 - prod(1 - delta_i))``; the
        product form is at most ``sum delta_i`` and is valid because every
        ``(eps_i, delta_i)``-DP mechanism is a post-processing of one that, with
        probability ``delta_i``, reveals its input and otherwise is
        ``eps_i``-DP (Kairouz et al. 2015). With ``slack = delta~ > 0``, their
        Theorem 3.5 also gives ``(eps_adv, 1 - (1 - delta~) prod(1 - delta_i))``
        with ``eps_adv = sum eps_i tanh(eps_i / 2) + min(sqrt(2 ln(1/delta~)
        sum eps_i**2), sqrt(2 sum eps_i**2 ln(e + sqrt(sum eps_i**2) / delta~)))``
        (``eps (e^eps - 1) / (e^eps + 1) = eps tanh(eps / 2)``; the first root is
        the bound of Dwork, Rothblum, Vadhan 2010). Both pairs are valid
        guarantees; this returns the basic pair when ``sum eps_i <= eps_adv``
        (it then needs no slack) and the advanced pair otherwise.

        Parameters
        ----------
        spent_budget : list of (float, float), optional
            Spends to compose; default the recorded ones.
        slack : float, optional
            Slack ``delta~`` in ``[0, 1]``; default the accountant's.

        Returns
        -------
        epsilon, delta : float
            The composed guarantee.
        """
        if spent_budget is None:
            spends = self.spent_budget
        else:
            spends = [_check_epsilon_delta(e, d) for e, d in spent_budget]
        slack = self.slack if slack is None else _check_slack(slack)
        return _compose(_moments(spends), slack)

    def _fits(self, composed, rtol):
        eps, delta = composed
        return eps <= self.epsilon * (1.0 + rtol) and delta <= self.delta * (1.0 + rtol)

    def check(self, epsilon, delta):
        """Verify that ``(epsilon, delta)`` can be spent without recording it.

        Parameters
        ----------
        epsilon : float
            Epsilon of the prospective spend, ``>= 0``.
        delta : float
            Delta of the prospective spend, in ``[0, 1]``.

        Returns
        -------
        bool
            True when the spend fits.

        Raises
        ------
        BudgetError
            When the composed guarantee would exceed the ceiling; the message
            gives the remaining budget.
        """
        epsilon, delta = _check_epsilon_delta(epsilon, delta)
        composed = self.total(self.spent_budget + [(epsilon, delta)])
        if self._fits(composed, _RTOL):
            return True
        rem_eps, rem_delta = self.remaining()
        spent_eps, spent_delta = self.total()
        raise BudgetError(
            f"Spending (epsilon={epsilon:g}, delta={delta:g}) would exceed the "
            f"budget ceiling (epsilon={self.epsilon:g}, delta={self.delta:g}): "
            f"{len(self.spent_budget)} spends so far compose to "
            f"(epsilon={spent_eps:g}, delta={spent_delta:g}), and one more spend "
            f"can use at most (epsilon={rem_eps:g}, delta={rem_delta:g}). Spend "
            "less, or use an accountant with a larger ceiling on fresh data."
        )

    def spend(self, epsilon, delta):
        """Record a spend of ``(epsilon, delta)`` after :meth:`check`.

        Parameters
        ----------
        epsilon : float
            Epsilon spent, ``>= 0``.
        delta : float
            Delta spent, in ``[0, 1]``.

        Raises
        ------
        BudgetError
            When the spend does not fit; nothing is recorded then.
        """
        self.check(epsilon, delta)
        self.spent_budget.append(_check_epsilon_delta(epsilon, delta))

    def remaining(self, k=1):
        """The largest ``(epsilon, delta)`` that can still be spent ``k`` times.

        ``delta`` is the largest value with ``1 - (1 - slack) prod(1 - delta_i)
        (1 - delta)**k <= delta ceiling`` (the slack is reserved, so the pair fits
        under either composition rule); ``epsilon`` is then the largest value,
        found by bisection, with which ``k`` more spends of ``(epsilon, delta)``
        keep the composed epsilon within the ceiling (the composed epsilon grows
        with ``epsilon``). Both are ``0`` when nothing is left; an epsilon below the
        rounding tolerance of :meth:`check` (``k * epsilon <= 1e-12 * ceiling``)
        counts as nothing.

        Parameters
        ----------
        k : int, default=1
            Number of equal future spends.

        Returns
        -------
        epsilon, delta : float
            Budget of each of the ``k`` spends.
        """
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}.")
        spent = _moments(self.spent_budget)
        # (1 - delta)**k >= (1 - ceiling) / ((1 - slack) prod(1 - delta_i))
        log_keep = spent[3] + math.log1p(-self.slack) if self.slack < 1.0 else -math.inf
        if self.delta >= 1.0:
            delta = 1.0
        elif log_keep == -math.inf:
            delta = 0.0
        else:
            log_ratio = math.log1p(-self.delta) - log_keep
            delta = 0.0 if log_ratio >= 0.0 else -math.expm1(log_ratio / k)
        if math.isinf(self.epsilon):
            return math.inf, delta

        def fits(eps):
            extra = (k * eps, k * eps * math.tanh(eps / 2.0), k * eps * eps, 0.0)
            moments = tuple(
                math.fsum((a, b)) for a, b in zip(spent, extra, strict=True)
            )
            composed = _compose(moments, self.slack)
            return composed[0] <= self.epsilon

        if not fits(0.0):
            return 0.0, 0.0
        lo = 0.0
        hi = max(self.epsilon, 2.0 * (self.epsilon - spent[0]) / k, 1e-300)
        while fits(hi):
            lo, hi = hi, 2.0 * hi
        while True:
            mid = 0.5 * (lo + hi)
            if mid <= lo or mid >= hi:
                break

            if fits(mid):
                lo = mid
            else:
                hi = mid
        # Leftovers of float rounding (below the tolerance of ``check``) are not
        # budget: without this, 0.5 spent of 0.5 would leave ~1e-16.
        if k * lo <= _RTOL * self.epsilon:
            lo = 0.0
        return lo, delta

    def __len__(self):
        return len(self.spent_budget)

    def __repr__(self):
        spends = ", ".join(f"({e:g}, {d:g})" for e, d in self.spent_budget[:5])
        if len(self.spent_budget) > 5:
            spends += f", ... ({len(self.spent_budget) - 5} more)"
        return (
            f"BudgetAccountant(epsilon={self.epsilon:g}, delta={self.delta:g}, "
            f"slack={self.slack:g}, spent_budget=[{spends}])"
        )
