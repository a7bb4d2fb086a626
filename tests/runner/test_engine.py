"""The run loop against the fast doubles: every sample stored once, errors on samples, concurrency, cache."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from mendoza.api import load_suite, run_suite, run_suite_async
from mendoza.core import Case, GraderSpec, Suite, Variant
from mendoza.runner import RunOptions
from mendoza.store import Store


def _suite(variant: dict[str, Any], n_cases: int = 4, repeats: int = 3, **fields: Any) -> Suite:
    return Suite(
        name="t",
        cases=tuple(Case(id=f"c{i}", vars={"word": f"w{i}"}, expected=f"w{i}") for i in range(n_cases)),
        variants=(Variant.model_validate({"id": "v", "model": "mock", **variant}),),
        graders=(GraderSpec(type="contains", params={"value": "{{ expected }}"}, name="contains"),),
        repeats=repeats,
        **fields,
    )


def test_echo_run_stores_every_sample_once_with_grades(write_suite: Any, store: Store) -> None:
    run = run_suite(load_suite(write_suite()), db=store)
    assert run.status == "complete"
    assert run.done_samples == run.expected_samples == 4 * 1 * 3
    samples = list(store.samples.iterate(run.id))
    keys = [(s.variant_id, s.case_id, s.repeat) for s in samples]
    assert len(set(keys)) == len(keys) == 12
    assert all(s.output == f"say w{s.case_id[1:]}" and s.passed for s in samples)
    assert all(len(s.grades) == 1 and s.grades[0].grader == "contains" for s in samples)


def test_repeats_are_different_samples(store: Store) -> None:
    suite = _suite({"params": {"outputs": [f"o{i}" for i in range(50)]}}, n_cases=1, repeats=10)
    run = run_suite(suite, db=store)
    outputs = [s.output for s in store.samples.iterate(run.id)]
    seeds = {s.seed for s in store.samples.iterate(run.id)}
    assert len(seeds) == 10
    assert len(set(outputs)) > 5  # seeded choice among 50: ten repeats are not one output


def test_retryable_errors_recover_and_count_attempts(store: Store) -> None:
    suite = _suite({"params": {"fail_first": 2, "error": "rate_limit", "retry_after": 0.001}}, max_retries=3)
    run = run_suite(suite, db=store)
    samples = list(store.samples.iterate(run.id))
    assert all(s.error is None and s.attempts == 3 for s in samples)
    assert run.status == "complete"


def test_failures_are_recorded_on_the_sample_and_the_run_completes(store: Store) -> None:
    suite = _suite({"params": {"fail_always": True, "error": "fatal"}})
    run = run_suite(suite, db=store)
    samples = list(store.samples.iterate(run.id))
    assert run.status == "complete" and len(samples) == 12
    assert all(s.error and s.output is None and s.grades == () and s.attempts == 1 for s in samples)
    counts = store.samples.variant_counts(run.id)[0]
    assert counts.errors == 12 and counts.passed == counts.failed == 0


def test_timeouts_are_retried_then_recorded(store: Store) -> None:
    suite = _suite({"params": {"hang": True}, "timeout": 0.02}, n_cases=2, repeats=1, max_retries=1)
    run = run_suite(suite, db=store)
    samples = list(store.samples.iterate(run.id))
    assert all("no answer within 0.02s" in (s.error or "") and s.attempts == 2 for s in samples)


def test_a_crashing_grader_gives_an_error_grade_not_a_crash(tmp_path: Path, store: Store) -> None:
    module = tmp_path / "bad_grader.py"
    module.write_text("def grade(output, case):\n    raise RuntimeError('grader bug')\n")
    suite = _suite({"params": {"output": "x"}}).model_copy(
        update={
            "graders": (GraderSpec(type="python", params={"function": f"{module}:grade"}, name="python"),)
        }
    )
    run = run_suite(suite, db=store)
    samples = list(store.samples.iterate(run.id))
    assert all(s.error is None and s.passed is None for s in samples)
    assert all("grader bug" in (s.grades[0].error or "") for s in samples)
    assert store.samples.variant_counts(run.id)[0].undecided == 12


CONCURRENCY_APP = """
import asyncio
state = {"now": 0, "peak": 0}

async def app(vars):
    state["now"] += 1
    state["peak"] = max(state["peak"], state["now"])
    await asyncio.sleep(0.01)
    state["now"] -= 1
    return f"peak {state['peak']}"
"""


def test_concurrency_limit_per_variant_is_respected(tmp_path: Path, store: Store) -> None:
    app = tmp_path / "concurrency_app.py"
    app.write_text(CONCURRENCY_APP)
    suite = _suite({"model": f"python:{app}:app", "concurrency": 3}, n_cases=10, repeats=2)
    run = run_suite(suite, db=store)
    peaks = [int((s.output or "peak 0").split()[1]) for s in store.samples.iterate(run.id)]
    assert max(peaks) == 3


def test_cache_reuses_outputs_across_runs_but_never_across_repeats(store: Store) -> None:
    suite = _suite(
        {"model": "mock/cached", "params": {"cacheable": True, "outputs": [str(i) for i in range(1000)]}},
        n_cases=2,
        repeats=5,
    )
    first = run_suite(suite, db=store)
    second = run_suite(suite, db=store)
    first_outputs = {(s.case_id, s.repeat): s.output for s in store.samples.iterate(first.id)}
    second_samples = list(store.samples.iterate(second.id))
    assert all(s.cached for s in second_samples)
    assert {(s.case_id, s.repeat): s.output for s in second_samples} == first_outputs
    assert len({output for output in first_outputs.values()}) > 5  # repeats differ
    third = run_suite(suite, db=store, use_cache=False)
    assert not any(s.cached for s in store.samples.iterate(third.id))


def test_cancelled_run_resumes_to_exactly_one_sample_per_key(store: Store) -> None:
    suite = _suite(
        {"params": {"delay": 0.01, "output": "{{ word }}"}, "concurrency": 2}, n_cases=20, repeats=3
    )
    options = RunOptions(batch_size=5, flush_interval=0.01)

    async def run_then_cancel() -> str:
        task = asyncio.create_task(run_suite_async(suite, store, options=options))
        await asyncio.sleep(0.15)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return store.runs.latest()[0].id

    run_id = asyncio.run(run_then_cancel())
    partial = store.runs.get(run_id)
    assert partial.status == "interrupted"
    assert 0 < partial.done_samples < 60
    finished = run_suite(None, db=store, resume=run_id)
    assert finished.status == "complete" and finished.done_samples == 60
    keys = [(s.case_id, s.repeat) for s in store.samples.iterate(run_id)]
    assert len(keys) == len(set(keys)) == 60


def test_retry_errors_samples_errored_keys_again(tmp_path: Path, store: Store) -> None:
    flag = tmp_path / "fail"
    flag.write_text("1")
    app = tmp_path / "flaky_app.py"
    app.write_text(
        f"from pathlib import Path\ndef app(vars):\n    if Path({str(flag)!r}).exists():\n"
        f"        raise RuntimeError('down')\n    return vars['word']\n"
    )
    suite = _suite({"model": f"python:{app}:app"}, n_cases=3, repeats=2)
    run = run_suite(suite, db=store)
    assert store.samples.variant_counts(run.id)[0].errors == 6
    flag.unlink()
    resumed = run_suite(None, db=store, resume=run.id, retry_errors=True)
    counts = store.samples.variant_counts(resumed.id)[0]
    assert counts.errors == 0 and counts.passed == 6 and resumed.done_samples == 6
