"""The runner survives any grader (issue 12, part 1): a grader that exits, loops forever or blocks is that
grade's error or its time limit, never the end of the run; blocking graders run off the event loop, so they
neither inflate the measured latency of the model call nor hold up Ctrl-C and SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from mendoza.api import GradeOptions, regrade_run, run_suite
from mendoza.core import Case, GraderSpec, Suite, Variant
from mendoza.report import build_report, report_to_dict
from mendoza.store import Store

CHECKS = """
import time

def exits(output, case):
    raise SystemExit(0)

def loops(output, case):
    while True:
        pass

def spins(output, case):
    end = time.monotonic() + 3  # long past its time limit, yet it ends: no thread left spinning in the tests
    while time.monotonic() < end:
        pass
    return True

def slow(output, case):
    time.sleep(0.3)
    return True

def fine(output, case):
    return output.startswith("say")
"""


@pytest.fixture
def checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    module = f"mz_hostile_checks_{os.getpid()}"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(CHECKS), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return module


def _suite(module: str, function: str, cases: int = 4, **fields: object) -> Suite:
    graders = (
        GraderSpec(type="python", params={"function": f"{module}:{function}"}, name="hostile"),
        GraderSpec(type="python", params={"function": f"{module}:fine"}, name="fine"),
    )
    return Suite(
        name="hostile-graders",
        cases=tuple(Case(id=f"c{i}", vars={"w": str(i)}) for i in range(cases)),
        variants=(Variant(id="echo", model="echo", prompt="say {{ w }}"),),
        graders=graders,
        repeats=2,
        **fields,
    )


def test_a_grader_that_calls_exit_is_an_error_grade(checks: str, store: Store) -> None:
    run = run_suite(_suite(checks, "exits"), db=store)
    samples = list(store.samples.iterate(run.id))
    assert len(samples) == 8 and store.runs.get(run.id).status == "complete"
    for sample in samples:
        hostile = next(grade for grade in sample.grades if grade.grader == "hostile")
        assert hostile.passed is None and hostile.error == "SystemExit: 0"
        assert sample.passed is None  # undecided, and the report says so
    variant = build_report(store, run.id).variant("echo")
    assert variant.undecided == 8 and any("undecided" in warning for warning in variant.warnings)


def test_a_grader_that_never_returns_times_out(checks: str, store: Store) -> None:
    started = time.perf_counter()
    run = run_suite(_suite(checks, "spins", cases=2, grade_timeout=0.5), db=store)
    assert time.perf_counter() - started < 30
    samples = list(store.samples.iterate(run.id))
    assert len(samples) == 4
    errors = {next(g for g in s.grades if g.grader == "hostile").error for s in samples}
    assert errors == {"timed out after 0.5 s"}


def test_a_regrade_keeps_the_runs_grade_timeout_unless_told_otherwise(checks: str, store: Store) -> None:
    run = run_suite(_suite(checks, "fine", cases=2, grade_timeout=0.5), db=store)
    spinning = GraderSpec(type="python", params={"function": f"{checks}:spins"}, name="hostile")
    started = time.perf_counter()
    result = regrade_run(store, run.id, graders=[spinning])
    assert time.perf_counter() - started < 30
    assert result.samples.errors == 4
    errors = {grade.error for grade in store.grades.current(run.id, "hostile")}
    assert errors == {"timed out after 0.5 s"}
    regrade_run(store, run.id, graders=["hostile"], options=GradeOptions(force=True, grade_timeout=0.2))
    assert {grade.error for grade in store.grades.current(run.id, "hostile")} == {"timed out after 0.2 s"}


def test_a_blocking_grader_does_not_inflate_the_models_latency(checks: str, store: Store) -> None:
    run = run_suite(_suite(checks, "slow", cases=6), db=store)
    samples = list(store.samples.iterate(run.id))
    assert all(sample.passed is True for sample in samples)
    assert max(sample.latency_ms for sample in samples) < 150  # echo answers in microseconds
    assert all(sample.grading_ms is not None and sample.grading_ms >= 290 for sample in samples)
    data = report_to_dict(build_report(store, run.id))["variants"][0]
    assert data["grading_ms"]["p50"] >= 290 and data["latency_ms"]["p95"] < 150


def test_sigterm_stops_a_run_promptly_while_a_grader_runs(tmp_path: Path, checks: str) -> None:
    suite = {
        "suite": "stuck",
        "cases": [{"id": f"c{i}", "w": str(i)} for i in range(3)],
        "variants": [{"id": "echo", "model": "echo", "prompt": "say {{ w }}"}],
        "graders": [{"python": f"{checks}:loops"}],
        "grade_timeout": 600,
    }
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    process = subprocess.Popen(
        [sys.executable, "-m", "mendoza", "run", "suite.yaml", "--db", "m.db", "-q"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    time.sleep(4)  # the graders are spinning by now
    assert process.poll() is None
    sent = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=20)
    finally:
        process.kill()
    assert time.perf_counter() - sent < 20
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "mendoza run --resume" in stderr


def test_a_judge_waiting_for_its_model_is_not_timed_out(store: Store) -> None:
    """A grader that calls a model (needs_model) is bounded by its calls' timeouts, not by grade_timeout: the
    wait for a busy judge is not a hang."""
    import asyncio

    from mendoza.graders.base import BoundGrader, SampleGrader, Verdict

    class SlowJudge(SampleGrader):
        name = "slow-judge"
        description = "waits like a queued judge"
        needs_model = True

        async def grade(self, output: str, case: Case) -> Verdict:  # type: ignore[override]
            await asyncio.sleep(0.3)
            return Verdict(True, 1.0, "fine")

    spec = GraderSpec(type="slow-judge", params={}, name="judge")
    bound = BoundGrader(spec, SlowJudge.__new__(SlowJudge), spec.definition_hash())
    grade = asyncio.run(bound.grade("x", Case(id="a"), timeout=0.05))
    assert grade.passed is True and grade.error is None
