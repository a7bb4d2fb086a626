"""The reliability report built from a real store: intervals, bands, pass@k, per case cells, exports."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec, Suite, Variant
from mendoza.report import build_report, report_to_dict, report_to_html, report_to_markdown
from mendoza.stats import pass_at_k, pass_hat_k
from mendoza.store import Store


def _suite(pass_rates: dict[str, float], repeats: int = 4, n_cases: int = 20, **fields: Any) -> Suite:
    variants = tuple(
        Variant(id=vid, model="mock", params={"pass_rate": rate, "pass_output": "yes", "fail_output": "no"})
        for vid, rate in pass_rates.items()
    )
    return Suite(
        name="mocked",
        cases=tuple(Case(id=f"c{i:02d}", vars={}) for i in range(n_cases)),
        variants=variants,
        graders=(GraderSpec(type="equals", params={"value": "yes"}, name="equals"),),
        repeats=repeats,
        **fields,
    )


def test_interval_band_and_advice(store: Store) -> None:
    run = run_suite(_suite({"always": 1.0, "never": 0.0, "half": 0.5}), db=store)
    report = build_report(store, run.id)
    always, never, half = (report.variant(v) for v in ("always", "never", "half"))
    assert always.pass_rate == 1.0 and always.interval.high == 1.0 and always.interval.low > 0.8
    assert never.pass_rate == 0.0 and never.band.decided and never.band.band == "below the Mendoza line"
    assert "Do not automate" in never.recommendation
    assert 0.3 < half.pass_rate < 0.7 and half.interval.low < half.pass_rate < half.interval.high
    assert always.interval_method == "clustered by case"
    # every case of 'half' is flaky or not, consistently with its counts
    cells = [cell for cell in report.cases if cell.variant_id == "half"]
    assert half.flaky_cases == sum(cell.flaky for cell in cells) > 0
    assert all(cell.interval.low <= cell.passed / cell.graded <= cell.interval.high for cell in cells)


def test_undecided_band_names_both_sides_and_samples_to_decide(store: Store) -> None:
    run = run_suite(_suite({"edge": 0.6}, repeats=2, n_cases=10), db=store)
    variant = build_report(store, run.id).variant("edge")
    assert not variant.band.decided and variant.band.between is not None
    assert variant.band.between[0] != variant.band.between[1]
    assert variant.recommendation.startswith("Undecided between")
    assert variant.samples_to_decide is None or variant.samples_to_decide > 0


def test_pass_at_k_and_pass_hat_k_average_the_unbiased_estimators(store: Store) -> None:
    run = run_suite(_suite({"half": 0.5}, repeats=5, n_cases=8), db=store)
    report = build_report(store, run.id)
    variant = report.variant("half")
    cells = [cell for cell in report.cases if cell.variant_id == "half"]
    for k in range(1, 6):
        expected_at = sum(pass_at_k(c.graded, c.passed, k) for c in cells) / len(cells)
        expected_hat = sum(pass_hat_k(c.graded, c.passed, k) for c in cells) / len(cells)
        assert variant.pass_at_k[k - 1] == pytest.approx(expected_at)
        assert variant.pass_hat_k[k - 1] == pytest.approx(expected_hat)
    assert variant.pass_at_k == sorted(variant.pass_at_k)  # more tries, more chances
    assert variant.pass_hat_k == sorted(variant.pass_hat_k, reverse=True)
    assert variant.pass_at_k[0] == pytest.approx(variant.pass_hat_k[0]) == pytest.approx(variant.pass_rate)


def test_an_all_errored_variant_counts_as_failing_and_says_why(store: Store) -> None:
    suite = _suite({"ok": 1.0}, repeats=2, n_cases=5)
    broken = Variant(id="broken", model="mock", params={"fail_always": True, "error": "fatal"})
    suite = suite.model_copy(update={"variants": (*suite.variants, broken)})
    run = run_suite(suite, db=store)
    report = build_report(store, run.id)
    broken_result = report.variant("broken")
    assert broken_result.errors == 10 and broken_result.graded == 10 and broken_result.pass_rate == 0.0
    assert broken_result.all_errored and broken_result.top_errors[0].count == 10
    assert any("every sample of 'broken' errored (10)" in warning for warning in broken_result.warnings)
    assert report.variant("ok").errors == 0 and report.variant("ok").pass_rate == 1.0


def test_json_export_is_versioned_and_complete(store: Store) -> None:
    run = run_suite(_suite({"a": 0.8, "b": 0.4}, repeats=3, n_cases=6), db=store)
    data = json.loads(json.dumps(report_to_dict(build_report(store, run.id))))
    assert data["schema"] == "mendoza.report/2" and data["verdicts"] == "human-adjusted"
    assert data["run"]["id"] == run.id and data["run"]["mode"] == "fixed"
    assert data["band_edges"] == [0.6, 0.9, 0.99] and data["confidence"] == 0.95
    assert [v["id"] for v in data["variants"]] == ["a", "b"]
    variant = data["variants"][0]
    assert set(variant["pass_rate"]) == {"estimate", "low", "high", "method"}
    assert variant["error_rule"] == "fail" and variant["errors"] == 0
    assert variant["bounds"] is None and variant["top_errors"] == []
    assert set(variant["pass_at_k"]) == {"1", "2", "3"}
    assert set(variant["band"]) == {"decided", "band", "between", "samples_to_decide"}
    assert len(data["cases"]) == 12 and {"variant", "case", "passed", "graded", "flaky"} <= set(data["cases"][0])


def test_markdown_and_html_escape_and_contain_the_figures(store: Store) -> None:
    suite = _suite({"<b>bold</b>": 1.0}, repeats=2, n_cases=3).model_copy(
        update={"description": "<script>alert(1)</script>"}
    )
    run = run_suite(suite, db=store)
    report = build_report(store, run.id)
    markdown = report_to_markdown(report)
    assert "| <b>bold</b> | 100.0% |" in markdown and "## What to build" in markdown
    page = report_to_html(report)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "the Mendoza line" in page
    assert "<svg" in page and "http://" not in page.replace("http://www.w3.org", "")


def test_custom_band_edges_and_confidence_are_used(store: Store) -> None:
    run = run_suite(_suite({"good": 1.0}, repeats=3, n_cases=30, band_edges=(0.5, 0.7, 0.8), confidence=0.9),
                    db=store)
    report = build_report(store, run.id)
    assert report.band_edges == (0.5, 0.7, 0.8) and report.confidence == 0.9
    assert report.variant("good").band.band == "autonomous"


def test_pass_at_k_has_a_bootstrap_interval_over_cases(store: Store) -> None:
    run = run_suite(_suite({"half": 0.5}, repeats=4, n_cases=30), db=store)
    report = build_report(store, run.id)
    result = report.variant("half").rate.reliability
    for estimate, (low, high) in zip(result.pass_at_k, result.pass_at_k_interval, strict=True):
        assert low <= estimate <= high
    low, high = result.pass_at_k_interval[0]
    assert high - low > 0.05  # 30 cases at 50%: pass@1 is far from pinned down
    for estimate, (low, high) in zip(result.pass_hat_k, result.pass_hat_k_interval, strict=True):
        assert low <= estimate <= high
    data = report_to_dict(report)["variants"][0]
    assert set(data["pass_at_k_interval"]) == {"1", "2", "3", "4"}
    assert data["pass_at_k_interval"]["2"][0] <= data["pass_at_k"]["2"] <= data["pass_at_k_interval"]["2"][1]
