"""Confidence intervals for a pass rate: Wilson and Clopper-Pearson on counts, and the run-level interval.

The run-level interval (:func:`mean_interval`) is the one a report shows: it accounts for the repeats of a
case being correlated, so it stays honest when a run draws several samples of each case.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Hashable, Iterable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from mendoza.stats._checks import as_count, as_scores, check_confidence
from mendoza.stats._lazy import scipy_stats as _scipy_stats
from mendoza.stats.quantiles import normal_quantile, t_quantile
from mendoza.stats.variance import clustered_stderr

__all__ = ["Interval", "clopper_pearson_interval", "mean_interval", "wilson_bounds", "wilson_interval"]


# A clustered standard error below this is floating-point noise around 0 (e.g. every case passed 1 of 3).
_ZERO_SE = 1e-12


class Interval(NamedTuple):
    """A point estimate with the two ends of its confidence interval."""

    estimate: float
    low: float
    high: float


def _check_counts(successes: int, n: int) -> tuple[int, int]:
    x = as_count(successes, "successes")
    total = as_count(n, "n")
    if x > total:
        raise ValueError(f"successes ({x}) cannot exceed n ({total})")
    return x, total


@functools.lru_cache(maxsize=64)
def _two_sided_z(confidence: float) -> float:
    return normal_quantile(0.5 + check_confidence(confidence) / 2.0)


def wilson_bounds(rate: float, n: float, critical: float) -> tuple[float, float]:
    """Ends of the Wilson score interval for an observed ``rate`` over ``n`` (possibly fractional) trials.

    ``critical`` is the two-sided quantile (``z`` for a 95% interval: 1.959964). ``n`` must be positive.
    Used directly where the interval is projected at a fixed rate or an effective sample size.
    """
    if not n > 0:
        raise ValueError(f"n must be positive, got {n!r}")
    p = min(max(float(rate), 0.0), 1.0)
    z2 = critical * critical
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denominator
    half = critical * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denominator
    low = 0.0 if p == 0.0 else max(0.0, min(centre - half, p))
    high = 1.0 if p == 1.0 else min(1.0, max(centre + half, p))
    return low, high


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval for ``successes`` out of ``n`` independent trials.

    ``estimate`` is ``successes / n``. With ``n == 0`` the estimate is nan and the interval is ``[0, 1]``.
    """
    x, total = _check_counts(successes, n)
    z = _two_sided_z(confidence)
    if total == 0:
        return Interval(math.nan, 0.0, 1.0)
    low, high = wilson_bounds(x / total, total, z)
    return Interval(x / total, low, high)


def clopper_pearson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """Clopper-Pearson ("exact") interval for ``successes`` out of ``n`` independent trials.

    Conservative: it covers at least ``confidence`` for every true rate. The low end is 0 when
    ``successes == 0`` and the high end is 1 when ``successes == n``. ``n == 0`` gives nan and ``[0, 1]``.
    """
    x, total = _check_counts(successes, n)
    alpha = 1.0 - check_confidence(confidence)
    if total == 0:
        return Interval(math.nan, 0.0, 1.0)
    low = 0.0 if x == 0 else float(_scipy_stats.beta.ppf(alpha / 2.0, x, total - x + 1))
    high = 1.0 if x == total else float(_scipy_stats.beta.ppf(1.0 - alpha / 2.0, x + 1, total - x))
    return Interval(x / total, low, high)


def mean_interval(
    scores: npt.ArrayLike,
    clusters: Iterable[Hashable] | None = None,
    confidence: float = 0.95,
) -> Interval:
    """Run-level confidence interval for a mean pass rate, with repeats clustered by case.

    ``scores`` are per-sample scores in ``[0, 1]`` (1/0 for pass/fail); ``clusters`` gives each sample's
    case (``None``: every sample is its own case). ``estimate`` is the plain mean of the scores.

    The interval is a Wilson score interval on an *effective sample size*. With ``C`` clusters, clustered
    standard error ``SE`` (:func:`~mendoza.stats.variance.clustered_stderr`) and mean ``p`` it uses
    ``n_eff = p (1 - p) / SE^2``, the number of independent pass/fail samples that would be as informative
    (Kish's design effect), and the two-sided Student ``t`` quantile with ``C - 1`` degrees of freedom in
    place of ``z``. For 0/1 scores ``n_eff`` is capped at the number of samples (no design beats independent
    samples). Where ``n_eff`` is large this is ``p ± t * SE``; near 0 and 1 it stays inside ``[0, 1]`` and
    is asymmetric like Wilson's, which keeps coverage near nominal with tens of cases even at pass rates of
    0.9-0.99, where a symmetric ``p ± t * SE`` under-covers.

    Degenerate cases, chosen to stay honest rather than precise:

    * ``SE == 0`` (every sample passed, or every case has the same mean): ``n_eff = C``, each case counting
      as one trial, as if its repeats always agreed. All-pass 40 cases x 5 repeats gives ``[0.907, 1]``.
    * fewer than two clusters: the spread between cases cannot be estimated; the interval is ``[0, 1]``.
    * no scores: estimate nan, interval ``[0, 1]``.
    """
    level = check_confidence(confidence)
    values = as_scores(scores)
    if np.any((values < 0.0) | (values > 1.0)):
        raise ValueError("scores must lie in [0, 1] for a pass-rate interval")
    n = int(values.size)
    labels: Iterable[Hashable] = range(n) if clusters is None else clusters
    clustered = clustered_stderr(values, labels)
    if n == 0:
        return Interval(math.nan, 0.0, 1.0)
    mean = min(max(clustered.mean, 0.0), 1.0)
    if clustered.n_clusters < 2:
        return Interval(clustered.mean, 0.0, 1.0)
    critical = t_quantile(0.5 + level / 2.0, clustered.n_clusters - 1)
    effective_n = float(clustered.n_clusters)
    if clustered.se > _ZERO_SE and 0.0 < mean < 1.0:
        effective_n = mean * (1.0 - mean) / clustered.se**2
        if np.all((values == 0.0) | (values == 1.0)):
            effective_n = min(effective_n, float(n))
    low, high = wilson_bounds(mean, effective_n, critical)
    return Interval(clustered.mean, low, high)
