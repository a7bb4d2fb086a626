"""Wilson, Clopper-Pearson and the run-level clustered interval."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mendoza.stats import (
    Interval,
    clopper_pearson_interval,
    mean_interval,
    wilson_bounds,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (6, 10, 0.312674, 0.831820),
        (54, 60, 0.798505, 0.953357),
        (99, 100, 0.945514, 0.998233),
        (0, 20, 0.0, 0.161125),
        (20, 20, 0.838875, 1.0),
    ],
)
def test_wilson_reference_vectors(successes: int, n: int, low: float, high: float) -> None:
    interval = wilson_interval(successes, n)
    assert interval.estimate == pytest.approx(successes / n)
    assert interval.low == pytest.approx(low, abs=1e-6)
    assert interval.high == pytest.approx(high, abs=1e-6)


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [(6, 10, 0.262378, 0.878448), (54, 60, 0.794942, 0.962409), (0, 20, 0.0, 0.168433)],
)
def test_clopper_pearson_reference_vectors(successes: int, n: int, low: float, high: float) -> None:
    interval = clopper_pearson_interval(successes, n)
    assert interval.low == pytest.approx(low, abs=1e-6)
    assert interval.high == pytest.approx(high, abs=1e-6)


def test_exact_ends_at_all_fail_and_all_pass() -> None:
    for interval_of in (wilson_interval, clopper_pearson_interval):
        assert interval_of(0, 7).low == 0.0
        assert interval_of(7, 7).high == 1.0
        assert interval_of(7, 7).estimate == 1.0


def test_no_trials_gives_nan_estimate_and_whole_range() -> None:
    for interval_of in (wilson_interval, clopper_pearson_interval):
        interval = interval_of(0, 0)
        assert math.isnan(interval.estimate)
        assert (interval.low, interval.high) == (0.0, 1.0)


def test_interval_is_a_named_tuple() -> None:
    interval = wilson_interval(6, 10)
    assert isinstance(interval, Interval)
    estimate, low, high = interval
    assert low < estimate < high


@pytest.mark.parametrize(
    ("successes", "n", "confidence"),
    [(-1, 10, 0.95), (11, 10, 0.95), (3, 10, 0.0), (3, 10, 1.0), (2.5, 10, 0.95), (True, 10, 0.95)],
)
def test_bad_counts_or_confidence_raise(successes: int, n: int, confidence: float) -> None:
    with pytest.raises(ValueError):
        wilson_interval(successes, n, confidence)
    with pytest.raises(ValueError):
        clopper_pearson_interval(successes, n, confidence)


def test_numpy_integers_and_whole_floats_are_accepted() -> None:
    assert wilson_interval(np.int64(6), np.int64(10)) == wilson_interval(6, 10)  # type: ignore[arg-type]
    assert wilson_interval(54.0, 60.0) == wilson_interval(54, 60)  # type: ignore[arg-type]


def test_higher_confidence_is_wider() -> None:
    narrow, wide = wilson_interval(30, 50, 0.8), wilson_interval(30, 50, 0.99)
    assert wide.low < narrow.low and wide.high > narrow.high


counts = st.integers(min_value=1, max_value=2000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)


@settings(max_examples=150, deadline=None)
@given(counts)
def test_intervals_contain_estimate_and_stay_in_unit_range(count: tuple[int, int]) -> None:
    successes, n = count
    for interval_of in (wilson_interval, clopper_pearson_interval):
        estimate, low, high = interval_of(successes, n)
        assert 0.0 <= low <= estimate <= high <= 1.0


@settings(max_examples=100, deadline=None)
@given(counts, st.integers(min_value=2, max_value=20))
def test_intervals_narrow_as_n_grows_at_fixed_rate(count: tuple[int, int], factor: int) -> None:
    successes, n = count
    for interval_of in (wilson_interval, clopper_pearson_interval):
        small, large = interval_of(successes, n), interval_of(successes * factor, n * factor)
        assert large.high - large.low < small.high - small.low


@settings(max_examples=100, deadline=None)
@given(counts)
def test_wilson_bounds_match_wilson_interval(count: tuple[int, int]) -> None:
    successes, n = count
    assert wilson_bounds(successes / n, n, 1.959963984540054) == pytest.approx(
        tuple(wilson_interval(successes, n))[1:], abs=1e-12
    )


# --- the run-level interval ------------------------------------------------------------------------------


def _run(case_rates: np.ndarray, repeats: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    passes = rng.random((case_rates.size, repeats)) < case_rates[:, None]
    clusters = np.repeat(np.arange(case_rates.size), repeats)
    return passes.astype(np.float64).ravel(), clusters


def test_mean_interval_matches_clustered_se_where_information_is_plentiful() -> None:
    rng = np.random.default_rng(7)
    scores, clusters = _run(rng.beta(2.0, 2.0, size=400), 5, rng)
    interval = mean_interval(scores, clusters)
    assert interval.estimate == pytest.approx(scores.mean())
    # Far from 0 and 1 with 400 cases the Wilson-on-n_eff interval is mean +- t * SE to a few parts in 1e3.
    case_sums = np.bincount(clusters, weights=scores - scores.mean())
    se = math.sqrt(400 / 399) * math.sqrt(float(np.sum(case_sums**2))) / scores.size
    half = (interval.high - interval.low) / 2
    assert half == pytest.approx(1.9659 * se, rel=5e-3)


def test_mean_interval_is_wider_than_pooled_wilson_when_repeats_agree() -> None:
    scores = np.repeat([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0], 5)
    clusters = np.repeat(np.arange(10), 5)
    clustered = mean_interval(scores, clusters)
    pooled = wilson_interval(int(scores.sum()), scores.size)
    assert clustered.high - clustered.low > 2 * (pooled.high - pooled.low)


def test_mean_interval_without_clusters_treats_samples_as_cases() -> None:
    scores = [1, 0, 1, 1, 0, 1, 1, 1, 0, 1]
    assert mean_interval(scores) == mean_interval(scores, clusters=range(10))


def test_mean_interval_all_pass_falls_back_to_one_trial_per_case() -> None:
    scores = np.ones(200)
    clusters = np.repeat(np.arange(40), 5)
    interval = mean_interval(scores, clusters)
    assert interval.estimate == 1.0
    assert interval.high == 1.0
    assert 0.85 < interval.low < 0.95  # 40 cases, not 200 independent samples: not a zero-width interval
    expected_low, _ = wilson_bounds(1.0, 40, 2.022690911734728)  # t quantile, 39 degrees of freedom
    assert interval.low == pytest.approx(expected_low, abs=1e-9)
    all_fail = mean_interval(np.zeros(200), clusters)
    assert all_fail.low == 0.0 and all_fail.high == pytest.approx(1 - interval.low, abs=1e-12)


def test_mean_interval_identical_cases_fall_back_too() -> None:
    clusters = np.repeat(np.arange(40), 3)
    t39 = 2.022690911734728
    for scores in (np.tile([1.0, 0.0, 0.0], 40), np.full(120, 0.7)):  # SE is 0 up to rounding
        interval = mean_interval(scores, clusters)
        assert (interval.low, interval.high) == pytest.approx(wilson_bounds(interval.estimate, 40, t39))


def test_mean_interval_binary_is_never_narrower_than_independent_samples() -> None:
    scores = np.tile([1.0, 0.0, 0.0], 40)
    scores[-2] = 1.0  # one case of 40 differs: the clustered SE is far below the binomial one
    interval = mean_interval(scores, np.repeat(np.arange(40), 3))
    t39 = 2.022690911734728
    assert (interval.low, interval.high) == pytest.approx(wilson_bounds(interval.estimate, 120, t39))


def test_mean_interval_degenerate_inputs() -> None:
    empty = mean_interval([])
    assert math.isnan(empty.estimate) and (empty.low, empty.high) == (0.0, 1.0)
    one_case = mean_interval([1, 1, 0], clusters=["a", "a", "a"])
    assert one_case.estimate == pytest.approx(2 / 3)
    assert (one_case.low, one_case.high) == (0.0, 1.0)


def test_mean_interval_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        mean_interval([0.5, 1.5])
    with pytest.raises(ValueError):
        mean_interval([1, 0, 1], clusters=["a", "b"])
    with pytest.raises(ValueError):
        mean_interval([1, 0, float("nan")])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 7), st.booleans()), min_size=1, max_size=60),
    st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_mean_interval_contains_estimate_in_unit_range(
    samples: list[tuple[int, bool]], confidence: float
) -> None:
    clusters = [case for case, _ in samples]
    scores = [float(passed) for _, passed in samples]
    estimate, low, high = mean_interval(scores, clusters, confidence)
    assert 0.0 <= low <= estimate <= high <= 1.0


def test_clustered_interval_covers_and_naive_wilson_does_not() -> None:
    """Coverage simulation: strongly correlated repeats (per-case rates ~ Beta(0.5, 0.3)), 40 cases x 5."""
    rng = np.random.default_rng(20240611)
    a, b, cases, repeats, runs = 0.5, 0.3, 40, 5, 400
    true_mean = a / (a + b)
    clustered_hits = naive_hits = 0
    for _ in range(runs):
        scores, clusters = _run(rng.beta(a, b, size=cases), repeats, rng)
        _, low, high = mean_interval(scores, clusters)
        clustered_hits += low <= true_mean <= high
        _, low, high = wilson_interval(int(scores.sum()), scores.size)
        naive_hits += low <= true_mean <= high
    clustered_coverage, naive_coverage = clustered_hits / runs, naive_hits / runs
    assert 0.90 <= clustered_coverage <= 0.98, clustered_coverage
    assert naive_coverage < 0.90, naive_coverage
