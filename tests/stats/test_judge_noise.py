"""The nested variance split: judge repeats within a sample, samples within a case, cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mendoza.stats import nested_variance


def test_a_consistent_judge_has_no_noise() -> None:
    scores = [1, 1, 0, 0, 1, 1, 1, 1]
    samples = ["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4"]
    cases = ["c1", "c1", "c1", "c1", "c2", "c2", "c2", "c2"]
    split = nested_variance(scores, samples, cases)
    assert split.within_sample == 0.0 and split.n_samples == 4 and split.n_cases == 2
    assert split.within_case > 0 and split.judge_share == 0.0


def test_a_coin_flipping_judge_is_all_noise() -> None:
    rng = np.random.default_rng(0)
    n_cases, n_samples, repeats = 30, 4, 5
    scores, samples, cases = [], [], []
    for c in range(n_cases):
        for s in range(n_samples):
            for _ in range(repeats):
                scores.append(float(rng.random() < 0.5))
                samples.append(f"{c}-{s}")
                cases.append(c)
    split = nested_variance(scores, samples, cases)
    assert split.within_sample == pytest.approx(0.25, abs=0.03)
    assert split.within_case < 0.03 and split.between_cases < 0.03
    assert split.judge_share > 0.8


def test_recovers_known_components() -> None:
    rng = np.random.default_rng(5)
    case_sd, model_sd, judge_sd = 0.3, 0.2, 0.1
    scores, samples, cases = [], [], []
    for c in range(400):
        case_mean = rng.normal(0, case_sd)
        for s in range(4):
            sample_mean = case_mean + rng.normal(0, model_sd)
            for _ in range(3):
                scores.append(sample_mean + rng.normal(0, judge_sd))
                samples.append((c, s))
                cases.append(c)
    shifted = np.array(scores) - min(scores)  # any finite scores work
    split = nested_variance(shifted, samples, cases)
    assert split.between_cases == pytest.approx(case_sd**2, rel=0.2)
    assert split.within_case == pytest.approx(model_sd**2, rel=0.15)
    assert split.within_sample == pytest.approx(judge_sd**2, rel=0.1)


def test_without_judge_repeats_the_judge_part_is_unknown() -> None:
    split = nested_variance([1, 0, 1, 1], ["a", "b", "c", "d"], ["x", "x", "y", "y"])
    assert math.isnan(split.within_sample) and math.isnan(split.judge_share)
    with pytest.raises(ValueError, match="one label per score"):
        nested_variance([1, 0], ["a"], ["x", "x"])
