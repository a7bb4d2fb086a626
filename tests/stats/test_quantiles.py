"""The critical values every interval uses, against scipy.stats (which the report no longer imports for them)."""

from __future__ import annotations

import math

import pytest
import scipy.stats

from mendoza.stats import normal_quantile, t_quantile

PROBABILITIES = [1e-9, 0.001, 0.025, 0.1, 0.5, 0.8, 0.9, 0.95, 0.975, 0.99, 0.9995]


@pytest.mark.parametrize("probability", PROBABILITIES)
def test_the_normal_quantile_is_scipys(probability: float) -> None:
    assert normal_quantile(probability) == pytest.approx(scipy.stats.norm.ppf(probability), rel=1e-13, abs=1e-13)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 9, 29, 99, 1_000, 10_000, 1e6, 2.5])
def test_the_t_quantile_is_scipys(df: float) -> None:
    for probability in PROBABILITIES:
        assert t_quantile(probability, df) == pytest.approx(scipy.stats.t.ppf(probability, df), rel=1e-12)


def test_the_familiar_values() -> None:
    assert normal_quantile(0.975) == pytest.approx(1.959964, abs=1e-6)
    assert t_quantile(0.975, 9) == pytest.approx(2.262157, abs=1e-6)


@pytest.mark.parametrize("df", [1, 1.5, 2, 2.000001, 3, 5, 7.25, 30, 250, 1e5, 1e9, 1e16])
@pytest.mark.parametrize("probability", [1e-12, 1e-6, 0.3, 0.4999, 0.5, 0.5001, 0.7, 1 - 1e-6, 1 - 1e-12])
def test_the_t_quantile_holds_in_the_tails_and_near_the_middle(df: float, probability: float) -> None:
    expected = scipy.stats.t.ppf(probability, df)
    assert t_quantile(probability, df) == pytest.approx(expected, rel=1e-11, abs=1e-15)


@pytest.mark.parametrize("probability, df", [(0.0, 3), (1.0, 3), (-0.1, 3), (0.5, 0), (0.9, -1), (0.9, math.nan)])
def test_the_t_quantile_refuses_what_has_none(probability: float, df: float) -> None:
    with pytest.raises(ValueError):
        t_quantile(probability, df)
