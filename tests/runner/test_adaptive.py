"""Adaptive sampling: each variant stops once its band is decided, within the budget, without duplicates."""

from __future__ import annotations

from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec, Suite, Variant
from mendoza.report import build_report
from mendoza.stats import classify_band, confidence_sequence
from mendoza.store import Store


def _suite(**rates: float) -> Suite:
    return Suite(
        name="adaptive",
        cases=tuple(Case(id=f"c{i:02d}", vars={}) for i in range(20)),
        variants=tuple(
            Variant(id=vid, model="mock", params={"pass_rate": rate, "pass_output": "yes", "fail_output": "no"})
            for vid, rate in rates.items()
        ),
        graders=(GraderSpec(type="equals", params={"value": "yes"}, name="equals"),),
        repeats=10,
    )


def test_clear_variants_stop_early_and_close_ones_use_the_budget(store: Store) -> None:
    run = run_suite(_suite(hopeless=0.05, close=0.6), db=store, until_decided=True, budget=600)
    assert run.adaptive and run.status == "complete"
    counts = {row.variant_id: row for row in store.samples.variant_counts(run.id)}
    assert counts["hopeless"].samples < 100  # decided "below the line" after a round or few
    assert counts["hopeless"].samples + counts["close"].samples == run.done_samples <= 600
    assert counts["close"].samples > counts["hopeless"].samples
    hopeless = counts["hopeless"]
    interval = confidence_sequence(hopeless.passed, hopeless.passed + hopeless.failed)
    assert classify_band(interval.low, interval.high).decided
    keys = [(s.variant_id, s.case_id, s.repeat) for s in store.samples.iterate(run.id)]
    assert len(keys) == len(set(keys))
    assert run.expected_samples == run.done_samples


def test_report_of_an_adaptive_run_uses_the_confidence_sequence(store: Store) -> None:
    run = run_suite(_suite(good=1.0), db=store, until_decided=True, budget=1500)
    variant = build_report(store, run.id).variant("good")
    assert variant.interval_method == "confidence sequence"
    assert variant.band.decided and variant.band.band == "autonomous"  # about 1,000 passes in a row
    assert variant.samples < 1500
    assert variant.interval == confidence_sequence(variant.passed, variant.graded)


def test_resuming_an_adaptive_run_continues_within_its_budget(store: Store) -> None:
    run = run_suite(_suite(close=0.6), db=store, until_decided=True, budget=60)
    assert run.done_samples == 60
    store.runs.set_expected_samples(run.id, 0)
    again = run_suite(None, db=store, resume=run.id)
    assert again.done_samples == 60  # the budget was already spent: nothing more is drawn
