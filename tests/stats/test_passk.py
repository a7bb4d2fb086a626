"""pass@k and pass^k."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mendoza.stats import pass_at_k, pass_hat_k


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (10, 3, 1, 0.3),
        (10, 3, 2, 0.533333),
        (10, 3, 5, 0.916667),
        (20, 2, 10, 0.763158),
        (200, 10, 10, 0.408548),
    ],
)
def test_pass_at_k_reference_vectors(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [(10, 3, 2, 0.066667), (10, 3, 3, 0.008333), (8, 6, 4, 0.214286), (5, 4, 2, 0.6), (4, 3, 4, 0.0)],
)
def test_pass_hat_k_reference_vectors(n: int, c: int, k: int, expected: float) -> None:
    assert pass_hat_k(n, c, k) == pytest.approx(expected, abs=1e-6)


def test_edges() -> None:
    assert pass_at_k(10, 8, 3) == 1.0  # n - c < k: every draw of 3 has a pass
    assert pass_at_k(10, 0, 3) == 0.0
    assert pass_at_k(10, 10, 10) == 1.0
    assert pass_hat_k(10, 10, 10) == 1.0
    assert pass_hat_k(10, 2, 3) == 0.0  # c < k
    assert pass_hat_k(10, 0, 1) == 0.0
    assert isinstance(pass_at_k(10, 3, 1), float) and isinstance(pass_hat_k(10, 3, 1), float)


@pytest.mark.parametrize(
    ("n", "c", "k"), [(5, 2, 6), (5, 2, 0), (5, 6, 1), (5, -1, 1), (0, 0, 1), (5, 2, 1.5)]
)
def test_invalid_arguments_raise(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)
    with pytest.raises(ValueError):
        pass_hat_k(n, c, k)


def test_large_n_is_stable() -> None:
    assert pass_at_k(100_000, 1, 1) == pytest.approx(1e-5, rel=1e-9)
    assert pass_at_k(100_000, 50_000, 50) == pytest.approx(1.0, abs=1e-12)
    assert pass_hat_k(100_000, 99_000, 100) == pytest.approx(0.99**100, rel=1e-3)


nck = st.integers(min_value=1, max_value=60).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))
)


@settings(max_examples=200, deadline=None)
@given(nck)
def test_match_exact_binomial_formulas(args: tuple[int, int, int]) -> None:
    n, c, k = args
    assert pass_at_k(n, c, k) == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k), abs=1e-12)
    assert pass_hat_k(n, c, k) == pytest.approx(math.comb(c, k) / math.comb(n, k), abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(nck)
def test_bounds_and_monotonicity(args: tuple[int, int, int]) -> None:
    n, c, k = args
    at, hat = pass_at_k(n, c, k), pass_hat_k(n, c, k)
    assert 0.0 <= hat <= c / n + 1e-12 <= at + 2e-12 <= 1.0 + 2e-12
    if k < n:
        assert pass_at_k(n, c, k + 1) >= at - 1e-12
        assert pass_hat_k(n, c, k + 1) <= hat + 1e-12
    if c < n:
        assert pass_at_k(n, c + 1, k) >= at - 1e-12
        assert pass_hat_k(n, c + 1, k) >= hat - 1e-12
    assert pass_at_k(n, c, 1) == pytest.approx(c / n) == pass_hat_k(n, c, 1)


def test_bootstrap_mean_interval_resamples_cases() -> None:
    from mendoza.stats import bootstrap_mean_interval

    low, high = bootstrap_mean_interval([0.0, 1.0], [50, 50], 0.95, seed=1)
    assert 0.35 < low < 0.5 < high < 0.65  # the mean of 100 coin-like cases: about ±0.1
    assert bootstrap_mean_interval([0.0, 1.0], [50, 50], 0.95, seed=1) == (low, high)  # reproducible
    assert bootstrap_mean_interval([0.7], [20]) == (0.7, 0.7)  # every case alike: no spread
    narrow = bootstrap_mean_interval([0.0, 1.0], [500, 500], 0.95)
    assert narrow[1] - narrow[0] < high - low  # more cases, a narrower interval


def test_several_columns_are_bootstrapped_from_one_set_of_resamples() -> None:
    from mendoza.stats import bootstrap_mean_interval, bootstrap_mean_intervals

    weights = [30, 50, 20]
    at, hat = [1.0, 0.6, 0.0], [1.0, 0.2, 0.0]
    together = bootstrap_mean_intervals([at, hat], weights, 0.9, seed=4)
    apart = [bootstrap_mean_interval(column, weights, 0.9, seed=4) for column in (at, hat)]
    # the same draws for every column (the bounds agree but for the last bits of a matrix product)
    assert [bound for interval in together for bound in interval] == pytest.approx(
        [bound for interval in apart for bound in interval], rel=1e-12
    )
    assert together[1][1] < together[0][1]
    assert all(math.isnan(bound) for interval in bootstrap_mean_intervals([at, hat], [0, 0, 0]) for bound in interval)
