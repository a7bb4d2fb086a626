"""Item analysis: how well one case (an "item", in test theory's words) separates stronger variants from weaker
ones, and a small subset of cases whose pass rate tracks the whole suite's.

The matrices here are cases x units: a unit is whoever took the test (a variant of a run, or a (run, variant)
pair); ``passes[c, u]`` and ``graded[c, u]`` count unit ``u``'s samples of case ``c`` that passed and that
counted (0 and 0 where the unit has no sample of the case).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from mendoza.stats._checks import as_count, as_scores
from mendoza.stats._lazy import scipy_stats as _scipy_stats

__all__ = [
    "item_discrimination",
    "noise_floor",
    "point_biserial",
    "pooled_rates",
    "random_subsets",
    "stratified_subset",
]

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]


def point_biserial(outcomes: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """The point-biserial correlation between binary ``outcomes`` (1 pass, 0 fail) and ``scores``
    (``scipy.stats.pointbiserialr``): near 1 when the high scores go with the passes. nan when it is undefined:
    fewer than two pairs, or either side constant."""
    x = as_scores(outcomes, "outcomes")
    y = as_scores(scores)
    if x.size != y.size:
        raise ValueError(f"outcomes and scores must pair up: got {x.size} outcomes and {y.size} scores")
    if np.any((x != 0.0) & (x != 1.0)):
        raise ValueError("outcomes must be 0 or 1")
    if x.size < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    return float(_scipy_stats.pointbiserialr(x, y).statistic)


def _counts(passes: npt.ArrayLike, graded: npt.ArrayLike) -> tuple[IntArray, IntArray]:
    p = np.asarray(passes)
    g = np.asarray(graded)
    if p.ndim != 2 or p.shape != g.shape:
        raise ValueError(f"passes and graded must be two matrices of one shape, got {p.shape} and {g.shape}")
    if p.size and (not np.all(np.mod(p, 1) == 0) or not np.all(np.mod(g, 1) == 0)):
        raise ValueError("passes and graded must be whole numbers")
    p, g = p.astype(np.intp), g.astype(np.intp)
    if np.any(p < 0) or np.any(p > g):
        raise ValueError("passes must lie between 0 and graded")
    return p, g


def item_discrimination(passes: npt.ArrayLike, graded: npt.ArrayLike) -> FloatArray:
    """Per case (row), the corrected item-total point-biserial correlation: between each counted sample of the
    case passing and its unit's pass rate on the *other* cases (so the case does not count in the rate it is
    compared with). One value per case; nan where undefined (the case always passes or always fails, or every
    unit that took it has the same rate on the rest).

    A point-biserial correlation is Pearson's r with one binary side (``scipy.stats.pointbiserialr`` is
    ``pearsonr``): the cases whose samples are as many are computed in one ``pearsonr(..., axis=1)`` call
    (SciPy 1.13 and later; one ``point_biserial`` per case before)."""
    p, g = _counts(passes, graded)
    total_p, total_g = p.sum(axis=0), g.sum(axis=0)
    rest_g = total_g[None, :] - g
    took = (g > 0) & (rest_g > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rest = np.where(took, (total_p[None, :] - p) / np.maximum(rest_g, 1), 0.0)
    wins = np.where(took, p, 0)
    losses = np.where(took, g - p, 0)
    lengths = (wins + losses).sum(axis=1)
    found = np.full(p.shape[0], np.nan)
    for length in np.unique(lengths):
        rows = np.flatnonzero(lengths == length)
        if length < 2:
            continue
        outcomes = np.empty((rows.size, int(length)))
        scores = np.empty_like(outcomes)
        for slot, case in enumerate(rows):
            outcomes[slot] = np.concatenate([np.ones(int(wins[case].sum())), np.zeros(int(losses[case].sum()))])
            scores[slot] = np.concatenate([np.repeat(rest[case], wins[case]), np.repeat(rest[case], losses[case])])
        defined = np.ptp(outcomes, axis=1) > 0
        defined &= np.ptp(scores, axis=1) > 0
        if not np.any(defined):
            continue
        try:
            values = _scipy_stats.pearsonr(outcomes[defined], scores[defined], axis=1).statistic
        except TypeError:  # SciPy before 1.13: no axis
            values = [point_biserial(x, y) for x, y in zip(outcomes[defined], scores[defined], strict=True)]
        found[rows[defined]] = values
    return found


def pooled_rates(passes: npt.ArrayLike, graded: npt.ArrayLike, rows: npt.ArrayLike | None = None) -> FloatArray:
    """Per unit (column), passed over counted samples of the cases in ``rows`` (every case when None): the
    pass rate a run of just those cases would report. nan for a unit with nothing counted there.
    ``rows`` may also be a matrix of row indices (one subset per row): the result is then one row per subset."""
    p, g = _counts(passes, graded)
    if rows is not None:
        index = np.asarray(rows, dtype=np.intp)
        p, g = p[index], g[index]
    summed_p, summed_g = p.sum(axis=-2), g.sum(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(summed_g > 0, summed_p / np.maximum(summed_g, 1), np.nan)


def noise_floor(passes: npt.ArrayLike, graded: npt.ArrayLike, k: int) -> FloatArray:
    """Per unit (column), the mean absolute error that the samples' own noise alone gives the pass rate of ``k``
    of these cases against all of them, for a subset with exactly the suite's mix of cases: no choice of cases
    does better on average. With ``n`` cases and case rates measured with variance ``v_c`` (estimated without
    bias as ``p(1 - p) / (g - 1)`` from ``g`` samples), the error's variance is ``mean(v) (1/k - 1/n)``, and a
    normal error's mean absolute value is ``sqrt(2/pi)`` times its standard deviation. nan for a unit with no
    case counted twice or more."""
    p, g = _counts(passes, graded)
    size = as_count(k, "k")
    n = p.shape[0]
    if not 1 <= size <= n:
        raise ValueError(f"k must be between 1 and the number of cases ({n}), got {size}")
    twice = g >= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = p / np.maximum(g, 1)
        variance = np.where(twice, rate * (1.0 - rate) / np.maximum(g - 1, 1), np.nan)
    found = np.full(p.shape[1], np.nan)
    for column in range(p.shape[1]):
        values = variance[:, column][twice[:, column]]
        if values.size:
            found[column] = math.sqrt(2.0 / math.pi) * math.sqrt(float(values.mean()) * (1.0 / size - 1.0 / n))
    return found


def random_subsets(n: int, k: int, draws: int, seed: int) -> IntArray:
    """``draws`` subsets of ``k`` of ``n`` cases drawn uniformly without replacement (numpy's
    ``default_rng(seed)``): one row of row indices per draw."""
    total, size, count = as_count(n, "n"), as_count(k, "k"), as_count(draws, "draws")
    if not 1 <= size <= total:
        raise ValueError(f"k must be between 1 and n ({total}), got {size}")
    rng = np.random.default_rng(seed)
    return np.array([rng.choice(total, size, replace=False) for _ in range(count)], dtype=np.intp).reshape(
        count, size
    )


def stratified_subset(
    difficulty: npt.ArrayLike,
    discrimination: npt.ArrayLike,
    k: int,
    *,
    profiles: npt.ArrayLike | None = None,
    per_stratum: int = 2,
) -> IntArray:
    """``k`` of the cases, chosen so that a run of just those cases reports about the pass rate of all of them,
    for every unit: the row indices, sorted.

    The cases are ordered by ``difficulty`` (their pass rate) and cut into ``k / per_stratum`` difficulty
    strata of equal size; within a stratum they are ordered by ``discrimination`` (nan, undefined, as the
    lowest), in alternate directions from one stratum to the next so that neighbours across a stratum's edge
    stay alike. That order is cut into ``k`` groups of equal size (systematic sampling: each group holds
    ``n / k`` cases, so the subset keeps the suite's mix of difficulty and discrimination), and from each group
    the case whose ``profiles`` row (its pass rate per unit; by default its difficulty) is closest to the
    group's mean is chosen, ties to the lower index. Deterministic: no seed.
    """
    level = as_scores(difficulty, "difficulty")
    spread = np.asarray(discrimination, dtype=np.float64)
    n = level.size
    size = as_count(k, "k")
    if spread.shape != (n,):
        raise ValueError(f"discrimination must have one value per case ({n}), got shape {spread.shape}")
    if not 1 <= size <= n:
        raise ValueError(f"k must be between 1 and the number of cases ({n}), got {size}")
    shape = np.asarray(level if profiles is None else profiles, dtype=np.float64)
    shape = shape.reshape(n, -1)
    if not np.all(np.isfinite(shape)):
        raise ValueError("profiles must be finite numbers (fill a missing rate first)")
    index = np.arange(n)
    rank = np.empty(n, dtype=np.intp)
    rank[np.lexsort((index, level))] = index
    strata = max(1, size // max(1, per_stratum))
    stratum = rank * strata // n
    key = np.where(np.isfinite(spread), spread, -np.inf)
    key = np.where(stratum % 2 == 0, key, -key)
    order = np.lexsort((index, level, key, stratum))
    chosen = []
    for group in np.array_split(order, size):
        members = shape[group]
        distance = ((members - members.mean(axis=0)) ** 2).sum(axis=1)
        best = np.flatnonzero(distance <= distance.min() + 1e-12)
        chosen.append(int(group[best].min()))
    return np.sort(np.array(chosen, dtype=np.intp))
