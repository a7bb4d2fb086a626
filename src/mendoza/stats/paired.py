"""Paired comparisons of two variants on the same cases.

Comparing two variants on the same cases removes the between-case variance from the comparison: the
question "is B better than A?" is answered from the per-case differences, not from two averages
(Miller 2024, section 4).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from mendoza.stats._checks import as_count, as_scores, check_confidence
from mendoza.stats._lazy import scipy_stats as _scipy_stats
from mendoza.stats.quantiles import t_quantile

__all__ = ["PairedDifference", "exact_paired_case_test", "paired_bootstrap_differences", "paired_difference"]


class PairedDifference(NamedTuple):
    """Mean of ``a - b`` over paired cases, its standard error, confidence interval and two-sided p-value."""

    difference: float
    se: float
    low: float
    high: float
    p_value: float
    n: int


def paired_difference(a: npt.ArrayLike, b: npt.ArrayLike, confidence: float = 0.95) -> PairedDifference:
    """Compare scores ``a`` and ``b`` paired by position (one entry per case, e.g. each case's pass rate).

    With ``d_i = a_i - b_i``: ``difference = mean(d)``, ``se = sd(d, ddof=1) / sqrt(n)``, the interval is
    ``difference ± t * se`` and ``p_value`` the two-sided paired t-test of "no difference", both with Student
    ``t`` at ``n - 1`` degrees of freedom.

    When every ``d_i`` is equal (``se == 0``) the interval collapses to the difference and ``p_value`` is 1.0
    if the difference is 0, else 0.0. With fewer than two pairs ``se``, the interval and ``p_value`` are nan
    (and the difference too when there are none). Raises ``ValueError`` if ``a`` and ``b`` differ in length.
    """
    level = check_confidence(confidence)
    first = as_scores(a, "a")
    second = as_scores(b, "b")
    if first.size != second.size:
        raise ValueError(f"a and b must be paired by case: got {first.size} and {second.size} scores")
    d = first - second
    n = int(d.size)
    if n == 0:
        return PairedDifference(math.nan, math.nan, math.nan, math.nan, math.nan, 0)
    difference = float(d.mean())
    if n < 2:
        return PairedDifference(difference, math.nan, math.nan, math.nan, math.nan, n)
    if np.all(d == d[0]):
        p_value = 1.0 if difference == 0.0 else 0.0
        return PairedDifference(difference, 0.0, difference, difference, p_value, n)
    se = float(d.std(ddof=1) / math.sqrt(n))
    critical = t_quantile(0.5 + level / 2.0, n - 1)
    p_value = float(2.0 * _scipy_stats.t.sf(abs(difference) / se, n - 1))
    return PairedDifference(
        difference, se, difference - critical * se, difference + critical * se, min(p_value, 1.0), n
    )


def exact_paired_case_test(a_passes: int, a_n: int, b_passes: int, b_n: int) -> float:
    """Two-sided Fisher exact p-value for one case: ``a_passes``/``a_n`` in A, ``b_passes``/``b_n`` in B.

    Use it to flag the cases whose pass rate changed between two variants or runs; correct for testing many
    cases with :func:`~mendoza.stats.multiple.benjamini_hochberg`. A side with no samples gives 1.0.
    """
    counts = []
    for passes, total, name in ((a_passes, a_n, "a"), (b_passes, b_n, "b")):
        x = as_count(passes, f"{name}_passes")
        m = as_count(total, f"{name}_n")
        if x > m:
            raise ValueError(f"{name}_passes ({x}) cannot exceed {name}_n ({m})")
        counts.append((x, m - x))
    return _fisher(counts[0][0], counts[0][1], counts[1][0], counts[1][1])


@functools.lru_cache(maxsize=65_536)
def _fisher(a_pass: int, a_fail: int, b_pass: int, b_fail: int) -> float:
    """Fisher's exact test of one 2x2 table, remembered: a history or a comparison of many cases meets the same
    small tables (3 of 3 against 0 of 3) again and again, and scipy takes about half a millisecond each."""
    table = [[a_pass, a_fail], [b_pass, b_fail]]
    return float(_scipy_stats.fisher_exact(table, alternative="two-sided").pvalue)


def paired_bootstrap_differences(
    per_case: npt.ArrayLike,
    baseline: int,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> list[tuple[float, float]]:
    """Percentile intervals of each row's mean minus the ``baseline`` row's mean, resampling *cases* (columns)
    with replacement, the same resample for every row: designs evaluated on the same cases are compared paired,
    and the correlation between one case's repeats stays inside its column. ``per_case[i, c]`` is row ``i``'s
    mean over case ``c``'s trials. Reproducible (``numpy.random.default_rng(seed)``)."""
    values = np.asarray(per_case, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] == 0:
        return [(math.nan, math.nan)] * (values.shape[0] if values.ndim == 2 else 0)
    level = check_confidence(confidence)
    cases = values.shape[1]
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, cases, size=(resamples, cases))
    differences = values - values[baseline]
    means = differences[:, picks].mean(axis=2)  # rows x resamples
    tail = (1.0 - level) / 2.0
    lows, highs = np.quantile(means, [tail, 1.0 - tail], axis=1)
    return [(float(low), float(high)) for low, high in zip(lows, highs, strict=True)]
