"""Agreement between two graders on the same samples (e.g. a judge model and a human): Cohen's kappa.

Kappa is the agreement beyond what the two graders' label frequencies give by chance: 1 is perfect agreement,
0 is chance level. It tells whether a judge model can stand in for a person.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from mendoza.stats._checks import as_count, check_confidence
from mendoza.stats.intervals import Interval

__all__ = ["KappaWeights", "cohen_kappa", "cohen_kappa_interval"]

KappaWeights = Literal["linear", "quadratic"] | None
"""Disagreement weights: ``None`` (all alike), ``"linear"`` (``|i-j|``) or ``"quadratic"`` (``(i-j)^2``)."""

# Bootstrap replicates are computed in blocks of about this many resampled labels to bound memory.
_BLOCK = 4_000_000


def _codes(
    a: Sequence[Hashable], b: Sequence[Hashable], weights: KappaWeights
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """Label codes for ``a`` and ``b`` over the sorted union of labels, and the disagreement weights."""
    if weights not in (None, "linear", "quadratic"):
        raise ValueError(f"weights must be None, 'linear' or 'quadratic', got {weights!r}")
    first, second = list(a), list(b)
    if len(first) != len(second):
        raise ValueError(f"a and b must label the same items: got {len(first)} and {len(second)} labels")
    labels: list[Any] = list(dict.fromkeys(first + second))
    try:
        labels = sorted(labels)
    except TypeError:
        if weights is not None:
            raise ValueError("weighted kappa needs labels that can be ordered (numbers or strings)") from None
    position = {label: i for i, label in enumerate(labels)}
    codes_a = np.fromiter((position[label] for label in first), dtype=np.intp, count=len(first))
    codes_b = np.fromiter((position[label] for label in second), dtype=np.intp, count=len(second))
    grid = np.arange(len(labels), dtype=np.float64)
    distance = np.abs(grid[:, None] - grid[None, :])
    if weights is None:
        disagreement = (distance > 0).astype(np.float64)
    elif weights == "linear":
        disagreement = distance
    else:
        disagreement = distance**2
    return codes_a, codes_b, disagreement


def _kappa_from_tables(tables: npt.NDArray[np.float64], disagreement: npt.NDArray[np.float64]) -> Any:
    """Kappa for each table in ``tables`` (shape ``(m, k, k)``); nan where chance agreement is 1."""
    totals = tables.sum(axis=(1, 2))
    observed = tables / totals[:, None, None]
    expected = observed.sum(axis=2)[:, :, None] * observed.sum(axis=1)[:, None, :]
    numerator = np.sum(disagreement * observed, axis=(1, 2))
    denominator = np.sum(disagreement * expected, axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0.0, 1.0 - numerator / denominator, np.nan)


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable], weights: KappaWeights = None) -> float:
    """Cohen's kappa between two graders' labels ``a`` and ``b`` of the same items.

    Categories are the sorted union of the labels (their order matters only for weighted kappa). The result
    is ``1 - sum(w * observed) / sum(w * expected)``, which is ``(p_o - p_e) / (1 - p_e)`` without weights.
    It is nan when it is undefined: no items, or both graders always give the one same label.
    """
    codes_a, codes_b, disagreement = _codes(a, b, weights)
    if codes_a.size == 0:
        return math.nan
    k = disagreement.shape[0]
    table = np.bincount(codes_a * k + codes_b, minlength=k * k).reshape(1, k, k).astype(np.float64)
    return float(_kappa_from_tables(table, disagreement)[0])


def cohen_kappa_interval(
    a: Sequence[Hashable],
    b: Sequence[Hashable],
    weights: KappaWeights = None,
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> Interval:
    """Cohen's kappa with a percentile bootstrap confidence interval (items resampled with replacement).

    Reproducible: the resampling uses ``numpy.random.default_rng(seed)``. Resamples in which kappa is
    undefined are left out. ``estimate`` is :func:`cohen_kappa` on the data; when it is nan (or no resample
    gives a kappa) the interval is ``[nan, nan]``.
    """
    level = check_confidence(confidence)
    replicates_wanted = as_count(n_boot, "n_boot")
    if replicates_wanted < 1:
        raise ValueError("n_boot must be at least 1")
    codes_a, codes_b, disagreement = _codes(a, b, weights)
    n = int(codes_a.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan)
    k = disagreement.shape[0]
    pair_codes = codes_a * k + codes_b
    table = np.bincount(pair_codes, minlength=k * k).reshape(1, k, k).astype(np.float64)
    estimate = float(_kappa_from_tables(table, disagreement)[0])
    if math.isnan(estimate):
        return Interval(math.nan, math.nan, math.nan)
    rng = np.random.default_rng(seed)
    block = max(1, _BLOCK // n)
    replicates: list[npt.NDArray[np.float64]] = []
    for start in range(0, replicates_wanted, block):
        m = min(block, replicates_wanted - start)
        drawn = pair_codes[rng.integers(0, n, size=(m, n))]
        flat = drawn + (np.arange(m, dtype=np.intp) * k * k)[:, None]
        tables = np.bincount(flat.ravel(), minlength=m * k * k).reshape(m, k, k).astype(np.float64)
        replicates.append(np.asarray(_kappa_from_tables(tables, disagreement), dtype=np.float64))
    values = np.concatenate(replicates)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return Interval(estimate, math.nan, math.nan)
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return Interval(estimate, float(low), float(high))
