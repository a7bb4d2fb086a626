"""Calibration of a grader against human labels: confusion, kappa, error rates and the corrected pass rate."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from mendoza.api import run_suite
from mendoza.errors import ConfigError
from mendoza.report import Calibration, agreement_verdict, calibrate
from mendoza.soft import record_label
from mendoza.stats import Interval, cohen_kappa, confusion, rogan_gladen
from mendoza.store import Store
from tests.soft_suites import rubric_spec, soft_suite


@pytest.fixture
def judged(tmp_path: Path) -> Iterator[tuple[Store, str]]:
    """The 'good'-word judge on both variants; the app says 'good' only for words starting with g, the chatty
    mock always says 'good'. A person passes exactly the answers about words starting with g."""
    store = Store(tmp_path / "m.db")
    run = run_suite(soft_suite((rubric_spec(),)), db=store)
    yield store, run.id
    store.close()


def label_all(store: Store, run_id: str) -> None:
    for grade in store.grades.current(run_id):
        record_label(store, grade.sample_id, passed=grade.case_id.startswith("g"), author="t")


def test_calibration_against_labels(judged: tuple[Store, str]) -> None:
    store, run_id = judged
    label_all(store, run_id)
    result = calibrate(store, run_id, n_boot=200)
    assert result.grader == "helpful" and result.labelled == 24
    # app: judge right on all 12; chatty: the judge passes 4 answers about bad/dull that the person fails
    assert result.matrix == (16, 0, 4, 4)
    assert result.agreement == pytest.approx(20 / 24)
    humans = [g.case_id.startswith("g") for g in store.grades.current(run_id)]
    machine = [bool(g.passed) for g in store.grades.current(run_id)]
    assert result.kappa.estimate == pytest.approx(cohen_kappa(humans, machine))
    assert result.kappa.low <= result.kappa.estimate <= result.kappa.high
    assert result.sensitivity.estimate == 1.0 and result.specificity.estimate == 0.5
    rates = {rate.variant_id: rate for rate in result.rates}
    assert rates["app"].observed == pytest.approx(8 / 12) and rates["chatty"].observed == 1.0
    assert rates["app"].corrected.estimate == pytest.approx(rogan_gladen(8 / 12, 1.0, 0.5))
    assert rates["*"].graded == 24 and rates["*"].observed == pytest.approx(20 / 24)
    low, high = rates["app"].corrected.low, rates["app"].corrected.high
    assert 0.0 <= low <= rates["app"].corrected.estimate <= high <= 1.0


def test_the_overall_verdict_and_unknown_graders(judged: tuple[Store, str]) -> None:
    store, run_id = judged
    label_all(store, run_id)
    overall = calibrate(store, run_id, "all", n_boot=50)
    assert overall.grader == "all" and overall.labelled == 24 and overall.matrix == (16, 0, 4, 4)
    with pytest.raises(ConfigError, match="no grader 'nope'"):
        calibrate(store, run_id, "nope")


def test_without_labels_it_says_what_to_do(judged: tuple[Store, str]) -> None:
    store, run_id = judged
    result = calibrate(store, run_id, n_boot=10)
    assert result.labelled == 0 and "mendoza label" in result.notes[0]
    one_sided = store.grades.current(run_id)[0]
    record_label(store, one_sided.sample_id, passed=True, author="t")
    result = calibrate(store, run_id, n_boot=10)
    assert "no human failures" in result.notes[0]
    assert all(rate.corrected.low == 0.0 and rate.corrected.high == 1.0 for rate in result.rates)


def _calibration(agree_pass: int, miss_pass: int, false_pass: int, agree_fail: int, kappa: Interval) -> Calibration:
    human = [True] * (agree_pass + miss_pass) + [False] * (false_pass + agree_fail)
    grader = [True] * agree_pass + [False] * miss_pass + [True] * false_pass + [False] * agree_fail
    return Calibration("r", "g", [], len(human), confusion(human, grader), kappa, Interval(0, 0, 1),
                       Interval(0, 0, 1), [], 0.95, [])


@pytest.mark.parametrize(
    ("counts", "kappa", "status", "reason"),
    [
        ((0, 0, 0, 0), Interval(math.nan, math.nan, math.nan), "unmeasured", "no labelled sample"),
        ((5, 0, 0, 0), Interval(math.nan, math.nan, math.nan), "unmeasured", "no human failures"),
        ((3, 3, 3, 3), Interval(0.0, -0.5, 0.5), "not better than chance", "as often as human passes"),
        ((3, 1, 0, 4), Interval(0.75, 0.3, 1.0), "unmeasured", "8 labels are too few"),
        ((6, 2, 2, 6), Interval(0.5, -0.05, 0.9), "not better than chance", "interval reaches 0 (-0.05 to 0.90)"),
        ((6, 2, 2, 6), Interval(0.5, 0.1, 0.9), "poor", "Cohen's kappa 0.50 is below 0.6"),
        ((8, 1, 1, 8), Interval(0.78, 0.5, 1.0), "usable", "reaches 0.6 and its interval lies above 0"),
    ],
)
def test_the_agreement_verdict_follows_the_judge_reports_rules(
    counts: tuple[int, int, int, int], kappa: Interval, status: str, reason: str
) -> None:
    verdict = agreement_verdict(_calibration(*counts, kappa))
    assert verdict.status == status and reason in verdict.reason
    assert str(verdict).startswith(f"{status}: ")
