"""Quantiles of the standard normal and Student t distributions, the critical values of every interval.

They are all a report needs from SciPy, and importing SciPy (even ``scipy.special`` alone, about 0.2 s) costs
more than a small report takes to compute, on every ``mendoza show``. So both come from the standard library:
the normal quantile from ``statistics.NormalDist`` (accurate to about 1e-15), the t quantile by inverting the t
distribution function, written with the regularized incomplete beta function (a continued fraction, as in
Numerical Recipes' ``betacf``), by Newton's method kept inside a bracket. ``tests/stats/test_quantiles.py``
holds both to ``scipy.stats`` to 12 significant digits.
"""

from __future__ import annotations

import math
from statistics import NormalDist

__all__ = ["normal_quantile", "t_quantile"]

_STANDARD_NORMAL = NormalDist()

#: Degrees of freedom from which the quantile comes from the Cornish-Fisher expansion around the normal one
#: (its first left-out term is below 1e-20 there, and the continued fraction converges slowly).
_LARGE_DF = 1e5
_RELATIVE_TOLERANCE = 1e-15


def normal_quantile(probability: float) -> float:
    """The ``probability`` quantile of the standard normal distribution (``scipy.stats.norm.ppf``);
    ``probability`` strictly between 0 and 1."""
    return _STANDARD_NORMAL.inv_cdf(probability)


def t_quantile(probability: float, df: float) -> float:
    """The ``probability`` quantile of Student's t distribution with ``df`` > 0 degrees of freedom
    (``scipy.stats.t.ppf``); ``probability`` strictly between 0 and 1."""
    if not 0.0 < probability < 1.0:
        raise ValueError(f"probability must be strictly between 0 and 1, got {probability}")
    if not df > 0.0:
        raise ValueError(f"degrees of freedom must be positive, got {df}")
    if probability == 0.5:
        return 0.0
    if df >= _LARGE_DF:
        return _cornish_fisher(normal_quantile(probability), df)
    tail = min(probability, 1.0 - probability)  # solve in the lower tail, where the quantile is negative
    if df == 1.0:  # Cauchy
        quantile = -1.0 / math.tan(math.pi * tail)
    elif df == 2.0:
        quantile = (2.0 * tail - 1.0) / math.sqrt(2.0 * tail * (1.0 - tail))
    else:
        quantile = _lower_tail_quantile(tail, df)
    return quantile if probability < 0.5 else -quantile


def _cornish_fisher(z: float, df: float) -> float:
    """The t quantile for large ``df`` from the normal one, ``z`` (Abramowitz and Stegun 26.7.5)."""
    z2 = z * z
    g1 = (z2 + 1.0) * z / 4.0
    g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0
    g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0
    g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0
    return z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df


def _lower_tail_quantile(tail: float, df: float) -> float:
    """The t with ``P(T <= t) = tail`` (< 0.5): Newton's method on the distribution function, each step kept
    inside a bracket that shrinks, from a start given by the normal quantile."""
    low, high = -1.0, 0.0
    while _t_lower_tail(low, df) > tail:  # push the bracket out until it holds the quantile
        high, low = low, low * 2.0
    guess = min(max(normal_quantile(tail), low), high)
    for _ in range(200):
        excess = _t_lower_tail(guess, df) - tail
        if excess > 0.0:
            high = guess
        else:
            low = guess
        step = excess / _t_density(guess, df)
        candidate = guess - step
        if not low < candidate < high:
            candidate = (low + high) / 2.0
        if abs(candidate - guess) <= _RELATIVE_TOLERANCE * abs(candidate) or high - low <= 1e-300:
            return candidate
        guess = candidate
    return guess


def _t_lower_tail(t: float, df: float) -> float:
    """``P(T <= t)`` for ``t <= 0``: half the regularized incomplete beta ``I_x(df/2, 1/2)``,
    ``x = df / (df + t^2)``."""
    square = t * t
    if square == 0.0:
        return 0.5
    a = df / 2.0
    x, one_minus_x = df / (df + square), square / (df + square)
    # x^a (1 - x)^(1/2) / B(a, 1/2), its logarithm written to keep its precision for large df
    log_front = -a * math.log1p(square / df) + 0.5 * math.log(one_minus_x) - _log_beta_half(a)
    return 0.5 * _regularized_beta(a, 0.5, x, one_minus_x, math.exp(log_front))


def _t_density(t: float, df: float) -> float:
    log_norm = -_log_beta_half(df / 2.0) - 0.5 * math.log(df)
    return math.exp(log_norm - (df + 1.0) / 2.0 * math.log1p(t * t / df))


def _log_beta_half(a: float) -> float:
    """``log B(a, 1/2)``. For large ``a`` the difference ``lgamma(a + 1/2) - lgamma(a)`` cancels most of its
    digits, so it comes from its asymptotic series instead (its first left-out term is below 1e-15 at a >= 20)."""
    if a < 20.0:
        return math.lgamma(a) + _LOG_GAMMA_HALF - math.lgamma(a + 0.5)
    inverse = 1.0 / a
    square = inverse * inverse
    log_ratio = 0.5 * math.log(a) - inverse * (
        1.0 / 8.0 - square * (1.0 / 192.0 - square * (1.0 / 640.0 - square * 17.0 / 14336.0))
    )
    return _LOG_GAMMA_HALF - log_ratio


_LOG_GAMMA_HALF = 0.5 * math.log(math.pi)


def _regularized_beta(a: float, b: float, x: float, one_minus_x: float, front: float) -> float:
    """``I_x(a, b)`` given ``front = x^a (1 - x)^b / B(a, b)``, with ``1 - x`` given separately so that it
    keeps its precision when ``x`` is near 1."""
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, one_minus_x) / b


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function, by the modified Lentz method."""
    tiny = 1e-300
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    fraction = d
    for m in range(1, 10_000):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            fraction *= d * c
        if abs(d * c - 1.0) < 1e-16:
            break
    return fraction
