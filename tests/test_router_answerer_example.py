"""The router_answerer example (issue 13), run for real on the embedded model: a router span, an answerer
through ``mendoza.model`` and a guardrail step per sample, graded per step, reported per step."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mendoza.api import load_suite, run_suite
from mendoza.cli.main import cli
from mendoza.report import build_report, report_to_dict
from mendoza.store import Store

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "router_answerer" / "suite.yaml"

pytestmark = pytest.mark.slow


def test_the_example_reports_each_steps_reliability_and_where_failures_start(store: Store) -> None:
    full = load_suite(EXAMPLE)
    suite = full.model_copy(update={"cases": full.cases[:4] + full.cases[8:10], "repeats": 1})
    run = run_suite(suite, db=store)
    samples = list(store.samples.iterate(run.id, steps=True))
    assert len(samples) == 6 and all(sample.error is None for sample in samples)
    for sample in samples:
        names = [step.name for step in sample.steps]
        assert names == ["router", "classify", "answer", "guardrail"], names
        router, classify, answer, guardrail = sample.steps
        assert classify.parent_id == router.span_id  # the model call nested in the router's span
        assert router.output in ("billing", "technical", "account", "shipping", "other")
        assert classify.tokens_in and answer.tokens_out is not None
        assert guardrail.output in ("sent", "blocked") and (guardrail.error is None) == (guardrail.output == "sent")
    variant = report_to_dict(build_report(store, run.id))["variants"][0]
    rated = {step["name"]: step["rate"]["pass_rate"] for step in variant["steps"] if step["rate"] is not None}
    assert {"router", "guardrail"} <= set(rated)
    assert all(rate["low"] <= rate["estimate"] <= rate["high"] for rate in rated.values())
    failed = sum(1 for sample in samples if sample.passed is False)
    assert sum(start["samples"] for start in variant["failed_at"]) == failed


def test_mendoza_show_prints_the_step_table(store: Store, tmp_path: Path) -> None:
    full = load_suite(EXAMPLE)
    run = run_suite(full.model_copy(update={"cases": full.cases[:2], "repeats": 1}), db=store)
    shown = CliRunner().invoke(cli, ["show", run.id, "--db", str(store.path)], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    assert "router" in shown.output and "guardrail" in shown.output and "where failures start" in shown.output.lower()
