"""Planning: how many cases and repeats a question needs (Miller 2024, sections 3 and 5).

The variance of one case's mean score over ``K`` repeats is ``omega^2 + sigma^2 / K`` (between-case plus
within-case part, see :func:`~mendoza.stats.variance.variance_components`): more repeats shrink only the
second part, so past a few repeats only more cases help.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

from mendoza.stats._checks import as_count, check_confidence, check_probability
from mendoza.stats.quantiles import normal_quantile

__all__ = ["Design", "design_variance", "interval_halfwidth_design", "plan_designs", "sample_size"]

_MAX_CASES = 10**12
# Floating-point noise in (z + z)^2 * v / d^2 must not push an exact whole number up by one.
_CEIL_TOLERANCE = 1e-9


class Design(NamedTuple):
    """One way to run a comparison: ``cases`` cases with ``repeats`` samples each.

    ``samples`` is ``cases * repeats``, the samples *per variant* (a comparison of two costs twice that).
    """

    repeats: int
    cases: int
    samples: int


def _nonnegative(value: float, name: str) -> float:
    number = float(value)
    if not (math.isfinite(number) and number >= 0.0):
        raise ValueError(f"{name} must be a finite number at least 0, got {value!r}")
    return number


def _positive(value: float, name: str) -> float:
    number = float(value)
    if not (math.isfinite(number) and number > 0.0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return number


def _ceil_count(value: float) -> int:
    if value > _MAX_CASES:
        raise ValueError("the design needs more than 10^12 cases; ask for a larger effect or wider interval")
    return max(1, math.ceil(value - _CEIL_TOLERANCE))


def sample_size(delta: float, variance: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Number of cases needed to detect a true difference ``delta`` with a two-sided test at level ``alpha``.

    ``variance`` is the variance of one case's contribution (of the per-case difference, for a paired
    comparison). Returns ``ceil((z_{1-alpha/2} + z_{power})^2 * variance / delta^2)``, at least 1.
    """
    effect = _positive(abs(float(delta)), "delta")
    spread = _nonnegative(variance, "variance")
    z_alpha = normal_quantile(1.0 - check_probability(alpha, "alpha") / 2.0)
    z_power = normal_quantile(check_probability(power, "power"))
    return _ceil_count((z_alpha + z_power) ** 2 * spread / effect**2)


def design_variance(between: float, within: float, repeats: int) -> float:
    """Variance of one case's mean score over ``repeats`` samples: ``between + within / repeats``."""
    k = as_count(repeats, "repeats")
    if k < 1:
        raise ValueError("repeats must be at least 1")
    return _nonnegative(between, "between") + _nonnegative(within, "within") / k


def plan_designs(
    delta: float,
    between: float,
    within: float,
    alpha: float = 0.05,
    power: float = 0.8,
    repeats_options: Iterable[int] = (1, 2, 3, 5, 10, 20),
    paired: bool = True,
) -> list[Design]:
    """For each number of repeats, the cases needed to detect a difference ``delta`` between two variants.

    ``paired=True`` (both variants run on the same cases): ``between`` is the variance of the true per-case
    *differences* between the variants and ``within`` the within-case variance of one variant's samples,
    taken as equal for both; cases = ``(z + z)^2 * (between + 2 * within / K) / delta^2``.

    ``paired=False`` (each variant on its own cases): ``between`` is the variance of the true per-case pass
    rates; cases per variant = ``(z + z)^2 * 2 * (between + within / K) / delta^2``.

    Returns one :class:`Design` per entry of ``repeats_options``, in that order.
    """
    between_value = _nonnegative(between, "between")
    within_value = _nonnegative(within, "within")
    designs = []
    for option in repeats_options:
        k = as_count(option, "repeats")
        if k < 1:
            raise ValueError("every entry of repeats_options must be at least 1")
        if paired:
            variance = between_value + 2.0 * within_value / k
        else:
            variance = 2.0 * design_variance(between_value, within_value, k)
        cases = sample_size(delta, variance, alpha=alpha, power=power)
        designs.append(Design(repeats=k, cases=cases, samples=cases * k))
    return designs


def interval_halfwidth_design(
    target_halfwidth: float,
    between: float,
    within: float,
    repeats: int,
    confidence: float = 0.95,
) -> int:
    """Cases needed (``repeats`` samples each) for a pass-rate interval no wider than ``± target_halfwidth``.

    The smallest ``n`` with ``z * sqrt((between + within / repeats) / n) <= target_halfwidth`` (normal
    approximation; with few cases the reported ``t``-based interval is a little wider). At least 1.
    """
    half = _positive(target_halfwidth, "target_halfwidth")
    z = normal_quantile(0.5 + check_confidence(confidence) / 2.0)
    variance = design_variance(between, within, repeats)
    return _ceil_count(z * z * variance / half**2)
