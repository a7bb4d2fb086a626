"""The report per step, from samples with steps written straight to the store: each figure against the
counts the design implies, every rate through ``rate_of``, and the exports."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mendoza.core import GraderSpec, OutcomeCounts, Sample, Step
from mendoza.report import (
    FINAL_OUTPUT,
    StepChain,
    build_report,
    rate_of,
    report_to_dict,
    report_to_html,
    report_to_markdown,
    rules_of,
    step_chain_words,
)
from mendoza.store import Store
from tests.report.steps_factory import N_CASES, REPEATS, Plan, write_steps_run
from tests.store.factories import make_suite, sample


def _cells(*rows: tuple[int, int, int, int]) -> list[OutcomeCounts]:
    """Per case ``(samples, passed, failed, errored)``."""
    return [OutcomeCounts.of(*row) for row in rows]


def test_each_step_has_its_counts_rate_latency_tokens_and_cost_share(store: Store) -> None:
    run = write_steps_run(store)
    report = build_report(store, run.id)
    app = report.variant("app")
    assert [step.name for step in app.steps] == ["router", "lookup", "answer"]  # the order they run in
    router, lookup, answer = app.steps
    assert (router.kind, lookup.kind, answer.kind) == ("llm", "tool", "llm")

    # how often: 19 of the 20 samples (the errored one recorded no step); lookup runs twice in the last case
    assert (router.samples, router.variant_samples, router.runs) == (19, 20, 19)
    assert router.ran_share == pytest.approx(0.95)
    assert (lookup.samples, lookup.runs, lookup.errors) == (19, 15 + 2 * 4, 1)
    assert lookup.error_share == pytest.approx(1 / 23) and router.error_share == 0.0

    # the router's own rate is the route grader's counts through rate_of (the errored sample fails it)
    expected = rate_of(
        _cells((5, 4, 1, 0), (5, 4, 1, 0), (5, 5, 0, 0), (5, 4, 0, 1)),
        repeats=REPEATS,
        rules=rules_of(report.suite, run),
        curve_intervals=False,
    )
    assert router.rate is not None and router.graders == ["route"]
    assert router.pass_rate == pytest.approx(17 / 20) == expected.reliability.rate
    assert router.rate.reliability.interval == expected.reliability.interval
    assert router.rate.reliability.method == "clustered by case"
    assert lookup.rate is None and answer.rate is None and lookup.graders == []

    # latency over every run of the step, with the report's percentile rule
    durations = [10.0 + i for i in range(N_CASES) for r in range(REPEATS) if (i, r) != (3, 4)]
    assert router.latency_p50_ms == pytest.approx(float(np.percentile(durations, 50)))
    assert router.latency_p95_ms == pytest.approx(float(np.percentile(durations, 95)))
    assert (router.tokens_in, router.tokens_out, answer.tokens_in, answer.tokens_out) == (95, 19, 950, 380)
    assert router.cost == pytest.approx(0.019) and router.cost_share == pytest.approx(0.2)
    assert answer.cost_share == pytest.approx(0.8) and lookup.cost is None and lookup.cost_share is None


def test_where_failures_start_and_the_end_to_end_beside_the_product(store: Store) -> None:
    run = write_steps_run(store)
    app = build_report(store, run.id).variant("app")
    # 4 failed + 1 errored did not pass: 2 at the router, 1 at the lookup, 1 at the final output, 1 errored
    assert [(start.name, start.kind, start.samples) for start in app.failed_at] == [
        ("router", "step", 2),
        ("lookup", "step", 1),
        (FINAL_OUTPUT, "final output", 1),
        ("errored", "error", 1),
    ]
    assert [start.share for start in app.failed_at] == pytest.approx([0.4, 0.2, 0.2, 0.2])

    # the final output's factor is the answer grader's rate; end-to-end is the variant's automatic rate
    assert app.final_output is not None and app.final_output.reliability.rate == pytest.approx(15 / 20)
    chain = app.step_chain
    assert chain is not None
    assert chain.end_to_end_rate == pytest.approx(0.75) == app.pass_rate
    assert chain.factors == [("router", pytest.approx(0.85)), (FINAL_OUTPUT, pytest.approx(0.75))]
    assert chain.product == pytest.approx(0.85 * 0.75)
    words = step_chain_words(chain)
    assert words.startswith("end-to-end 75.0% vs 63.7% if its steps failed independently (router 85.0% x ")


def test_several_graders_on_one_step_pass_it_only_together(store: Store) -> None:
    run = write_steps_run(store, joint=True)
    report = build_report(store, run.id)
    router = report.variant("app").steps[0]
    assert router.graders == ["route", "route-format"]
    expected = rate_of(
        _cells((5, 4, 1, 0), (5, 4, 1, 0), (5, 4, 1, 0), (5, 4, 0, 1)),
        repeats=REPEATS,
        rules=rules_of(report.suite, run),
        curve_intervals=False,
    )
    assert router.rate is not None and router.pass_rate == pytest.approx(0.8)
    assert router.rate.reliability.interval == expected.reliability.interval
    # each grader's own rate is still in the per grader breakdown
    by_grader = {item.name: item.rate.reliability.rate for item in report.variant("app").by_grader}
    assert by_grader["route"] == pytest.approx(0.85) and by_grader["route-format"] == pytest.approx(18 / 20)
    app = report.variant("app")
    assert [(start.name, start.samples) for start in app.failed_at][:2] == [("router", 3), ("lookup", 1)]
    assert app.step_chain is not None and app.step_chain.end_to_end_rate == pytest.approx(0.7)
    assert app.step_chain.product == pytest.approx(0.8 * 0.75)


def test_a_graded_step_that_never_ran_is_still_listed(store: Store) -> None:
    plan = Plan()
    run = write_steps_run(store, plan)
    suite = store.runs.suite(run.id)
    # A grader that targets a step no sample ran, made current as a regrade would.
    ghost = GraderSpec(type="equals", params={"value": "x"}, name="ghost", step="planner")
    store.grades.record_grader_set(run.id, [*suite.graders, ghost])
    app = build_report(store, run.id).variant("app")
    planner = app.steps[-1]
    assert (planner.name, planner.samples, planner.runs, planner.position) == ("planner", 0, 0, None)
    assert planner.graders == ["ghost"] and planner.rate is not None


def test_variants_and_runs_without_steps_have_no_step_section(store: Store) -> None:
    run = write_steps_run(store)
    plain = build_report(store, run.id).variant("plain")
    assert plain.steps == [] and plain.failed_at == [] and plain.step_chain is None and plain.final_output is None

    bare = store.runs.create(make_suite(n_cases=2, variant_ids=("a",), repeats=2))
    store.samples.write(bare.id, [sample("c1", "a", 0, passed=False), sample("c2", "a", 0, error="boom")])
    report = build_report(store, bare.id)
    variant = report.variant("a")
    assert variant.steps == [] and variant.failed_at == [] and variant.step_chain is None
    data = report_to_dict(report)["variants"][0]
    assert data["steps"] == [] and data["failed_at"] == [] and data["step_chain"] is None
    assert data["final_output"] is None
    assert "Steps" not in report_to_markdown(report) and "<h2>Steps</h2>" not in report_to_html(report)


def _rate(per_case: tuple[int, int], cases: int) -> StepChain:
    return StepChain(rate_of([OutcomeCounts(*per_case)] * cases, repeats=10), [], 0.0)


@pytest.mark.parametrize(
    ("product", "pattern", "words"),
    [
        (0.70, "together", "failures are correlated, the samples that fail one step tend to fail others"),
        (0.99, "apart", "the steps tend to fail on different samples"),
        (0.88, None, None),  # within MARKED_DIFFERENCE
    ],
)
def test_the_chain_sentence_says_which_way_failures_go(product: float, pattern: str | None, words: str | None) -> None:
    base = _rate((9, 1), 60)  # 90%, a tight interval over 60 cases
    chain = StepChain(base.end_to_end, [("a", 0.9), ("b", product / 0.9)], product)
    assert chain.pattern == pattern
    sentence = step_chain_words(chain)
    assert (words in sentence) if words else sentence.endswith(")")


def test_a_difference_inside_the_interval_is_not_marked() -> None:
    wide = _rate((3, 2), 2)  # 60% over two cases: a wide interval
    low, high = wide.end_to_end.reliability.interval.low, wide.end_to_end.reliability.interval.high
    product = 0.5
    assert low < product < high
    assert StepChain(wide.end_to_end, [("a", 0.5), ("b", 1.0)], product).pattern is None


def test_steps_in_the_json_markdown_and_html(store: Store) -> None:
    run = write_steps_run(store)
    report = build_report(store, run.id)
    data = json.loads(json.dumps(report_to_dict(report)))
    assert data["schema"] == "mendoza.report/2"
    app = next(variant for variant in data["variants"] if variant["id"] == "app")
    router = app["steps"][0]
    assert {key: router[key] for key in ("name", "kind", "samples", "runs", "errors", "graders")} == {
        "name": "router", "kind": "llm", "samples": 19, "runs": 19, "errors": 0, "graders": ["route"]
    }
    assert router["ran_share"] == 0.95 and router["cost_share"] == 0.2 and router["position"] == 0.0
    assert router["rate"]["pass_rate"]["estimate"] == 0.85 and router["rate"]["pass_rate"]["method"]
    assert router["tokens"] == {"input": 95, "output": 19}
    assert router["latency_ms"]["p50"] == report.variant("app").steps[0].latency_p50_ms
    assert app["steps"][1]["rate"] is None and app["steps"][1]["error_share"] == round(1 / 23, 6)
    assert app["failed_at"][0] == {"name": "router", "kind": "step", "samples": 2, "share": 0.4}
    assert app["final_output"]["pass_rate"]["estimate"] == 0.75
    assert app["step_chain"] == {
        "end_to_end": 0.75,
        "product": 0.6375,
        "factors": [{"name": "router", "pass_rate": 0.85}, {"name": "final output", "pass_rate": 0.75}],
        "pattern": app["step_chain"]["pattern"],
    }
    plain = next(variant for variant in data["variants"] if variant["id"] == "plain")
    assert plain["steps"] == [] and plain["step_chain"] is None

    markdown = report_to_markdown(report)
    assert "## Steps of app" in markdown and "| router | llm | 19/20 (95.0%) | 85.0% [" in markdown
    assert "- where failures start: router 2 (40.0%), lookup 1 (20.0%), final output 1 (20.0%)" in markdown
    assert "- end-to-end 75.0% vs 63.7%" in markdown
    page = report_to_html(report)
    assert "<h2>Steps</h2>" in page and "<td>router</td><td>llm</td>" in page
    assert "Where failures start: router 2 (40.0%)" in page


def test_step_names_are_escaped_in_html_and_markdown(store: Store) -> None:
    suite = make_suite(n_cases=1, variant_ids=("a",), repeats=1)
    run = store.runs.create(suite)
    evil = "<script>x</script>|pipe"
    store.samples.write(run.id, [Sample("c1", "a", 0, "p", "o", steps=(Step(evil, "tool"),), failed_step=evil)])
    report = build_report(store, run.id)
    page = report_to_html(report)
    assert "<script>x" not in page and "&lt;script&gt;x&lt;/script&gt;|pipe" in page
    assert "| &lt;" not in report_to_markdown(report) and "<script>x</script>\\|pipe" in report_to_markdown(report)


def test_a_passed_sample_with_a_recovered_step_error_is_not_a_failure_start(store: Store) -> None:
    run = write_steps_run(store, Plan(lookup_errors=frozenset({(2, 1), (1, 3)})))  # (1, 3) passes anyway
    app = build_report(store, run.id).variant("app")
    assert [(start.name, start.samples) for start in app.failed_at][:2] == [("router", 2), ("lookup", 1)]
