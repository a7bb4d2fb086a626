"""An anytime-valid confidence sequence for a pass rate, for adaptive sampling.

An ordinary confidence interval is valid at one pre-planned sample size; recomputing it after every new
sample and stopping once it looks decided inflates the error rate. A confidence sequence is valid at every
sample size at once (Robbins 1970; Howard et al. 2021), so a runner may look after each sample and stop
whenever it likes.
"""

from __future__ import annotations

import math

from mendoza.stats._checks import as_count, check_probability
from mendoza.stats._lazy import scipy_optimize as _optimize
from mendoza.stats._lazy import scipy_special as _special
from mendoza.stats.intervals import Interval

__all__ = ["confidence_sequence"]

# Smallest rate tried on the low side; log(p) there is about -690, enough to outweigh log B(S+1, n-S+1).
_FLOOR = 1e-300


def _lower_end(successes: int, n: int, log_threshold: float) -> float:
    """Lower end of ``{p : log B(S+1, n-S+1) - S log p - (n-S) log(1-p) < log(1/alpha)}``."""
    if successes == 0:
        return 0.0
    failures = n - successes
    log_beta = float(_special.betaln(successes + 1, failures + 1))

    def excess(p: float) -> float:
        log_likelihood = float(_special.xlogy(successes, p) + _special.xlog1py(failures, -p))
        return log_beta - log_likelihood - log_threshold

    rate = successes / n
    if excess(_FLOOR) <= 0.0:
        return 0.0
    return float(_optimize.brentq(excess, _FLOOR, rate, xtol=_FLOOR, rtol=1e-13))


def confidence_sequence(successes: int, n: int, alpha: float = 0.05) -> Interval:
    """Robbins' beta-binomial mixture confidence sequence (uniform prior) at ``successes`` out of ``n``.

    The set ``{p : B(S+1, n-S+1) / (p^S (1-p)^(n-S)) < 1/alpha}``: it contains the true rate at *every*
    ``n`` simultaneously with probability at least ``1 - alpha``, so it may be checked after each sample. It
    is wider than a fixed-``n`` interval (e.g. Wilson) on the same data; that is the price of peeking. The low
    end is 0 when ``S == 0`` and the high end 1 when ``S == n``; ``n == 0`` gives nan and ``[0, 1]``.
    """
    x = as_count(successes, "successes")
    total = as_count(n, "n")
    if x > total:
        raise ValueError(f"successes ({x}) cannot exceed n ({total})")
    log_threshold = -math.log(check_probability(alpha, "alpha"))
    if total == 0:
        return Interval(math.nan, 0.0, 1.0)
    low = _lower_end(x, total, log_threshold)
    # The set is symmetric under p -> 1 - p with successes and failures swapped.
    high = 1.0 - _lower_end(total - x, total, log_threshold)
    return Interval(x / total, low, high)
