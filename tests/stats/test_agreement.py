"""Cohen's kappa and its bootstrap interval."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mendoza.stats import cohen_kappa, cohen_kappa_interval

HUMAN = [1, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1]
JUDGE = [1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 0, 1, 1]


def _textbook_kappa(a: Sequence[int], b: Sequence[int], weights: str | None) -> float:
    labels = sorted(set(a) | set(b))
    n, k = len(a), len(labels)
    observed = [[0.0] * k for _ in range(k)]
    for x, y in zip(a, b, strict=True):
        observed[labels.index(x)][labels.index(y)] += 1 / n
    rows = [sum(observed[i]) for i in range(k)]
    cols = [sum(observed[i][j] for i in range(k)) for j in range(k)]

    def weight(i: int, j: int) -> float:
        if weights is None:
            return float(i != j)
        return float(abs(i - j) if weights == "linear" else (i - j) ** 2)

    pairs = list(itertools.product(range(k), repeat=2))
    disagreement = sum(weight(i, j) * observed[i][j] for i, j in pairs)
    chance = sum(weight(i, j) * rows[i] * cols[j] for i, j in pairs)
    return 1 - disagreement / chance


def test_reference_vector() -> None:
    assert cohen_kappa(HUMAN, JUDGE) == pytest.approx(0.560440, abs=1e-6)
    # With two categories every weighting is the same.
    assert cohen_kappa(HUMAN, JUDGE, "linear") == pytest.approx(0.560440, abs=1e-6)
    assert cohen_kappa(HUMAN, JUDGE, "quadratic") == pytest.approx(0.560440, abs=1e-6)


def test_labels_may_be_strings() -> None:
    a = ["pass" if x else "fail" for x in HUMAN]
    b = ["pass" if x else "fail" for x in JUDGE]
    assert cohen_kappa(a, b) == pytest.approx(0.560440, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=2, max_size=40),
    st.sampled_from([None, "linear", "quadratic"]),
)
def test_matches_textbook_formula(pairs: list[tuple[int, int]], weights: str | None) -> None:
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    if len(set(a)) == 1 and set(a) == set(b):
        assert math.isnan(cohen_kappa(a, b, weights))  # type: ignore[arg-type]
        return
    expected = _textbook_kappa(a, b, weights)
    assert cohen_kappa(a, b, weights) == pytest.approx(expected, abs=1e-9)  # type: ignore[arg-type]


def test_edges() -> None:
    assert cohen_kappa([0, 1, 2, 1], [0, 1, 2, 1]) == pytest.approx(1.0)
    assert math.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))
    assert math.isnan(cohen_kappa([], []))
    assert cohen_kappa([1, "x", 1, "x"], [1, "x", "x", "x"]) == pytest.approx(0.5)  # unordered labels: fine
    with pytest.raises(ValueError):
        cohen_kappa([1, "x"], [1, "x"], "linear")  # weights need ordered labels
    with pytest.raises(ValueError):
        cohen_kappa([1, 0], [1])
    with pytest.raises(ValueError):
        cohen_kappa([1, 0], [1, 0], "cubic")  # type: ignore[arg-type]


def test_bootstrap_interval_is_reproducible_and_sensible() -> None:
    interval = cohen_kappa_interval(HUMAN, JUDGE)
    assert interval.estimate == pytest.approx(0.560440, abs=1e-6)
    assert -1.0 <= interval.low < interval.estimate < interval.high <= 1.0
    assert cohen_kappa_interval(HUMAN, JUDGE) == interval
    assert cohen_kappa_interval(HUMAN, JUDGE, seed=1) != interval
    narrower = cohen_kappa_interval(HUMAN, JUDGE, confidence=0.5)
    assert interval.low < narrower.low and narrower.high < interval.high


def test_bootstrap_matches_a_plain_loop() -> None:
    n_boot, seed = 50, 9
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(HUMAN), size=(n_boot, len(HUMAN)))
    values = [cohen_kappa([HUMAN[i] for i in row], [JUDGE[i] for i in row]) for row in draws]
    values = [v for v in values if not math.isnan(v)]
    expected = np.percentile(values, [2.5, 97.5])
    interval = cohen_kappa_interval(HUMAN, JUDGE, n_boot=n_boot, seed=seed)
    assert (interval.low, interval.high) == pytest.approx(tuple(expected), abs=1e-12)


def test_bootstrap_narrows_with_more_items() -> None:
    small = cohen_kappa_interval(HUMAN, JUDGE, n_boot=500)
    large = cohen_kappa_interval(HUMAN * 10, JUDGE * 10, n_boot=500)
    assert large.high - large.low < (small.high - small.low) / 2


def test_bootstrap_degenerate() -> None:
    interval = cohen_kappa_interval([1, 1, 1], [1, 1, 1])
    assert all(math.isnan(x) for x in interval)
    with pytest.raises(ValueError):
        cohen_kappa_interval(HUMAN, JUDGE, n_boot=0)
