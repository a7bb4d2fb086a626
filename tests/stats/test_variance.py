"""Standard errors, clustered standard errors and variance components."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mendoza.stats import ClusteredSE, MeanSE, clustered_stderr, stderr, variance_components

CLUSTERED_SCORES = [1, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1]
CLUSTER_LABELS = ["a", "a", "a", "b", "b", "c", "c", "c", "c", "d", "e", "e"]


def test_stderr_reference_vector() -> None:
    result = stderr([1, 0, 1, 1, 0, 1, 1, 1, 0, 1])
    assert isinstance(result, MeanSE)
    assert result.mean == pytest.approx(0.7)
    assert result.se == pytest.approx(0.152753, abs=1e-6)
    assert result.n == 10


def test_clustered_stderr_reference_vector() -> None:
    result = clustered_stderr(CLUSTERED_SCORES, CLUSTER_LABELS)
    assert isinstance(result, ClusteredSE)
    assert result.mean == pytest.approx(8 / 12)
    assert result.naive_se == pytest.approx(0.142134, abs=1e-6)
    assert result.se == pytest.approx(0.181089, abs=1e-6)
    assert (result.n, result.n_clusters) == (12, 5)


def test_cluster_labels_may_be_any_hashable_and_in_any_order() -> None:
    labels = [("case", 1), ("case", 1), ("case", 1), 2, 2, "c", "c", "c", "c", None, 5.5, 5.5]
    assert clustered_stderr(CLUSTERED_SCORES, labels) == clustered_stderr(CLUSTERED_SCORES, CLUSTER_LABELS)
    order = np.random.default_rng(3).permutation(12)
    shuffled = clustered_stderr([CLUSTERED_SCORES[i] for i in order], [CLUSTER_LABELS[i] for i in order])
    assert shuffled.se == pytest.approx(0.181089, abs=1e-6)


def test_degenerate_inputs() -> None:
    empty = stderr([])
    assert math.isnan(empty.mean) and math.isnan(empty.se) and empty.n == 0
    single = stderr([1.0])
    assert single.mean == 1.0 and math.isnan(single.se)
    one_cluster = clustered_stderr([1, 0, 1], ["x", "x", "x"])
    assert math.isnan(one_cluster.se) and one_cluster.naive_se > 0 and one_cluster.n_clusters == 1
    assert clustered_stderr([1, 1, 1, 1], [1, 1, 2, 2]).se == 0.0


def test_bad_input_raises() -> None:
    with pytest.raises(ValueError):
        clustered_stderr([1, 0], ["a"])
    with pytest.raises(ValueError):
        stderr([[1, 0], [1, 1]])
    with pytest.raises(ValueError):
        stderr([1.0, float("inf")])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=2, max_size=50))
def test_one_sample_per_cluster_gives_the_naive_se(scores: list[float]) -> None:
    result = clustered_stderr(scores, range(len(scores)))
    assert result.se == pytest.approx(result.naive_se, rel=1e-9, abs=1e-15)


def test_variance_components_on_the_reference_clusters() -> None:
    result = variance_components(CLUSTERED_SCORES, CLUSTER_LABELS)
    # within: variances (ddof=1) of the clusters with >= 2 samples: a 0, b 0, c 1/4, e 0.
    assert result.within == pytest.approx(0.0625)
    means = np.array([1.0, 0.0, 0.75, 0.0, 1.0])
    sizes = np.array([3, 2, 4, 1, 2])
    assert result.between == pytest.approx(np.var(means, ddof=1) - 0.0625 * np.mean(1 / sizes))
    assert result.mean_repeats == pytest.approx(12 / 5)
    assert result.n_clusters == 5


def test_variance_components_recover_the_truth() -> None:
    rng = np.random.default_rng(11)
    a, b, cases, repeats = 2.0, 1.0, 4000, 4
    rates = rng.beta(a, b, size=cases)
    scores = (rng.random((cases, repeats)) < rates[:, None]).astype(float).ravel()
    result = variance_components(scores, np.repeat(np.arange(cases), repeats))
    true_between = a * b / ((a + b) ** 2 * (a + b + 1))  # Var(p) = 1/18
    true_within = a / (a + b) - a * (a + 1) / ((a + b) * (a + b + 1))  # E[p (1 - p)] = 1/6
    assert result.between == pytest.approx(true_between, rel=0.1)
    assert result.within == pytest.approx(true_within, rel=0.05)
    assert result.mean_repeats == repeats


def test_variance_components_degenerate() -> None:
    no_repeats = variance_components([1, 0, 1], ["a", "b", "c"])
    assert math.isnan(no_repeats.between) and math.isnan(no_repeats.within)
    one_case = variance_components([1, 0, 1], ["a", "a", "a"])
    assert math.isnan(one_case.between) and one_case.within == pytest.approx(1 / 3)
    floored = variance_components([1, 0, 0, 1], ["a", "a", "b", "b"])  # identical case means
    assert floored.between == 0.0
    assert variance_components([], []).n_clusters == 0
