"""Ranking from pairwise preferences: the Bradley-Terry model, on Chatbot Arena's Elo-like scale.

Bradley-Terry says item ``i`` beats item ``j`` with probability ``1 / (1 + 10^((R_j - R_i) / 400))``. The ratings
``R`` are fitted by maximum likelihood, with a tie counted as half a win for each side, and centred so that their
mean is 1000: the same figures as FastChat's ``compute_mle_elo`` (a logistic regression without intercept or
penalty, ``400 * coef + 1000``), computed here with Hunter's (2004) MM algorithm. Intervals come from a bootstrap
that resamples clusters (the cases, whose comparisons are correlated) with replacement.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable

import numpy as np
import numpy.typing as npt

from mendoza.stats._checks import as_count, check_confidence, cluster_index
from mendoza.stats._lazy import scipy_sparse, scipy_sparse_csgraph
from mendoza.stats.intervals import Interval

__all__ = ["ELO_BASE", "ELO_SCALE", "bradley_terry", "bradley_terry_intervals", "win_matrix"]

ELO_SCALE = 400.0
"""Rating points per factor of ``ELO_BASE`` in the odds of winning."""
ELO_BASE = 10.0
"""The base of the odds: a 400-point gap means 10:1 odds."""
_CENTRE = 1000.0
_FALLBACK_PRIOR = 0.5


def win_matrix(
    first: npt.ArrayLike, second: npt.ArrayLike, outcome: npt.ArrayLike, n_items: int
) -> npt.NDArray[np.float64]:
    """``W[i, j]``: how often item ``i`` beat item ``j``, from comparisons ``first[k]`` vs ``second[k]`` with
    ``outcome[k]`` 1 (first won), 0 (second won) or 0.5 (a tie: half a win each)."""
    size = as_count(n_items, "n_items")
    a = np.asarray(first, dtype=np.intp)
    b = np.asarray(second, dtype=np.intp)
    y = np.asarray(outcome, dtype=np.float64)
    if not (a.ndim == b.ndim == y.ndim == 1) or not (a.size == b.size == y.size):
        raise ValueError("first, second and outcome must be flat sequences of the same length")
    if a.size and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= size):
        raise ValueError(f"item indexes must lie in [0, {size})")
    if np.any(a == b):
        raise ValueError("an item cannot be compared with itself")
    if np.any((y < 0.0) | (y > 1.0)) or not np.all(np.isfinite(y)):
        raise ValueError("outcome must be 1 (first won), 0 (second won) or 0.5 (tie)")
    wins = np.zeros((size, size), dtype=np.float64)
    np.add.at(wins, (a, b), y)
    np.add.at(wins, (b, a), 1.0 - y)
    return wins


def _identifiable(wins: npt.NDArray[np.float64]) -> bool:
    """Finite ratings exist exactly when every item can reach every other through wins (strongly connected)."""
    graph = scipy_sparse.csr_matrix(wins > 0.0)
    count, _ = scipy_sparse_csgraph.connected_components(graph, directed=True, connection="strong")
    return bool(count == 1)


def _fit(wins: npt.NDArray[np.float64], tol: float, max_iter: int) -> npt.NDArray[np.float64]:
    """MM iterations for the log10 strengths (mean 0) of an identifiable win matrix."""
    games = wins + wins.T
    won = wins.sum(axis=1)
    strength = np.ones(wins.shape[0])
    for _ in range(max_iter):
        with np.errstate(divide="ignore", invalid="ignore"):
            rates = np.where(games > 0.0, games / (strength[:, None] + strength[None, :]), 0.0)
        updated = won / rates.sum(axis=1)
        updated /= math.exp(float(np.mean(np.log(updated))))
        change = float(np.max(np.abs(np.log(updated) - np.log(strength))))
        strength = updated
        if change < tol:
            break
    return np.log10(strength)


def bradley_terry(wins: npt.ArrayLike, prior: float = 0.0) -> npt.NDArray[np.float64]:
    """Bradley-Terry ratings (mean 1000, 400 points per 10x odds) from a win matrix (see :func:`win_matrix`).

    ``prior`` adds that many pseudo-ties to every pair that was compared, pulling ratings toward each other
    (0: the plain maximum-likelihood fit, the same as a logistic regression). Raises ``ValueError`` when no
    finite fit exists (an item won, or lost, every comparison, or the items fall apart into groups never
    compared) unless a positive ``prior`` makes one exist.
    """
    matrix = np.asarray(wins, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"wins must be a square matrix, got shape {matrix.shape}")
    if np.any(matrix < 0.0) or not np.all(np.isfinite(matrix)):
        raise ValueError("wins must be finite counts >= 0")
    if prior < 0.0 or not math.isfinite(prior):
        raise ValueError(f"prior must be a number >= 0, got {prior!r}")
    size = matrix.shape[0]
    if size == 0:
        return np.zeros(0)
    matrix = matrix.copy()
    np.fill_diagonal(matrix, 0.0)
    if prior > 0.0:
        compared = (matrix + matrix.T) > 0.0
        matrix = matrix + np.where(compared, prior / 2.0, 0.0)
    if size > 1 and not _identifiable(matrix):
        raise ValueError(
            "no finite Bradley-Terry ratings: an item won or lost every comparison, or some items were never "
            "compared with the rest (give a prior > 0 to regularise)"
        )
    return ELO_SCALE * _fit(matrix, 1e-12, 100_000) + _CENTRE


def bradley_terry_intervals(
    first: npt.ArrayLike,
    second: npt.ArrayLike,
    outcome: npt.ArrayLike,
    n_items: int,
    clusters: Iterable[Hashable] | None = None,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    prior: float = 0.0,
) -> list[Interval]:
    """Bradley-Terry ratings of ``n_items`` items with percentile bootstrap intervals.

    Comparisons are resampled by cluster (``clusters``: one label per comparison, e.g. the case; ``None``:
    each comparison alone), ``n_boot`` times, reproducibly from ``seed``. The estimates are the fit on all
    the data with ``prior``. A resample with no finite fit (an item that won every resampled comparison) is
    fitted with half a pseudo-tie per compared pair instead, which keeps its ratings finite and pulls them
    toward the others; items never compared get ``[nan, nan]``.
    """
    level = check_confidence(confidence)
    replicates_wanted = as_count(n_boot, "n_boot")
    wins = win_matrix(first, second, outcome, n_items)
    estimate = bradley_terry(wins, prior)
    a = np.asarray(first, dtype=np.intp)
    b = np.asarray(second, dtype=np.intp)
    y = np.asarray(outcome, dtype=np.float64)
    labels: Iterable[Hashable] = range(a.size) if clusters is None else clusters
    index, n_clusters = cluster_index(labels, int(a.size))
    if replicates_wanted == 0 or n_clusters == 0:
        return [Interval(float(value), math.nan, math.nan) for value in estimate]
    members = [np.flatnonzero(index == cluster) for cluster in range(n_clusters)]
    rng = np.random.default_rng(seed)
    replicates = np.full((replicates_wanted, wins.shape[0]), np.nan)
    for replicate in range(replicates_wanted):
        drawn = np.concatenate([members[c] for c in rng.integers(0, n_clusters, size=n_clusters)])
        resampled = win_matrix(a[drawn], b[drawn], y[drawn], n_items)
        present = (resampled + resampled.T).sum(axis=1) > 0.0
        sub = resampled[np.ix_(present, present)]
        try:
            ratings = bradley_terry(sub, prior)
        except ValueError:
            try:
                ratings = bradley_terry(sub, max(prior, _FALLBACK_PRIOR))
            except ValueError:
                continue  # the resample fell apart into groups never compared: no ranking from it
        replicates[replicate, present] = ratings
    tail = (1.0 - level) / 2.0 * 100.0
    intervals = []
    for item in range(wins.shape[0]):
        values = replicates[:, item]
        values = values[~np.isnan(values)]
        if values.size == 0:
            intervals.append(Interval(float(estimate[item]), math.nan, math.nan))
            continue
        low, high = np.percentile(values, [tail, 100.0 - tail])
        intervals.append(Interval(float(estimate[item]), float(low), float(high)))
    return intervals
