"""The critical values every interval uses, against scipy.stats (which the report no longer imports for them)."""

from __future__ import annotations

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
