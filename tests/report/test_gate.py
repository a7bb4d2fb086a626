"""The gate's three outcomes (pass, fail, inconclusive), their exit codes, and how often it cries wolf.

The simulations are the issue's own setting: a stochastic app that gives a good answer 95% of the time (5%
noise), 20 cases x 10 repeats, gated with ``max_regression: 0.02`` against a baseline run of the same app.
"""

from __future__ import annotations

import numpy as np
import pytest

from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec, Suite, Thresholds, Variant
from mendoza.report import build_report, compare_counts, compare_variants, evaluate_gate
from mendoza.report.gate import judge, more_samples_to_decide, regression_check
from mendoza.stats import Interval
from mendoza.store import Store

GRADER = (GraderSpec(type="equals", params={"value": "yes"}, name="equals"),)
CASES, REPEATS, MARGIN, NOISE = 20, 10, 0.02, 0.05


def _variant(vid: str, rate: float, **params: object) -> Variant:
    return Variant(
        id=vid, model="mock", params={"pass_rate": rate, "pass_output": "yes", "fail_output": "no", **params}
    )


def _suite(*variants: Variant, cases: int = 20, repeats: int = 4, **thresholds: object) -> Suite:
    return Suite(
        name="gated",
        cases=tuple(Case(id=f"c{i:02d}", vars={}) for i in range(cases)),
        variants=variants,
        graders=GRADER,
        repeats=repeats,
        thresholds=Thresholds.model_validate(thresholds),
    )


@pytest.mark.parametrize(
    ("low", "high", "estimate", "threshold", "above", "expected"),
    [
        (0.82, 0.95, 0.9, 0.8, True, "pass"),
        (0.60, 0.75, 0.7, 0.8, True, "fail"),
        (0.75, 0.90, 0.85, 0.8, True, "inconclusive"),
        (0.01, 0.04, 0.02, 0.05, False, "pass"),
        (0.06, 0.09, 0.07, 0.05, False, "fail"),
        (0.03, 0.08, 0.05, 0.05, False, "inconclusive"),
    ],
)
def test_judge_reads_the_interval_against_the_threshold(
    low: float, high: float, estimate: float, threshold: float, above: bool, expected: str
) -> None:
    assert judge(low, high, estimate, threshold, above=above, by_interval=True) == expected
    by_estimate = judge(low, high, estimate, threshold, above=above, by_interval=False)
    assert by_estimate == ("pass" if (estimate >= threshold if above else estimate <= threshold) else "fail")


def test_min_pass_rate_passes_fails_or_is_inconclusive(store: Store) -> None:
    suite = _suite(_variant("great", 1.0), _variant("awful", 0.0), _variant("close", 0.75), cases=30,
                   min_pass_rate=0.75)
    report = build_report(store, run_suite(suite, db=store).id)
    gate = evaluate_gate(report)
    outcomes = {check.subject: check.outcome for check in gate.checks}
    assert outcomes == {"great": "pass", "awful": "fail", "close": "inconclusive"}
    close = next(check for check in gate.checks if check.subject == "close")
    assert close.samples_to_decide and close.samples_to_decide > 0
    assert "more samples would likely decide it" in close.message
    assert gate.outcome == "fail" and gate.fails_ci


def test_on_inconclusive_decides_whether_ci_fails(store: Store) -> None:
    suite = _suite(_variant("close", 0.8), cases=12, min_pass_rate=0.75)
    report = build_report(store, run_suite(suite, db=store).id)
    lenient = evaluate_gate(report)
    assert lenient.outcome == "inconclusive" and lenient.on_inconclusive == "pass" and not lenient.fails_ci
    assert evaluate_gate(report, on_inconclusive="fail").fails_ci
    strict_suite = report.suite.model_copy(
        update={"thresholds": Thresholds(min_pass_rate=0.75, on_inconclusive="fail")}
    )
    strict = report.__class__(report.run, strict_suite, report.confidence, report.band_edges, report.variants,
                              report.cases)
    assert evaluate_gate(strict).fails_ci
    by_estimate = strict_suite.model_copy(update={"thresholds": Thresholds(min_pass_rate=0.75, basis="estimate")})
    estimated = report.__class__(report.run, by_estimate, report.confidence, report.band_edges, report.variants,
                                 report.cases)
    assert evaluate_gate(estimated).outcome == "pass"  # 0.8 >= 0.75 by the point estimate alone


def test_band_threshold_uses_the_suites_band_edges(store: Store) -> None:
    suite = _suite(_variant("good", 1.0), cases=30, repeats=3, band="supervised").model_copy(
        update={"band_edges": (0.5, 0.7, 0.8)}
    )
    gate = evaluate_gate(build_report(store, run_suite(suite, db=store).id))
    (check,) = gate.checks
    assert check.outcome == "pass" and "(from 70%)" in check.message


def test_every_sample_errored_fails_without_any_threshold(store: Store) -> None:
    broken = Variant(id="broken", model="mock", params={"fail_always": True, "error": "fatal"})
    report = build_report(store, run_suite(_suite(_variant("ok", 1.0), broken), db=store).id)
    gate = evaluate_gate(report)
    (check,) = gate.checks
    assert check.outcome == "fail" and check.subject == "broken"
    assert "every sample errored (80)" in check.message and "mock: scripted fatal error" in check.message


def test_max_error_rate(store: Store) -> None:
    flaky = _variant("flaky", 1.0, fail_rate=0.5, error="fatal")
    steady = _variant("steady", 1.0)
    report = build_report(store, run_suite(_suite(flaky, steady, cases=30, max_error_rate=0.2), db=store).id)
    outcomes = {check.subject: check.outcome for check in evaluate_gate(report).checks}
    assert outcomes == {"flaky": "fail", "steady": "pass"}


def test_max_regression_from_stored_runs(store: Store) -> None:
    base = run_suite(_suite(_variant("v", 1.0), max_regression=0.05), db=store)
    worse = run_suite(_suite(_variant("v", 0.3), max_regression=0.05), db=store)
    comparison = compare_variants(store, base.id, "v", worse.id, "v")
    gate = evaluate_gate(build_report(store, worse.id), [comparison])
    assert [check.outcome for check in gate.checks] == ["fail"]
    same = compare_variants(store, base.id, "v", base.id, "v")
    assert [check.outcome for check in evaluate_gate(build_report(store, base.id), [same]).checks] == ["pass"]


def test_more_samples_to_decide_shrinks_as_the_gap_grows() -> None:
    near = more_samples_to_decide(Interval(0.82, 0.74, 0.90), 0.8, cases=20, repeats=5, confidence=0.95)
    far = more_samples_to_decide(Interval(0.86, 0.78, 0.94), 0.8, cases=20, repeats=5, confidence=0.95)
    assert near is not None and far is not None and near > far > 0
    assert near % 5 == 0  # whole cases of 5 repeats
    assert more_samples_to_decide(Interval(0.8, 0.7, 0.9), 0.8, cases=20, repeats=5, confidence=0.95) is None


def _simulated_outcomes(true_b: float, runs: int, seed: int) -> dict[str, int]:
    """How the regression gate ends over ``runs`` simulated baseline / candidate pairs (per-sample pass
    chance 0.95 for the baseline, ``true_b`` for the candidate)."""
    rng = np.random.default_rng(seed)
    counts = {"pass": 0, "fail": 0, "inconclusive": 0}
    for _ in range(runs):
        passes_a = rng.binomial(REPEATS, 1 - NOISE, size=CASES)
        passes_b = rng.binomial(REPEATS, true_b, size=CASES)
        side_a = {f"c{i}": (int(p), REPEATS - int(p)) for i, p in enumerate(passes_a)}
        side_b = {f"c{i}": (int(p), REPEATS - int(p)) for i, p in enumerate(passes_b)}
        comparison = compare_counts(side_a, side_b)
        counts[regression_check(comparison, MARGIN, REPEATS, by_interval=True).outcome] += 1
    return counts


def test_an_unchanged_app_passes_or_is_inconclusive_at_least_95_percent_of_the_time() -> None:
    outcomes = _simulated_outcomes(1 - NOISE, runs=1000, seed=1)
    assert outcomes["fail"] / 1000 <= 0.05, outcomes  # measured: 3.9% fail, 16.6% pass, 79.5% inconclusive
    assert outcomes["pass"] > 0  # the gate can pass an unchanged app (the old one never did)


def test_a_regression_of_six_times_the_margin_fails_at_least_90_percent_of_the_time() -> None:
    outcomes = _simulated_outcomes(1 - NOISE - 6 * MARGIN, runs=1000, seed=2)
    assert outcomes["fail"] / 1000 >= 0.90, outcomes  # measured: 96.2% fail, 3.8% inconclusive, never pass
    assert outcomes["pass"] == 0
