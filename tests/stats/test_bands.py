"""Reliability bands, band decisions and the samples needed to decide."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from mendoza.stats import (
    BAND_ADVICE,
    BAND_NAMES,
    DEFAULT_BAND_EDGES,
    BandDecision,
    band_of,
    classify_band,
    samples_to_decide,
    wilson_bounds,
    wilson_interval,
)

Z = float(stats.norm.ppf(0.975))


def test_names_edges_and_advice() -> None:
    assert BAND_NAMES == ("below the Mendoza line", "assistive", "supervised", "autonomous")
    assert DEFAULT_BAND_EDGES == (0.60, 0.90, 0.99)
    assert list(BAND_ADVICE) == list(BAND_NAMES)
    assert all(sentence.endswith(".") for sentence in BAND_ADVICE.values())
    assert "monitor" in BAND_ADVICE["autonomous"]
    assert "human" in BAND_ADVICE["assistive"]


@pytest.mark.parametrize(
    ("rate", "band"),
    [
        (0.0, "below the Mendoza line"),
        (0.5999, "below the Mendoza line"),
        (0.60, "assistive"),
        (0.8999, "assistive"),
        (0.90, "supervised"),
        (0.9899, "supervised"),
        (0.99, "autonomous"),
        (1.0, "autonomous"),
    ],
)
def test_band_of_puts_edges_in_the_higher_band(rate: float, band: str) -> None:
    assert band_of(rate) == band


def test_custom_edges() -> None:
    assert band_of(0.5, edges=(0.3, 0.7, 0.95)) == "assistive"
    assert classify_band(0.4, 0.6, edges=(0.3, 0.7, 0.95)).band == "assistive"
    for bad in [(0.9, 0.6, 0.99), (0.6, 0.9), (0.0, 0.5, 0.9), (0.6, 0.9, 1.5), (0.6, 0.6, 0.9)]:
        with pytest.raises(ValueError):
            band_of(0.5, edges=bad)


def test_band_of_rejects_non_rates() -> None:
    for bad in (-0.1, 1.1, float("nan")):
        with pytest.raises(ValueError):
            band_of(bad)


def test_classify_decided() -> None:
    decision = classify_band(0.92, 0.97)
    assert isinstance(decision, BandDecision)
    assert decision == BandDecision(True, "supervised", None, "supervised", "supervised")


def test_classify_undecided_keeps_both_ends() -> None:
    low, high = wilson_interval(54, 60)[1:]  # [0.7985, 0.9534]
    decision = classify_band(low, high)
    assert not decision.decided and decision.band is None
    assert decision.between == ("assistive", "supervised")
    wide = classify_band(0.3, 0.995)
    assert wide.between == ("below the Mendoza line", "autonomous")  # not adjacent: both ends kept
    assert classify_band(0.85, 0.90).between == ("assistive", "supervised")  # 0.90 is already supervised


def test_classify_rejects_reversed_interval() -> None:
    with pytest.raises(ValueError):
        classify_band(0.9, 0.8)


def test_samples_to_decide_simple_cases() -> None:
    assert samples_to_decide(0, 20) == 0  # [0, 0.161]: below the line already
    assert samples_to_decide(195, 200) == 0  # [0.943, 0.989]: supervised already
    assert samples_to_decide(54, 60) is None  # 0.90 sits on an edge
    assert samples_to_decide(6, 10) is None
    assert samples_to_decide(0, 0) is None
    # All pass: autonomous once n / (n + z^2) >= 0.99, i.e. n >= 99 z^2 = 380.3.
    assert samples_to_decide(20, 20) == 381 - 20


def test_samples_to_decide_is_the_smallest_that_decides() -> None:
    extra = samples_to_decide(95, 100)
    assert extra is not None and extra > 0
    assert classify_band(*wilson_bounds(0.95, 100 + extra, Z)).decided
    assert not classify_band(*wilson_bounds(0.95, 100 + extra - 1, Z)).decided


def test_samples_to_decide_gives_up_past_ten_million() -> None:
    assert samples_to_decide(899_999, 1_000_000) is None  # 0.899999: a hair below an edge
    assert samples_to_decide(899, 1_000) is not None  # 0.899: about 345 thousand more


def test_samples_to_decide_clustered_counts_whole_cases() -> None:
    plain = samples_to_decide(190, 200)
    clustered = samples_to_decide(190, 200, n_clusters=40)
    assert plain is not None and clustered is not None
    assert clustered % 5 == 0 and clustered > plain  # conservative: each case counts as one trial
    extra_cases = clustered // 5
    assert classify_band(*wilson_bounds(0.95, 40 + extra_cases, Z)).decided
    assert not classify_band(*wilson_bounds(0.95, 40 + extra_cases - 1, Z)).decided
    assert samples_to_decide(190, 200, n_clusters=40, repeats=2) == extra_cases * 2
    with pytest.raises(ValueError):
        samples_to_decide(190, 200, n_clusters=300)
    with pytest.raises(ValueError):
        samples_to_decide(190, 200, repeats=5)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=1, max_value=3000).flatmap(
        lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
    ),
    st.sampled_from([0.9, 0.95, 0.99]),
)
def test_samples_to_decide_property(count: tuple[int, int], confidence: float) -> None:
    successes, n = count
    extra = samples_to_decide(successes, n, confidence=confidence)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    rate = successes / n
    if extra is None:
        assert rate in DEFAULT_BAND_EDGES or not classify_band(*wilson_bounds(rate, n + 10**7, z)).decided
        return
    decided_now = classify_band(*wilson_interval(successes, n, confidence)[1:]).decided
    assert (extra == 0) == decided_now
    assert classify_band(*wilson_bounds(rate, n + extra, z)).decided
    if extra > 0:
        assert not classify_band(*wilson_bounds(rate, n + extra - 1, z)).decided
