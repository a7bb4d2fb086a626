"""The anytime-valid confidence sequence."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from mendoza.stats import confidence_sequence, wilson_interval


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"), [(6, 10, 0.192518, 0.923092), (0, 20, 0.0, 0.260671)]
)
def test_reference_vectors(successes: int, n: int, low: float, high: float) -> None:
    interval = confidence_sequence(successes, n, alpha=0.05)
    assert interval.estimate == pytest.approx(successes / n)
    assert interval.low == pytest.approx(low, abs=1e-6)
    assert interval.high == pytest.approx(high, abs=1e-6)


def test_edges() -> None:
    empty = confidence_sequence(0, 0)
    assert math.isnan(empty.estimate) and (empty.low, empty.high) == (0.0, 1.0)
    all_pass = confidence_sequence(20, 20)
    assert all_pass.high == 1.0 and all_pass.low == pytest.approx(1 - 0.260671, abs=1e-6)
    tiny = confidence_sequence(1, 10_000_000)
    assert 0.0 < tiny.low < 1e-7 < tiny.high
    with pytest.raises(ValueError):
        confidence_sequence(3, 2)
    with pytest.raises(ValueError):
        confidence_sequence(1, 2, alpha=0.0)


def _mixture_ratio(successes: int, n: int, p: float) -> float:
    log_ratio = special.betaln(successes + 1, n - successes + 1) - (
        special.xlogy(successes, p) + special.xlog1py(n - successes, -p)
    )
    return float(np.exp(log_ratio))


counts = st.integers(min_value=1, max_value=5000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)


@settings(max_examples=150, deadline=None)
@given(counts, st.sampled_from([0.01, 0.05, 0.1, 0.2]))
def test_ends_solve_the_defining_inequality(count: tuple[int, int], alpha: float) -> None:
    successes, n = count
    estimate, low, high = confidence_sequence(successes, n, alpha)
    assert 0.0 <= low <= estimate <= high <= 1.0
    for end, inside in ((low, successes > 0), (high, successes < n)):
        if inside:
            assert _mixture_ratio(successes, n, end) == pytest.approx(1 / alpha, rel=1e-6)


@settings(max_examples=150, deadline=None)
@given(counts, st.sampled_from([0.01, 0.05, 0.1]))
def test_wider_than_wilson_on_the_same_data(count: tuple[int, int], alpha: float) -> None:
    successes, n = count
    sequence = confidence_sequence(successes, n, alpha)
    fixed = wilson_interval(successes, n, confidence=1 - alpha)
    assert sequence.low <= fixed.low + 1e-12
    assert sequence.high >= fixed.high - 1e-12


def test_stays_valid_when_peeking_where_wilson_does_not() -> None:
    """Look after every 10 samples up to 400: the sequence rarely ever misses, repeated Wilson often does."""
    rng = np.random.default_rng(42)
    rate, streams, looks = 0.7, 200, range(10, 401, 10)
    sequence_missed = wilson_missed = 0
    for _ in range(streams):
        passes = np.cumsum(rng.random(400) < rate)
        sequence_ever = wilson_ever = False
        for n in looks:
            _, low, high = confidence_sequence(int(passes[n - 1]), n)
            sequence_ever |= not low <= rate <= high
            _, low, high = wilson_interval(int(passes[n - 1]), n)
            wilson_ever |= not low <= rate <= high
        sequence_missed += sequence_ever
        wilson_missed += wilson_ever
    assert sequence_missed / streams <= 0.05
    assert wilson_missed / streams > 0.15
