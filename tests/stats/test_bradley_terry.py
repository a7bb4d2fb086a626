"""Bradley-Terry ratings against an independent logistic-regression fit (Chatbot Arena's construction)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize

from mendoza.stats import bradley_terry, bradley_terry_intervals, win_matrix

# (first, second, outcome): 1 first won, 0 second won, 0.5 tie.
BATTLES = [
    (0, 1, 1), (0, 1, 1), (0, 1, 0), (0, 1, 0.5), (1, 0, 0), (1, 0, 1),
    (0, 2, 1), (0, 2, 1), (0, 2, 1), (2, 0, 1), (0, 2, 0.5),
    (1, 2, 1), (1, 2, 0), (2, 1, 0), (1, 2, 0.5), (1, 2, 1),
    (3, 0, 0), (3, 1, 1), (3, 2, 1), (0, 3, 0), (1, 3, 0.5), (3, 2, 0),
]


def _logistic_regression_elo(battles: list[tuple[int, int, float]], n_items: int) -> np.ndarray:
    """FastChat's compute_mle_elo, solved independently: a weighted logistic regression without intercept on
    rows X = +-log(10) (ties as one win each side at half weight), by scipy.optimize.minimize."""
    table = np.zeros((n_items, n_items))
    for a, b, y in battles:
        if y == 1:
            table[a, b] += 2
        elif y == 0:
            table[b, a] += 2
        else:
            table[a, b] += 1
            table[b, a] += 1
    rows, targets, weights = [], [], []
    for a in range(n_items):
        for b in range(n_items):
            if a == b:
                continue
            x = np.zeros(n_items)
            x[a], x[b] = math.log(10), -math.log(10)
            rows += [x, x]
            targets += [1.0, 0.0]
            weights += [table[a, b], table[b, a]]
    design, y, w = np.array(rows), np.array(targets), np.array(weights)

    def loss(beta: np.ndarray) -> tuple[float, np.ndarray]:
        z = design @ beta
        log_p = -np.logaddexp(0.0, -z)
        log_q = -np.logaddexp(0.0, z)
        value = -float(np.sum(w * (y * log_p + (1 - y) * log_q)))
        gradient = -(design.T @ (w * (y - 1 / (1 + np.exp(-z)))))
        return value, gradient

    fitted = minimize(loss, np.zeros(n_items), jac=True, method="BFGS", options={"gtol": 1e-12, "maxiter": 10_000})
    coef = fitted.x - fitted.x.mean()
    return 400 * coef + 1000


def _wins(battles: list[tuple[int, int, float]], n_items: int) -> np.ndarray:
    first, second, outcome = zip(*battles, strict=True)
    return win_matrix(first, second, outcome, n_items)


def test_point_estimates_match_a_logistic_regression_fit() -> None:
    ours = bradley_terry(_wins(BATTLES, 4))
    reference = _logistic_regression_elo(BATTLES, 4)
    assert np.allclose(ours, reference, atol=1e-4)
    assert ours.mean() == pytest.approx(1000.0)


def test_two_items_have_the_closed_form() -> None:
    # 3 wins to 1: odds 3, so the gap is 400*log10(3) and the mean is 1000.
    ratings = bradley_terry(np.array([[0.0, 3.0], [1.0, 0.0]]))
    gap = 400 * math.log10(3)
    assert ratings == pytest.approx([1000 + gap / 2, 1000 - gap / 2])


def test_reference_vector() -> None:
    # The logistic regression above on BATTLES, written down once (FastChat's scale: 400 per 10x odds, mean 1000).
    assert bradley_terry(_wins(BATTLES, 4)) == pytest.approx([1052.5232, 995.7031, 906.5290, 1045.2447], abs=1e-3)


def test_ties_count_half_a_win_each() -> None:
    assert bradley_terry(_wins([(0, 1, 0.5)] * 4 + [(0, 1, 1), (0, 1, 0)], 2)) == pytest.approx([1000, 1000])
    assert win_matrix([0], [1], [0.5], 2).tolist() == [[0, 0.5], [0.5, 0]]


def test_an_item_that_always_wins_has_no_finite_rating_without_a_prior() -> None:
    wins = _wins([(0, 1, 1), (0, 1, 1), (1, 2, 1), (2, 1, 1)], 3)
    with pytest.raises(ValueError, match="no finite Bradley-Terry"):
        bradley_terry(wins)
    regularised = bradley_terry(wins, prior=0.5)
    assert np.all(np.isfinite(regularised)) and regularised[0] > regularised[1]


def test_bad_input_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="square"):
        bradley_terry(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="itself"):
        win_matrix([0], [0], [1], 2)
    with pytest.raises(ValueError, match="outcome"):
        win_matrix([0], [1], [2], 2)


def test_bootstrap_intervals_cover_the_estimate_and_are_reproducible() -> None:
    first, second, outcome = zip(*BATTLES, strict=True)
    clusters = [index // 3 for index in range(len(BATTLES))]
    intervals = bradley_terry_intervals(first, second, outcome, 4, clusters, n_boot=300, seed=3)
    again = bradley_terry_intervals(first, second, outcome, 4, clusters, n_boot=300, seed=3)
    assert intervals == again
    estimates = bradley_terry(_wins(BATTLES, 4))
    for interval, estimate in zip(intervals, estimates, strict=True):
        assert interval.estimate == pytest.approx(estimate)
        assert interval.low <= estimate <= interval.high and interval.high - interval.low > 10


def test_bootstrap_narrows_with_more_data() -> None:
    rng = np.random.default_rng(0)
    truth = np.array([1100.0, 1000.0, 900.0])

    def simulate(n: int) -> tuple[list[int], list[int], list[float]]:
        a = rng.integers(0, 3, n)
        b = (a + rng.integers(1, 3, n)) % 3
        p = 1 / (1 + 10 ** ((truth[b] - truth[a]) / 400))
        return a.tolist(), b.tolist(), (rng.random(n) < p).astype(float).tolist()

    small = bradley_terry_intervals(*simulate(60), 3, n_boot=200)
    large = bradley_terry_intervals(*simulate(2000), 3, n_boot=200)
    assert all((lg.high - lg.low) < (sm.high - sm.low) for sm, lg in zip(small, large, strict=True))
    assert large[0].estimate > large[1].estimate > large[2].estimate
