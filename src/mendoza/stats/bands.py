"""Reliability bands: what product design a pass rate allows, and whether an interval decides the band.

========================  ============  ==============================================================
band                      pass rate     what the product should do
========================  ============  ==============================================================
below the Mendoza line    below 0.60    do not automate; use only as inspiration or internally
assistive                 0.60 - 0.90   human in the loop: a draft or suggestion a person edits
supervised                0.90 - 0.99   act, with guardrails, confirmation on risky steps, feedback capture
autonomous                0.99 and up   automate; monitor in production
========================  ============  ==============================================================

A rate exactly on an edge belongs to the higher band (0.90 is supervised). The band is *decided* only when the
whole confidence interval lies inside one band.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from typing import NamedTuple

from mendoza.stats._checks import as_count, check_confidence
from mendoza.stats.intervals import wilson_bounds
from mendoza.stats.quantiles import normal_quantile

__all__ = [
    "BAND_ADVICE",
    "BAND_NAMES",
    "DEFAULT_BAND_EDGES",
    "BandDecision",
    "band_of",
    "classify_band",
    "samples_to_decide",
]

BAND_NAMES: tuple[str, str, str, str] = ("below the Mendoza line", "assistive", "supervised", "autonomous")
"""The four bands, lowest first."""

DEFAULT_BAND_EDGES: tuple[float, float, float] = (0.60, 0.90, 0.99)
"""Pass rates at which each band above the lowest begins."""

BAND_ADVICE: dict[str, str] = {
    "below the Mendoza line": (
        "Do not automate it: use it only as inspiration or internally, where a person judges every output."
    ),
    "assistive": "Keep a human in the loop: show a draft or suggestion that a person reviews and edits.",
    "supervised": (
        "Let it act with guardrails: ask for confirmation on risky steps, capture feedback, and design a "
        "graceful failure state."
    ),
    "autonomous": "Automate it, and monitor it in production.",
}
"""One product-design sentence per band."""

# Largest number of further samples (or cases, when clustered) that samples_to_decide looks at.
_MAX_EXTRA = 10_000_000


class BandDecision(NamedTuple):
    """Where an interval ``[low, high]`` falls among the bands.

    ``decided`` is true when both ends lie in one band, which is then ``band`` (``between`` is None).
    Otherwise ``band`` is None and ``between`` is ``(low_band, high_band)``; the two may be non-adjacent when
    the interval is wide. ``low_band`` and ``high_band`` are always the bands of the two ends.
    """

    decided: bool
    band: str | None
    between: tuple[str, str] | None
    low_band: str
    high_band: str


def _check_edges(edges: Sequence[float]) -> tuple[float, ...]:
    values = tuple(float(edge) for edge in edges)
    if len(values) != len(BAND_NAMES) - 1:
        raise ValueError(f"band edges must be {len(BAND_NAMES) - 1} numbers (one per band above the lowest)")
    if not all(0.0 < edge <= 1.0 for edge in values) or any(a >= b for a, b in itertools.pairwise(values)):
        raise ValueError(f"band edges must increase strictly within (0, 1], got {values}")
    return values


def _check_rate(rate: float, name: str) -> float:
    value = float(rate)
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise ValueError(f"{name} must be a rate in [0, 1], got {rate!r}")
    return value


def band_of(p: float, edges: Sequence[float] = DEFAULT_BAND_EDGES) -> str:
    """Name of the band that pass rate ``p`` falls in; a rate exactly on an edge takes the higher band."""
    return BAND_NAMES[bisect.bisect_right(_check_edges(edges), _check_rate(p, "p"))]


def classify_band(low: float, high: float, edges: Sequence[float] = DEFAULT_BAND_EDGES) -> BandDecision:
    """Whether the interval ``[low, high]`` lies inside one band, and which band(s) it touches."""
    bounds = _check_edges(edges)
    low_value, high_value = _check_rate(low, "low"), _check_rate(high, "high")
    if low_value > high_value:
        raise ValueError(f"low ({low!r}) must not exceed high ({high!r})")
    low_band = BAND_NAMES[bisect.bisect_right(bounds, low_value)]
    high_band = BAND_NAMES[bisect.bisect_right(bounds, high_value)]
    if low_band == high_band:
        return BandDecision(True, low_band, None, low_band, high_band)
    return BandDecision(False, None, (low_band, high_band), low_band, high_band)


def samples_to_decide(
    successes: int,
    n: int,
    edges: Sequence[float] = DEFAULT_BAND_EDGES,
    confidence: float = 0.95,
    n_clusters: int | None = None,
    repeats: int | None = None,
) -> int | None:
    """How many further samples would likely decide the band, if the observed pass rate held.

    Projects the Wilson interval at the fixed rate ``successes / n`` with more trials and returns the smallest
    number of extra samples for which it lies inside one band: 0 if it already does. Returns None when it
    cannot be decided: no samples yet, the rate sits exactly on an edge, or it would take more than 10 million
    extra samples (or cases).

    Clustered runs: give ``n_clusters`` (the number of cases behind the ``n`` samples) and optionally
    ``repeats`` (samples per new case; default ``round(n / n_clusters)``). Then each case counts as one trial,
    as if its repeats always agreed, so the current data are worth ``n_clusters`` trials and more samples
    arrive as whole new cases; the answer is ``extra_cases * repeats``. This is conservative (an upper bound):
    repeats that disagree carry more information than that.
    """
    x = as_count(successes, "successes")
    total = as_count(n, "n")
    if x > total:
        raise ValueError(f"successes ({x}) cannot exceed n ({total})")
    bounds = _check_edges(edges)
    z = normal_quantile(0.5 + check_confidence(confidence) / 2.0)
    if total == 0:
        return None
    trials, unit = float(total), 1
    if n_clusters is not None:
        cases = as_count(n_clusters, "n_clusters")
        if not 1 <= cases <= total:
            raise ValueError(f"n_clusters must be between 1 and n ({total}), got {cases}")
        unit = max(1, round(total / cases)) if repeats is None else as_count(repeats, "repeats")
        if unit < 1:
            raise ValueError("repeats must be at least 1")
        trials = float(cases)
    elif repeats is not None:
        raise ValueError("repeats only applies together with n_clusters")
    rate = x / total
    if any(math.isclose(rate, edge, rel_tol=0.0, abs_tol=1e-12) for edge in bounds):
        return None

    def decided(extra: int) -> bool:
        return classify_band(*wilson_bounds(rate, trials + extra, z), edges=bounds).decided

    if decided(0):
        return 0
    if not decided(_MAX_EXTRA):
        return None
    # The Wilson interval at a fixed rate shrinks towards the rate as trials grow, so "decided" is monotone.
    undecided, enough = 0, 1
    while not decided(enough):
        undecided, enough = enough, enough * 2
    enough = min(enough, _MAX_EXTRA)
    while enough - undecided > 1:
        middle = (undecided + enough) // 2
        if decided(middle):
            enough = middle
        else:
            undecided = middle
    return enough * unit
