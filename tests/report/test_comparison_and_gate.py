"""Paired comparisons, the gate's variant selection, and planning (the gate's outcomes: test_gate.py)."""

from __future__ import annotations

import pytest

from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec, Suite, Thresholds, Variant
from mendoza.report import (
    build_report,
    compare_variants,
    estimate_components,
    plan_comparison,
    plan_precision,
    threshold_failures,
)
from mendoza.stats import paired_difference
from mendoza.store import Store

GRADER = (GraderSpec(type="equals", params={"value": "yes"}, name="equals"),)


def _variant(vid: str, rates: dict[str, float], default: float = 1.0) -> Variant:
    return Variant(id=vid, model="mock", params={"pass_rates": rates, "pass_rate": default,
                                                  "pass_output": "yes", "fail_output": "no"})


def _cases(n: int, prefix: str = "c") -> tuple[Case, ...]:
    return tuple(Case(id=f"{prefix}{i:02d}", vars={}) for i in range(n))


def test_paired_comparison_finds_the_cases_that_changed(store: Store) -> None:
    worse = {f"c{i:02d}": 0.0 for i in range(6)}
    suite = Suite(name="s", cases=_cases(20), variants=(_variant("a", {}), _variant("b", worse)), graders=GRADER,
                  repeats=8)
    run = run_suite(suite, db=store)
    comparison = compare_variants(store, run.id, "a", run.id, "b")
    assert comparison.paired.difference == pytest.approx(-6 / 20)
    assert comparison.paired.n == 20
    expected = paired_difference([0.0] * 6 + [1.0] * 14, [1.0] * 20)
    assert comparison.paired.se == pytest.approx(expected.se)
    assert {case.case_id for case in comparison.changed("worse")} == set(worse)
    assert comparison.changed("better") == []
    assert comparison.significant and "really worse" in comparison.verdict


def test_no_difference_is_reported_as_not_shown(store: Store) -> None:
    suite = Suite(name="s", cases=_cases(15), variants=(_variant("a", {}, 0.5), _variant("b", {}, 0.5)),
                  graders=GRADER, repeats=4)
    run = run_suite(suite, db=store)
    comparison = compare_variants(store, run.id, "a", run.id, "b")
    # common random numbers: same seeds, same rates -> identical outcomes
    assert comparison.paired.difference == 0 and not comparison.significant
    assert comparison.verdict.startswith("No real difference shown")
    assert -1.0 <= comparison.paired.low <= comparison.paired.high <= 1.0


def test_cases_on_one_side_only_are_listed(store: Store) -> None:
    first = run_suite(Suite(name="s", cases=_cases(5), variants=(_variant("v", {}),), graders=GRADER), db=store)
    second_cases = (*_cases(4), Case(id="new-case", vars={}))
    second = run_suite(Suite(name="s", cases=second_cases, variants=(_variant("v", {}),), graders=GRADER), db=store)
    comparison = compare_variants(store, first.id, "v", second.id, "v")
    assert comparison.only_in_a == ["c04"] and comparison.only_in_b == ["new-case"]
    assert comparison.paired.n == 4


def test_gate_band_and_variant_selection(store: Store) -> None:
    suite = Suite(name="s", cases=_cases(30), variants=(_variant("good", {}), _variant("bad", {}, 0.0)),
                  graders=GRADER, repeats=3, thresholds=Thresholds(band="assistive", variants=("good",)))
    report = build_report(store, run_suite(suite, db=store).id)
    assert threshold_failures(report) == []
    everyone = suite.model_copy(update={"thresholds": Thresholds(band="assistive")})
    report_all = report.__class__(report.run, everyone, report.confidence, report.band_edges, report.variants,
                                  report.cases)
    failures = threshold_failures(report_all)
    assert len(failures) == 1 and "'bad'" in failures[0] and "'assistive' band" in failures[0]


def test_plans_trade_cases_for_repeats(store: Store) -> None:
    plan = plan_comparison(0.05, between=0.02, within=0.15, source="assumed")
    cases = [design.cases for design in plan.designs]
    assert cases == sorted(cases, reverse=True)  # more repeats, fewer cases
    assert all(design.samples == design.cases * design.repeats for design in plan.designs)
    # with no within-case noise, repeats buy nothing
    flat = plan_comparison(0.05, between=0.02, within=0.0, source="assumed")
    assert len({design.cases for design in flat.designs}) == 1
    precise = plan_precision(0.05, between=0.05, within=0.1, source="assumed")
    assert precise.designs[0].cases > precise.designs[-1].cases


def test_variance_components_estimated_from_a_run(store: Store) -> None:
    suite = Suite(name="s", cases=_cases(20), variants=(_variant("v", {f"c{i:02d}": 0.0 for i in range(10)}),),
                  graders=GRADER, repeats=4)
    run = run_suite(suite, db=store)
    between, within, source = estimate_components(store, run.id)
    assert between == pytest.approx(0.25, abs=0.03)  # half the cases always fail, half always pass
    assert within == pytest.approx(0.0)
    assert run.id in source


@pytest.mark.parametrize(("errors", "noisy"), [("fail", True), ("exclude", False)])
def test_planning_counts_errors_as_the_suite_says(store: Store, errors: str, noisy: bool) -> None:
    flaky = Variant(id="v", model="mock", params={"pass_rate": 1.0, "pass_output": "yes", "fail_output": "no",
                                                  "fail_rate": 0.5, "error": "fatal"})
    suite = Suite(name="s", cases=_cases(20), variants=(flaky,), graders=GRADER, repeats=4,
                  errors=errors)  # type: ignore[arg-type]
    run = run_suite(suite, db=store)
    _, within, _ = estimate_components(store, run.id)
    assert (within > 0.05) is noisy  # errored samples are the only failures: noise only when they count
