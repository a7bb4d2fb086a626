"""Confusion matrix, sensitivity and specificity, and the Rogan-Gladen corrected pass rate on known numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mendoza.stats import confusion, rogan_gladen, rogan_gladen_interval


def test_confusion_counts_and_rates() -> None:
    human = [True, True, True, False, False, True, False, True]
    judge = [True, False, True, True, False, True, False, True]
    matrix = confusion(human, judge)
    assert matrix == (4, 1, 1, 2)
    assert matrix.n == 8 and matrix.positives == 5 and matrix.negatives == 3
    assert matrix.agreement == pytest.approx(6 / 8)
    assert matrix.sensitivity == pytest.approx(4 / 5) and matrix.specificity == pytest.approx(2 / 3)
    assert math.isnan(confusion([True], [True]).specificity)
    with pytest.raises(ValueError, match="same samples"):
        confusion([True], [])


@pytest.mark.parametrize(
    ("observed", "sensitivity", "specificity", "expected"),
    [
        (0.6, 0.9, 0.8, 0.4 / 0.7),  # (0.6 + 0.8 - 1) / (0.9 + 0.8 - 1)
        (0.5, 1.0, 1.0, 0.5),  # a perfect judge needs no correction
        (0.7, 0.95, 0.6, 0.3 / 0.55),  # a lenient judge: the true rate is lower than it looks
        (0.1, 0.9, 0.8, 0.0),  # below the judge's false-positive rate: clipped to 0
        (0.99, 0.9, 0.9, 1.0),  # above its sensitivity: clipped to 1
    ],
)
def test_rogan_gladen_on_known_numbers(
    observed: float, sensitivity: float, specificity: float, expected: float
) -> None:
    assert rogan_gladen(observed, sensitivity, specificity) == pytest.approx(expected)


def test_a_judge_no_better_than_chance_gives_nan() -> None:
    assert math.isnan(rogan_gladen(0.5, 0.5, 0.5))
    assert rogan_gladen_interval(0.5, 0.05, 0.6, 10, 0.3, 10) == (pytest.approx(math.nan, nan_ok=True), 0.0, 1.0)


def test_delta_method_interval_by_hand() -> None:
    # observed 0.6 +- 0.05; sensitivity 45/50; specificity 32/40.
    interval = rogan_gladen_interval(0.6, 0.05, 0.9, 50, 0.8, 40, confidence=0.95)
    t, j = 0.4 / 0.7, 0.7
    se_adj, sp_adj = 46 / 52, 33 / 42
    variance = (0.05**2 + t**2 * se_adj * (1 - se_adj) / 52 + (1 - t) ** 2 * sp_adj * (1 - sp_adj) / 42) / j**2
    half = 1.959964 * math.sqrt(variance)
    assert interval.estimate == pytest.approx(t)
    assert interval.low == pytest.approx(t - half, abs=1e-6) and interval.high == pytest.approx(t + half, abs=1e-6)


def test_delta_method_interval_covers_in_simulation() -> None:
    # True rate 0.5, judge sensitivity 0.85 and specificity 0.75: simulate the whole pipeline many times.
    rng = np.random.default_rng(1)
    truth, sens, spec, n, n_pos, n_neg = 0.5, 0.85, 0.75, 400, 60, 60
    covered = 0
    trials = 400
    for _ in range(trials):
        true_pass = rng.random(n) < truth
        judged = np.where(true_pass, rng.random(n) < sens, rng.random(n) >= spec)
        observed = judged.mean()
        se = math.sqrt(observed * (1 - observed) / n)
        sens_hat = rng.binomial(n_pos, sens) / n_pos
        spec_hat = rng.binomial(n_neg, spec) / n_neg
        interval = rogan_gladen_interval(observed, se, sens_hat, n_pos, spec_hat, n_neg)
        covered += interval.low <= truth <= interval.high
    assert 0.9 <= covered / trials <= 0.99


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="observed"):
        rogan_gladen(1.2, 0.9, 0.9)
    with pytest.raises(ValueError, match="observed_se"):
        rogan_gladen_interval(0.5, -1.0, 0.9, 10, 0.9, 10)
