"""Standard errors of a mean score, plain and clustered by case, and the variance components behind them.

A run draws ``repeats`` samples of every case. Samples of the same case are correlated (an easy case
passes every time), so the plain standard error of the pooled mean understates the uncertainty; the clustered
standard error treats each case as one unit of information (Miller 2024, "Adding Error Bars to Evals").
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from mendoza.stats._checks import as_scores, cluster_index

__all__ = [
    "ClusteredSE",
    "MeanSE",
    "VarianceComponents",
    "clustered_stderr",
    "stderr",
    "variance_components",
]


class MeanSE(NamedTuple):
    """A mean with its standard error: ``se = sd(scores, ddof=1) / sqrt(n)``."""

    mean: float
    se: float
    n: int


class ClusteredSE(NamedTuple):
    """A mean with its cluster-robust standard error and, beside it, the naive (independent samples) one."""

    mean: float
    se: float
    naive_se: float
    n: int
    n_clusters: int


class VarianceComponents(NamedTuple):
    """How the variance of scores splits between cases and within a case.

    ``between`` (omega^2) is the variance of the true per-case means across cases, ``within`` (E[sigma^2]) the
    average variance of the repeats of one case, ``mean_repeats`` the average number of samples per case.
    """

    between: float
    within: float
    mean_repeats: float
    n_clusters: int


def stderr(scores: npt.ArrayLike) -> MeanSE:
    """Mean of ``scores`` and its standard error, treating samples as independent.

    The standard error is ``sqrt(sum((s_i - mean)^2) / (n (n - 1)))``. With no scores the mean is nan; with
    fewer than two the standard error is nan (it cannot be estimated).
    """
    values = as_scores(scores)
    n = int(values.size)
    if n == 0:
        return MeanSE(math.nan, math.nan, 0)
    mean = float(values.mean())
    se = float(values.std(ddof=1) / math.sqrt(n)) if n >= 2 else math.nan
    return MeanSE(mean, se, n)


def clustered_stderr(scores: npt.ArrayLike, clusters: Iterable[Hashable]) -> ClusteredSE:
    """Mean of ``scores`` with a standard error that is robust to correlation within clusters.

    ``clusters`` gives one hashable label per score (usually the case id). The standard error is
    ``sqrt(C/(C-1)) * sqrt(sum_c (sum_{i in c} (s_ic - mean))^2) / n`` with ``C`` clusters, the same figure as
    statsmodels' cluster-robust standard error of an intercept-only regression. It is nan with fewer than two
    clusters. ``naive_se`` is :func:`stderr`'s figure on the same scores.
    """
    values = as_scores(scores)
    n = int(values.size)
    index, n_clusters = cluster_index(clusters, n)
    naive = stderr(values)
    if n_clusters < 2:
        return ClusteredSE(naive.mean, math.nan, naive.se, n, n_clusters)
    residual_sums = np.bincount(index, weights=values - naive.mean, minlength=n_clusters)
    correction = math.sqrt(n_clusters / (n_clusters - 1))
    se = correction * math.sqrt(float(np.sum(residual_sums**2))) / n
    return ClusteredSE(naive.mean, se, naive.se, n, n_clusters)


def variance_components(scores: npt.ArrayLike, clusters: Iterable[Hashable]) -> VarianceComponents:
    """Split the variance of ``scores`` into between-case and within-case parts.

    ``within`` is the mean over cases with at least two samples of their sample variance (ddof=1), an
    unbiased estimate of E[sigma^2]. ``between`` is the variance of the case means (ddof=1) minus the part
    the repeats explain, ``within * mean(1 / repeats_c)``, floored at 0: unbiased (before flooring) for
    omega^2.
    ``within`` and ``between`` are nan when no case has two samples (the two parts cannot be told apart);
    ``between`` is also nan with fewer than two cases. These are the inputs of :mod:`mendoza.stats.power`.
    """
    values = as_scores(scores)
    n = int(values.size)
    index, n_clusters = cluster_index(clusters, n)
    if n_clusters == 0:
        return VarianceComponents(math.nan, math.nan, math.nan, 0)
    sizes = np.bincount(index, minlength=n_clusters).astype(np.float64)
    means = np.bincount(index, weights=values, minlength=n_clusters) / sizes
    squares = np.bincount(index, weights=(values - means[index]) ** 2, minlength=n_clusters)
    repeated = sizes >= 2
    mean_repeats = n / n_clusters
    if not np.any(repeated):
        return VarianceComponents(math.nan, math.nan, mean_repeats, n_clusters)
    within = float(np.mean(squares[repeated] / (sizes[repeated] - 1)))
    if n_clusters < 2:
        return VarianceComponents(math.nan, within, mean_repeats, n_clusters)
    between = float(np.var(means, ddof=1)) - within * float(np.mean(1.0 / sizes))
    return VarianceComponents(max(between, 0.0), within, mean_repeats, n_clusters)
