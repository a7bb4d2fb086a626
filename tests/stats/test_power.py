"""Planning: sample sizes and designs of cases x repeats."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from mendoza.stats import Design, design_variance, interval_halfwidth_design, plan_designs, sample_size

Z_ALPHA = stats.norm.ppf(0.975)
Z_POWER = stats.norm.ppf(0.8)


def test_sample_size_reference_vector() -> None:
    assert sample_size(0.03, 1 / 9, alpha=0.05, power=0.8) == 969
    assert sample_size(-0.03, 1 / 9) == 969  # the sign of the effect does not matter


def test_sample_size_grows_with_variance_power_and_strictness() -> None:
    base = sample_size(0.05, 0.1)
    assert sample_size(0.05, 0.2) > base
    assert sample_size(0.05, 0.1, power=0.9) > base
    assert sample_size(0.05, 0.1, alpha=0.01) > base
    assert sample_size(0.1, 0.1) < base
    assert sample_size(0.05, 0.0) == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"delta": 0.0, "variance": 0.1},
        {"delta": 0.05, "variance": -0.1},
        {"delta": 0.05, "variance": 0.1, "alpha": 1.0},
        {"delta": 0.05, "variance": 0.1, "power": 0.0},
        {"delta": float("nan"), "variance": 0.1},
        {"delta": 1e-9, "variance": 1e9},
    ],
)
def test_sample_size_rejects_bad_input(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        sample_size(**kwargs)


def test_design_variance() -> None:
    assert design_variance(0.05, 0.2, 4) == pytest.approx(0.1)
    with pytest.raises(ValueError):
        design_variance(0.05, 0.2, 0)


def test_plan_designs_paired_formula() -> None:
    between, within, delta = 0.02, 0.1, 0.05
    designs = plan_designs(delta, between, within, repeats_options=(1, 3, 10))
    assert [d.repeats for d in designs] == [1, 3, 10]
    for design in designs:
        assert isinstance(design, Design)
        variance = between + 2 * within / design.repeats
        assert design.cases == math.ceil((Z_ALPHA + Z_POWER) ** 2 * variance / delta**2)
        assert design.samples == design.cases * design.repeats
    cases = [d.cases for d in designs]
    assert cases == sorted(cases, reverse=True)  # more repeats, fewer cases...
    assert designs[-1].samples > designs[0].samples  # ...but more samples: repeats shrink only sigma^2


def test_plan_designs_unpaired_needs_each_variant_its_own_cases() -> None:
    between, within, delta = 0.02, 0.1, 0.05
    (design,) = plan_designs(delta, between, within, repeats_options=(5,), paired=False)
    expected = (Z_ALPHA + Z_POWER) ** 2 * 2 * (between + within / 5) / delta**2
    assert design.cases == math.ceil(expected)


def test_plan_designs_rejects_bad_repeats() -> None:
    with pytest.raises(ValueError):
        plan_designs(0.05, 0.02, 0.1, repeats_options=(0, 1))


def test_interval_halfwidth_design() -> None:
    between, within, repeats, half = 0.05, 0.1, 5, 0.05
    n = interval_halfwidth_design(half, between, within, repeats)
    variance = between + within / repeats
    assert Z_ALPHA * math.sqrt(variance / n) <= half
    assert Z_ALPHA * math.sqrt(variance / (n - 1)) > half
    assert interval_halfwidth_design(half, between, within, repeats, confidence=0.99) > n
    with pytest.raises(ValueError):
        interval_halfwidth_design(0.0, between, within, repeats)
