"""Paired differences and the per-case exact test."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from mendoza.stats import PairedDifference, exact_paired_case_test, paired_difference

A = [1, 1, 0, 1, 0, 1, 1, 0, 1, 1]
B = [1, 0, 0, 1, 0, 1, 0, 0, 1, 1]


def test_reference_vector() -> None:
    result = paired_difference(A, B)
    assert isinstance(result, PairedDifference)
    assert result.difference == pytest.approx(0.2)
    assert result.se == pytest.approx(0.133333, abs=1e-6)
    assert result.n == 10
    unpaired_se = math.sqrt(np.var(A, ddof=1) / 10 + np.var(B, ddof=1) / 10)
    assert unpaired_se == pytest.approx(0.226078, abs=1e-6)  # pairing removes the between-case spread


def test_matches_scipy_paired_t_test() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.random(30), rng.random(30)
    result = paired_difference(a, b, confidence=0.9)
    reference = stats.ttest_rel(a, b)
    interval = reference.confidence_interval(confidence_level=0.9)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-10)
    assert (result.low, result.high) == pytest.approx((interval.low, interval.high), rel=1e-10)


def test_constant_differences_collapse() -> None:
    same = paired_difference([1, 0, 1], [1, 0, 1])
    assert (same.difference, same.se, same.low, same.high, same.p_value) == (0.0, 0.0, 0.0, 0.0, 1.0)
    shifted = paired_difference([1, 1, 1], [0, 0, 0])
    assert (shifted.difference, shifted.low, shifted.high, shifted.p_value) == (1.0, 1.0, 1.0, 0.0)


def test_too_few_pairs() -> None:
    one = paired_difference([1], [0])
    assert one.difference == 1.0 and math.isnan(one.se) and math.isnan(one.p_value) and one.n == 1
    none = paired_difference([], [])
    assert math.isnan(none.difference) and none.n == 0
    with pytest.raises(ValueError):
        paired_difference([1, 0], [1])


def test_exact_case_test() -> None:
    assert exact_paired_case_test(5, 5, 0, 5) == pytest.approx(stats.fisher_exact([[5, 0], [0, 5]]).pvalue)
    assert exact_paired_case_test(5, 5, 0, 5) == pytest.approx(2 / 252)
    assert exact_paired_case_test(3, 5, 3, 5) == 1.0
    assert exact_paired_case_test(0, 0, 3, 5) == 1.0
    assert exact_paired_case_test(2, 10, 9, 10) < 0.01
    with pytest.raises(ValueError):
        exact_paired_case_test(6, 5, 0, 5)
