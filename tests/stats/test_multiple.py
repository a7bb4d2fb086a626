"""Benjamini-Hochberg."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mendoza.stats import benjamini_hochberg, bh_adjusted


def _fdr_bh(p_values: list[float]) -> list[float]:
    """statsmodels' ``multipletests(method="fdr_bh")`` adjusted p-values, written out."""
    p = np.asarray(p_values, dtype=float)
    m = p.size
    order = np.argsort(p)
    scaled = p[order] * m / np.arange(1, m + 1)
    monotone = np.minimum.accumulate(scaled[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(monotone, 1.0)
    return adjusted.tolist()


def test_worked_example() -> None:
    p = [0.01, 0.04, 0.03, 0.005, 0.2, 0.04]
    assert bh_adjusted(p) == pytest.approx([0.03, 0.048, 0.048, 0.03, 0.2, 0.048])
    assert benjamini_hochberg(p) == [True, True, True, True, False, True]
    assert benjamini_hochberg(p, q=0.04) == [True, False, False, True, False, False]


def test_edges() -> None:
    assert bh_adjusted([]) == [] and benjamini_hochberg([]) == []
    assert bh_adjusted([0.3]) == [0.3]
    assert bh_adjusted([0.9, 0.95]) == [0.95, 0.95]
    for bad in ([0.1, 1.2], [float("nan")], [-0.1]):
        with pytest.raises(ValueError):
            bh_adjusted(bad)
    with pytest.raises(ValueError):
        benjamini_hochberg([0.1], q=0.0)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=40), st.sampled_from([0.01, 0.05, 0.1, 0.2]))
def test_matches_fdr_bh_and_step_up_rule(p_values: list[float], q: float) -> None:
    adjusted = bh_adjusted(p_values)
    assert adjusted == pytest.approx(_fdr_bh(p_values), abs=1e-12)
    assert all(a >= p - 1e-15 for a, p in zip(adjusted, p_values, strict=True))
    ranked = sorted(p_values)
    m = len(ranked)
    passing = [i for i, p in enumerate(ranked, start=1) if p <= i * q / m]
    threshold = ranked[max(passing) - 1] if passing else -1.0
    assert benjamini_hochberg(p_values, q) == [p <= threshold for p in p_values]
