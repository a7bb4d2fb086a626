"""A regrade grades a sample's stored steps without calling the app again, and ``failed_step`` follows the
verdicts it leaves (issue 13: graders on steps)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from mendoza.api import run_suite
from mendoza.config.grader_specs import parse_grader_entry
from mendoza.core import Case, GraderSpec, Sample, Step, Suite, Variant
from mendoza.runner import regrade as regrade_module
from mendoza.soft import regrade_run
from mendoza.store import Store

APP = """
from pathlib import Path

from mendoza.calls.tracing import record_step, step

CALLS = Path(__file__).with_suffix(".calls")


def answer(case):
    question, route, blocked = case["question"], case["route"], case["blocked"]
    with CALLS.open("a") as calls:
        calls.write(question + "\\n")
    with step("router", kind="llm", input=question) as s:
        s.output = route
    if route == "weather":
        record_step("get_weather", "tool", input={"city": "Paris", "units": "C"}, output="sunny")
    with step("answer", kind="llm") as s:
        s.output = text = f"the answer to {question}"
    with step("guardrail", kind="guardrail") as s:
        s.output = "ok"
        if blocked:
            s.fail("blocked")
    return "blocked" if blocked else text
"""

#: (case id, what the app's router says, what the case expects of it, whether the guardrail fails)
CASES = [
    ("sunny", "weather", "weather", False),
    ("misrouted", "billing", "weather", False),
    ("blocked", "weather", "weather", True),
    ("misrouted-and-blocked", "billing", "weather", True),
]


@pytest.fixture
def app(tmp_path: Path) -> Path:
    path = tmp_path / "steps_app.py"
    path.write_text(textwrap.dedent(APP), encoding="utf-8")
    return path


def calls(app: Path) -> int:
    record = app.with_suffix(".calls")
    return len(record.read_text(encoding="utf-8").splitlines()) if record.exists() else 0


def suite(app: Path, graders: Sequence[GraderSpec] = (), repeats: int = 1) -> Suite:
    return Suite(
        name="steps-regrade",
        cases=tuple(
            Case(id=case_id, vars={"question": case_id, "route": route, "expected_route": wanted, "blocked": blocked})
            for case_id, route, wanted, blocked in CASES
        ),
        variants=(Variant(id="app", model=f"python:{app}:answer"),),
        graders=tuple(graders) or (parse_grader_entry({"contains": "the answer"}, 0),),
        repeats=repeats,
    )


def by_case(store: Store, run_id: str, steps: bool = False) -> dict[str, Sample]:
    return {sample.case_id: sample for sample in store.samples.iterate(run_id, steps=steps)}


def verdicts(store: Store, run_id: str, grader: str) -> dict[str, tuple[bool | None, str]]:
    return {grade.case_id: (grade.passed, grade.explanation) for grade in store.grades.current(run_id, grader)}


def failed_steps(store: Store, run_id: str) -> dict[str, str | None]:
    return {case_id: sample.failed_step for case_id, sample in by_case(store, run_id).items()}


def entry(raw: Any) -> GraderSpec:
    return parse_grader_entry(raw, 0)


def test_the_run_stores_the_steps_a_regrade_then_grades(app: Path, store: Store) -> None:
    run = run_suite(suite(app), db=store)
    assert calls(app) == 4
    steps = by_case(store, run.id, steps=True)["sunny"].steps
    assert [(step.name, step.kind) for step in steps] == [
        ("router", "llm"), ("get_weather", "tool"), ("answer", "llm"), ("guardrail", "guardrail")
    ]
    # Before any step grader, a sample fails at a step only where a step errored.
    assert failed_steps(store, run.id) == {
        "sunny": None, "misrouted": None, "blocked": "guardrail", "misrouted-and-blocked": "guardrail"
    }


def test_a_new_tool_called_grader_grades_the_stored_steps_without_calling_the_app(app: Path, store: Store) -> None:
    run = run_suite(suite(app), db=store)
    result = regrade_run(store, run.id, graders=[entry({"tool_called": "get_weather", "arguments": {"city": "Paris"}})])
    assert calls(app) == 4  # the app was not called again
    assert result.samples.written == 4 and result.samples.errors == 0
    found = verdicts(store, run.id, "tool_called")
    assert found["sunny"] == (True, 'called get_weather with \'{"city": "Paris", "units": "C"}\'')
    assert found["misrouted"] == (False, "no call of get_weather; no tool was called")
    assert {case: passed for case, (passed, _) in found.items()} == {
        "sunny": True, "misrouted": False, "blocked": True, "misrouted-and-blocked": False
    }
    samples = by_case(store, run.id)
    assert samples["sunny"].passed is True and samples["misrouted"].passed is False  # the verdict counts it


def test_a_step_grader_added_by_a_regrade_moves_the_first_failing_step(app: Path, store: Store) -> None:
    run = run_suite(suite(app), db=store)
    router = entry({"equals": "{{ expected_route }}", "step": "router"})
    regrade_run(store, run.id, graders=[router])
    assert calls(app) == 4
    assert verdicts(store, run.id, "router.equals")["misrouted"] == (False, "expected 'weather', got 'billing'")
    # The router comes before the guardrail: where the misrouted samples' failure starts is the router now.
    assert failed_steps(store, run.id) == {
        "sunny": None, "misrouted": "router", "blocked": "guardrail", "misrouted-and-blocked": "router"
    }
    assert store.steps.failed_at(run.id) == [("app", "router", 2, 0), ("app", "guardrail", 1, 0)]
    # A changed grader of the same name that passes every router: the failures at the router are gone.
    lenient = entry({"equals": "{{ route }}", "step": "router", "name": "router.equals"})
    regrade_run(store, run.id, graders=[lenient])
    assert failed_steps(store, run.id) == {
        "sunny": None, "misrouted": None, "blocked": "guardrail", "misrouted-and-blocked": "guardrail"
    }


def test_a_step_grader_dropped_from_the_grader_set_no_longer_decides_the_failed_step(
    app: Path, store: Store
) -> None:
    router = entry({"equals": "{{ expected_route }}", "step": "router"})
    run = run_suite(suite(app, [router]), db=store)
    assert failed_steps(store, run.id)["misrouted"] == "router"  # as the run computed it
    regrade_run(store, run.id, suite=suite(app, [entry({"contains": "the answer"})]))
    assert failed_steps(store, run.id)["misrouted"] is None
    assert failed_steps(store, run.id)["misrouted-and-blocked"] == "guardrail"
    # No current grader at all: only the steps that errored are left.
    store.grades.refresh_verdicts(run.id, [])
    assert failed_steps(store, run.id) == {
        "sunny": None, "misrouted": None, "blocked": "guardrail", "misrouted-and-blocked": "guardrail"
    }


def test_a_negated_step_grader_that_fails_marks_its_step(app: Path, store: Store) -> None:
    run = run_suite(suite(app), db=store)
    regrade_run(store, run.id, graders=[entry({"not-equals": "weather", "step": "router"})])
    assert failed_steps(store, run.id)["sunny"] == "router"  # the stored grade is the negated verdict
    assert failed_steps(store, run.id)["misrouted"] is None


def test_trajectory_and_turn_free_graders_regrade_from_steps(app: Path, store: Store) -> None:
    run = run_suite(suite(app), db=store)
    plan = entry({"trajectory": ["router", "get_weather", "answer"], "max_steps": 4})
    regrade_run(store, run.id, graders=[plan])
    found = verdicts(store, run.id, "trajectory")
    assert found["sunny"] == (True, "in order: router → get_weather → answer")
    assert found["misrouted"][0] is False and "missing get_weather" in found["misrouted"][1]


def test_steps_are_read_a_batch_of_samples_at_a_time(
    app: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = run_suite(suite(app, repeats=3), db=store)
    asked: list[list[int]] = []
    read = store.steps.of_samples

    def spy(sample_ids: Sequence[int]) -> dict[int, list[Step]]:
        asked.append(list(sample_ids))
        return read(sample_ids)

    monkeypatch.setattr(store.steps, "of_samples", spy)
    monkeypatch.setattr(regrade_module, "STEPS_BATCH", 5)
    result = regrade_run(store, run.id, graders=[entry({"tool_called": "get_weather"})])
    assert result.samples.written == 12
    assert [len(batch) for batch in asked] == [5, 5, 2]  # never the whole run at once
    covered = sorted(sample_id for batch in asked for sample_id in batch)
    assert covered == sorted(row[0] for row in store.grades.sample_verdicts(run.id))
    passed = [grade.passed for grade in store.grades.current(run.id, "tool_called")]
    assert passed.count(True) == 6 and passed.count(False) == 6


def test_graders_that_read_no_steps_read_none(app: Path, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    run = run_suite(suite(app), db=store)

    def refuse(sample_ids: Sequence[int]) -> dict[int, list[Step]]:
        raise AssertionError("steps read for graders that do not use them")

    monkeypatch.setattr(store.steps, "of_samples", refuse)
    result = regrade_run(store, run.id, graders=[entry({"contains": "answer", "name": "mentions"})])
    assert result.samples.written == 4 and result.samples.errors == 0
