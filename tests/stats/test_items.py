"""The item statistics: the point-biserial correlation against its textbook formula, a case's discrimination
against the variants' rates on the other cases, pooled rates, random and stratified subsets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mendoza.stats import (
    item_discrimination,
    noise_floor,
    point_biserial,
    pooled_rates,
    random_subsets,
    stratified_subset,
)


def _textbook(outcomes: list[int], scores: list[float]) -> float:
    """r_pb = (M1 - M0) / s_n * sqrt(p q), with s_n the population standard deviation of the scores."""
    x, y = np.array(outcomes), np.array(scores, dtype=float)
    p = x.mean()
    return float((y[x == 1].mean() - y[x == 0].mean()) / y.std() * math.sqrt(p * (1 - p)))


def test_point_biserial_is_the_textbook_formula() -> None:
    outcomes = [1, 1, 0, 1, 0, 0, 1]
    scores = [0.9, 0.7, 0.2, 0.8, 0.4, 0.1, 0.3]
    assert point_biserial(outcomes, scores) == pytest.approx(_textbook(outcomes, scores))
    assert point_biserial([True, False], [2.0, 1.0]) == pytest.approx(1.0)
    assert point_biserial([0, 1], [2.0, 1.0]) == pytest.approx(-1.0)


@pytest.mark.parametrize(
    ("outcomes", "scores"),
    [([], []), ([1], [0.5]), ([1, 1, 1], [0.1, 0.5, 0.9]), ([1, 0, 1], [0.5, 0.5, 0.5])],
)
def test_point_biserial_is_nan_where_undefined(outcomes: list[int], scores: list[float]) -> None:
    assert math.isnan(point_biserial(outcomes, scores))


def test_point_biserial_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="pair up"):
        point_biserial([1, 0], [0.5])
    with pytest.raises(ValueError, match="0 or 1"):
        point_biserial([2, 0], [0.5, 0.1])


def test_discrimination_uses_the_rate_on_the_other_cases() -> None:
    # Three variants, two repeats, four cases; case 0 is passed by the strong variant only.
    passes = np.array([[0, 1, 2], [1, 1, 2], [0, 2, 2], [0, 0, 1]])
    graded = np.full((4, 3), 2)
    found = item_discrimination(passes, graded)
    for case in range(4):
        rest = (passes.sum(0) - passes[case]) / (graded.sum(0) - graded[case])
        outcomes = [1] * int(passes[case].sum()) + [0] * int((graded[case] - passes[case]).sum())
        scores = [r for r, k in zip(rest, passes[case], strict=True) for _ in range(k)]
        scores += [r for r, k in zip(rest, graded[case] - passes[case], strict=True) for _ in range(k)]
        assert found[case] == pytest.approx(_textbook(outcomes, scores))
    assert found[0] > 0.5


def test_discrimination_is_nan_for_a_constant_case_and_skips_missing_cells() -> None:
    passes = np.array([[2, 2, 2], [0, 1, 2], [0, 0, 0], [1, 0, 0]])
    graded = np.array([[2, 2, 2], [2, 2, 2], [2, 2, 2], [1, 2, 0]])
    found = item_discrimination(passes, graded)
    assert math.isnan(found[0]) and math.isnan(found[2])
    # Case 3 is taken by two variants only (the third has no sample of it): a row of its own length.
    rest = (passes.sum(0) - passes[3]) / (graded.sum(0) - graded[3])
    assert found[3] == pytest.approx(_textbook([1, 0, 0], [rest[0], rest[1], rest[1]]))


def test_pooled_rates_are_passed_over_counted() -> None:
    passes = np.array([[1, 0], [2, 0], [0, 0]])
    graded = np.array([[2, 0], [2, 1], [1, 0]])
    assert pooled_rates(passes, graded).tolist() == pytest.approx([3 / 5, 0.0])
    rates = pooled_rates(passes, graded, [0])
    assert rates[0] == 0.5 and math.isnan(rates[1])
    many = pooled_rates(passes, graded, [[0, 1], [1, 2]])
    assert many.shape == (2, 2) and many[1].tolist() == pytest.approx([2 / 3, 0.0])
    with pytest.raises(ValueError, match="between 0 and graded"):
        pooled_rates([[3]], [[2]])


def test_random_subsets_are_seeded_and_without_replacement() -> None:
    drawn = random_subsets(20, 5, 30, seed=4)
    assert drawn.shape == (30, 5)
    assert all(len(set(row)) == 5 for row in drawn.tolist())
    assert (drawn == random_subsets(20, 5, 30, seed=4)).all()
    assert not (drawn == random_subsets(20, 5, 30, seed=5)).all()
    with pytest.raises(ValueError, match="k must be between"):
        random_subsets(3, 4, 1, seed=0)


def test_a_stratified_subset_keeps_the_mix_of_difficulty() -> None:
    difficulty = np.linspace(0.0, 1.0, 40)
    discrimination = np.tile([0.1, 0.5, np.nan, 0.3], 10)
    chosen = stratified_subset(difficulty, discrimination, 8)
    assert len(chosen) == 8 and list(chosen) == sorted(set(chosen.tolist()))
    # Systematic over the difficulty order: two cases in each quarter of it.
    assert np.histogram(difficulty[chosen], bins=4, range=(0, 1))[0].tolist() == [2, 2, 2, 2]
    assert difficulty[chosen].mean() == pytest.approx(difficulty.mean(), abs=0.05)
    assert (chosen == stratified_subset(difficulty, discrimination, 8)).all()  # no seed: deterministic
    assert stratified_subset(difficulty, discrimination, 40).tolist() == list(range(40))


def test_a_stratified_subset_picks_the_case_nearest_its_groups_mean_profile() -> None:
    # One group of three (k = 1): the profiles' mean is (0.5, 0.5); the middle case is nearest.
    profiles = np.array([[0.0, 0.0], [0.5, 0.6], [1.0, 0.9]])
    assert stratified_subset([0.0, 0.55, 0.95], [np.nan] * 3, 1, profiles=profiles).tolist() == [1]


def test_a_stratified_subset_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="k must be between"):
        stratified_subset([0.1, 0.2], [0.0, 0.0], 3)
    with pytest.raises(ValueError, match="one value per case"):
        stratified_subset([0.1, 0.2], [0.0], 1)
    with pytest.raises(ValueError, match="profiles must be finite"):
        stratified_subset([0.1, 0.2], [0.0, 0.0], 1, profiles=[[np.nan], [0.1]])


def test_the_noise_floor_by_hand() -> None:
    passes = np.array([[1], [2], [0], [3]])
    graded = np.full((4, 1), 3)
    # p(1-p)/(g-1): 1/9, 1/9, 0, 0 -> mean 1/18; variance 1/18 * (1/2 - 1/4); times sqrt(2/pi).
    expected = math.sqrt(2 / math.pi) * math.sqrt(1 / 18 * (1 / 2 - 1 / 4))
    assert noise_floor(passes, graded, 2)[0] == pytest.approx(expected)
    assert math.isnan(noise_floor([[1], [0]], [[1], [1]], 1)[0])  # no case counted twice


def test_the_noise_floor_is_the_error_of_subsets_when_every_case_is_alike() -> None:
    """With one true rate for every case, any subset's error is the samples' noise alone: the floor matches
    the mean absolute error of random subsets over many simulated runs."""
    rng = np.random.default_rng(3)
    graded = np.full((200, 400), 3)  # 400 simulated runs (columns) of 200 cases x 3 repeats
    passes = rng.binomial(3, 0.3, size=graded.shape)
    subset = rng.choice(200, 50, replace=False)
    errors = pooled_rates(passes, graded, subset) - pooled_rates(passes, graded)
    assert np.abs(errors).mean() == pytest.approx(np.nanmean(noise_floor(passes, graded, 50)), rel=0.1)
