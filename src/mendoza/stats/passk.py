"""pass@k and pass^k: the chance that at least one, or all, of k tries succeed, estimated from n tries.

Both are unbiased estimators from ``c`` successes in ``n`` samples of one case: pass@k (Chen et al. 2021,
HumanEval) asks "does any of k tries succeed?", pass^k (Yao et al. 2024, tau-bench) asks "do all k succeed?".
Average them over cases for a run-level figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mendoza.stats._checks import as_count, check_confidence

__all__ = ["bootstrap_mean_interval", "bootstrap_mean_intervals", "pass_at_k", "pass_hat_k"]


def _check(n: int, c: int, k: int) -> tuple[int, int, int]:
    total = as_count(n, "n")
    passed = as_count(c, "c")
    tries = as_count(k, "k")
    if passed > total:
        raise ValueError(f"c ({passed}) cannot exceed n ({total})")
    if tries < 1:
        raise ValueError(f"k must be at least 1, got {tries}")
    if tries > total:
        raise ValueError(f"k ({tries}) cannot exceed the number of samples n ({total}); draw more samples")
    return total, passed, tries


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of pass@k, ``1 - C(n-c, k) / C(n, k)``, from ``c`` passes in ``n`` samples.

    It is 1 when ``n - c < k`` (every draw of k contains a pass). Raises ``ValueError`` unless
    ``1 <= k <= n`` and ``0 <= c <= n``.
    """
    total, passed, tries = _check(n, c, k)
    if total - passed < tries:
        return 1.0
    steps = np.arange(total - passed + 1, total + 1, dtype=np.float64)
    return float(1.0 - np.prod(1.0 - tries / steps))


def pass_hat_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of pass^k, ``C(c, k) / C(n, k)``, from ``c`` passes in ``n`` samples.

    It is 0 when ``c < k``. Raises ``ValueError`` unless ``1 <= k <= n`` and ``0 <= c <= n``.
    """
    total, passed, tries = _check(n, c, k)
    if passed < tries:
        return 0.0
    offsets = np.arange(tries, dtype=np.float64)
    return float(np.prod((passed - offsets) / (total - offsets)))


def bootstrap_mean_interval(
    values: Sequence[float],
    weights: Sequence[int],
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of a mean over cases, resampling cases with replacement.

    ``values[i]`` is the value shared by ``weights[i]`` cases (cases with the same (n, c) have the same pass@k),
    so a resample is a multinomial draw of how many times each group is picked: memory does not grow with the
    number of cases. Reproducible (``numpy.random.default_rng(seed)``). Returns ``(nan, nan)`` without cases.
    """
    return bootstrap_mean_intervals([values], weights, confidence, resamples, seed)[0]


def bootstrap_mean_intervals(
    columns: Sequence[Sequence[float]],
    weights: Sequence[int],
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> list[tuple[float, float]]:
    """``bootstrap_mean_interval`` of each column of values over the same groups of cases, from the same
    resamples: the cases are drawn once (the costly part: a multinomial draw per resample) and every column's
    mean is taken over each draw, as a bootstrap of several statistics of one sample should."""
    counts = np.asarray(weights, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return [(math.nan, math.nan) for _ in columns]
    tail = (1.0 - check_confidence(confidence)) / 2.0
    points = np.asarray(columns, dtype=np.float64).reshape(len(columns), len(counts)).T
    rng = np.random.default_rng(seed)
    drawn = rng.multinomial(total, counts / total, size=resamples)
    means = drawn @ points / total
    lows, highs = np.quantile(means, [tail, 1.0 - tail], axis=0)
    return [(float(low), float(high)) for low, high in zip(lows, highs, strict=True)]
