"""Steps captured while a ``python:`` app handles a sample (issue 13): spans of an app instrumented with
OpenTelemetry, the ``mendoza.step`` helper, nesting, errors inside steps, ``mendoza.model`` clients, and
steps kept through the store and a resume."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

import mendoza
from mendoza.api import resume_run, run_suite
from mendoza.core import Case, GraderSpec, Step, Suite, Variant
from mendoza.store import Store

APP = '''
import os
import time
from opentelemetry import trace
import mendoza

tracer = trace.get_tracer("app")
FAIL_AFTER = int(os.environ.get("MZ_TEST_FAIL_AFTER", "-1"))
calls = 0

def answer(vars):
    global calls
    calls += 1
    if FAIL_AFTER >= 0:
        time.sleep(0.15)  # slow enough for the writer to commit some samples before the kill
        if calls > FAIL_AFTER:
            os._exit(3)
    q = vars["q"]
    with tracer.start_as_current_span(
        "router", attributes={"gen_ai.operation.name": "chat", "gen_ai.request.model": "tiny-router",
                              "gen_ai.usage.input_tokens": 7, "gen_ai.usage.output_tokens": 1}
    ) as span:
        route = "billing" if "bill" in q else "tech"
        span.set_attribute("mendoza.step.output", route)
        with mendoza.step("lookup", kind="retrieval", input={"q": q}) as found:
            found.output = [route + "-doc"]
    try:
        with mendoza.step("guard", kind="guardrail", input=q):
            if "bad" in q:
                raise ValueError("blocked by policy")
    except ValueError:
        return "refused"
    with mendoza.step("answer", kind="llm", input=q) as s:
        s.output = f"{route}: {q}"
        s.tokens_in, s.tokens_out, s.cost = 10, 4, 0.001
    return s.output
'''


@pytest.fixture
def app(tmp_path: Path) -> str:
    path = tmp_path / "steps_app.py"
    path.write_text(textwrap.dedent(APP), encoding="utf-8")
    return f"python:{path}:answer"


def _suite(model: str, cases: tuple[str, ...] = ("my bill", "wifi down", "bad words"), **fields: object) -> Suite:
    return Suite(
        name="steps",
        cases=tuple(Case(id=f"c{i}", vars={"q": q}) for i, q in enumerate(cases)),
        variants=(Variant(id="app", model=model),),
        graders=(
            GraderSpec(type="equals", params={"value": "billing"}, name="route", step="router"),
            GraderSpec(type="contains", params={"value": ":"}, name="answered"),
        ),
        repeats=2,
        **fields,
    )


def _steps(store: Store, run_id: str) -> dict[str, tuple[Step, ...]]:
    return {f"{s.case_id}/{s.repeat}": s.steps for s in store.samples.iterate(run_id, steps=True)}


def test_spans_of_an_instrumented_app_and_of_the_helper_become_nested_steps(app: str, store: Store) -> None:
    run = run_suite(_suite(app), db=store)
    steps = _steps(store, run.id)
    billing = steps["c0/0"]
    assert [step.name for step in billing] == ["router", "lookup", "guard", "answer"]
    router, lookup, guard, answer = billing
    assert (router.kind, router.output, router.tokens_in, router.tokens_out) == ("llm", "billing", 7, 1)
    assert router.attributes == {"gen_ai.operation.name": "chat", "gen_ai.request.model": "tiny-router"}
    assert router.parent_id is None and lookup.parent_id == router.span_id  # nested under the router
    assert (lookup.kind, json.loads(lookup.input or ""), json.loads(lookup.output or "")) == (
        "retrieval", {"q": "my bill"}, ["billing-doc"]
    )
    assert guard.kind == "guardrail" and guard.error is None
    assert (answer.tokens_in, answer.tokens_out, answer.cost) == (10, 4, 0.001)
    assert 0 <= router.start_ms <= lookup.start_ms <= guard.start_ms <= answer.start_ms
    assert all(step.duration_ms >= 0 for step in billing)


def test_an_error_inside_a_step_is_that_steps_error_and_the_first_failing_step(app: str, store: Store) -> None:
    run = run_suite(_suite(app), db=store)
    samples = {f"{s.case_id}/{s.repeat}": s for s in store.samples.iterate(run.id, steps=True)}
    refused = samples["c2/1"]
    assert [step.name for step in refused.steps] == ["router", "lookup", "guard"]
    assert refused.steps[2].error == "ValueError: blocked by policy"
    assert refused.output == "refused"
    # The router's grader failed first ("tech" is not "billing"): that is where this sample's failure starts.
    assert refused.failed_step == "router"
    assert samples["c1/0"].failed_step == "router"
    assert samples["c0/0"].failed_step is None and samples["c0/0"].passed is True


CRASHING_APP = '''
import mendoza

def answer(vars):
    with mendoza.step("router", kind="llm") as s:
        s.output = "billing"
    with mendoza.step("lookup", kind="tool", input={"id": vars["q"]}):
        raise KeyError("no such order")
'''


def test_an_app_that_fails_keeps_the_steps_it_got_through(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "crashing_app.py"
    path.write_text(textwrap.dedent(CRASHING_APP), encoding="utf-8")
    run = run_suite(_suite(f"python:{path}:answer", cases=("o1",)), db=store)
    sample = next(store.samples.iterate(run.id, steps=True))
    assert sample.error == "KeyError: 'no such order'" and sample.output is None
    assert [(step.name, step.error) for step in sample.steps] == [
        ("router", None), ("lookup", "KeyError: 'no such order'")
    ]
    assert sample.failed_step == "lookup"


def test_steps_are_captured_per_sample_under_concurrency(app: str, store: Store) -> None:
    cases = tuple(f"bill {i}" if i % 2 else f"net {i}" for i in range(24))
    suite = _suite(app, cases=cases).model_copy(
        update={"variants": (Variant(id="app", model=app, concurrency=8),)}
    )
    run = run_suite(suite, db=store)
    for sample in store.samples.iterate(run.id, steps=True):
        names = [step.name for step in sample.steps]
        assert names == ["router", "lookup", "guard", "answer"], (sample.case_id, names)
        assert json.loads(sample.steps[1].input or "") == {"q": suite.case(sample.case_id).vars["q"]}


def test_the_helper_outside_a_run_is_a_harmless_span() -> None:
    with mendoza.step("alone", kind="tool", input={"x": 1}) as handle:
        handle.output = "fine"
    with pytest.raises(ValueError, match="step kind 'nope'"), mendoza.step("bad", kind="nope"):  # type: ignore[arg-type]
        pass


MODEL_APP = '''
import mendoza

def answer(vars):
    writer = mendoza.model("mock", params={"cacheable": True}, pricing={"input": 1.0, "output": 2.0})
    first = writer.complete("draft for " + vars["q"], name="draft")
    return writer.complete("final: " + first, name="polish")
'''


def test_mendoza_model_calls_are_recorded_as_steps_and_cached(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "model_app.py"
    path.write_text(textwrap.dedent(MODEL_APP), encoding="utf-8")
    suite = _suite(f"python:{path}:answer", cases=("hello",)).model_copy(update={"graders": ()})
    first = run_suite(suite, db=store)
    samples = list(store.samples.iterate(first.id, steps=True))
    assert [step.name for step in samples[0].steps] == ["draft", "polish"]
    draft = samples[0].steps[0]
    assert draft.kind == "llm" and draft.input == "draft for hello" and draft.output
    assert draft.attributes is not None and draft.attributes["gen_ai.request.model"] == "mock"
    assert draft.attributes["mendoza.cached"] is False
    assert (draft.tokens_in, draft.tokens_out) == (3, 3) and draft.cost == pytest.approx((3 * 1 + 3 * 2) / 1e6)
    again = run_suite(suite, db=store)  # the app's own model calls come from the run's cache the second time
    cached = [step.attributes["mendoza.cached"] for s in store.samples.iterate(again.id, steps=True)
              for step in s.steps if step.attributes]
    assert cached == [True, True, True, True]
    assert [s.output for s in store.samples.iterate(again.id)] == [s.output for s in samples]


def test_a_run_killed_mid_way_resumes_with_every_samples_steps(app: str, tmp_path: Path) -> None:
    suite_file = tmp_path / "suite.yaml"
    suite_file.write_text(yaml.safe_dump({
        "suite": "steps-resume",
        "cases": [{"id": f"c{i}", "q": f"bill {i}"} for i in range(6)],
        "variants": [{"id": "app", "model": app, "concurrency": 1}],
        "graders": [{"equals": "billing", "step": "router"}],
        "repeats": 2,
    }), encoding="utf-8")
    db = tmp_path / "m.db"
    killed = subprocess.run(
        [sys.executable, "-m", "mendoza", "run", str(suite_file), "--db", str(db), "--quiet"],
        env={**__import__("os").environ, "MZ_TEST_FAIL_AFTER": "8"}, capture_output=True, text=True, timeout=120,
    )
    assert killed.returncode == 3  # the app killed the whole process after 8 samples
    with Store(db) as store:
        partial = store.runs.get("latest")
        done = partial.done_samples
        assert 0 < done < 12
        resumed = resume_run(partial.id, db=store)
        assert resumed.done_samples == 12 and resumed.status == "complete"
        samples = list(store.samples.iterate(resumed.id, steps=True))
        assert len(samples) == 12 and all(len(s.steps) == 4 for s in samples)
        step_rows = sum(len(s.steps) for s in samples)
        assert step_rows == 48  # none lost, none duplicated


INSTRUMENTED = '''
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

EXPORTED = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(EXPORTED))
trace.set_tracer_provider(provider)  # the app's own provider and exporter, set when it is imported
tracer = trace.get_tracer("instrumented")

def answer(vars):
    with tracer.start_as_current_span("chat small-model", attributes={
        "gen_ai.operation.name": "chat", "gen_ai.request.model": "small", "gen_ai.usage.input_tokens": 3,
    }):
        with tracer.start_as_current_span("execute_tool lookup", attributes={
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup",
            "gen_ai.tool.call.arguments": '{"id": 1}',
        }):
            pass
    return "done after %d exported spans" % len(EXPORTED.get_finished_spans())
'''


def test_an_app_with_its_own_tracer_provider_keeps_its_exporter_and_is_captured(tmp_path: Path) -> None:
    # A fresh process: OpenTelemetry lets a process set its global tracer provider once.
    (tmp_path / "instrumented.py").write_text(textwrap.dedent(INSTRUMENTED), encoding="utf-8")
    suite_file = tmp_path / "suite.yaml"
    suite_file.write_text(yaml.safe_dump({
        "suite": "otel", "cases": [{"id": "c0", "q": "x"}],
        "variants": [{"id": "app", "model": "python:instrumented.py:answer"}],
        "graders": [{"contains": "done"}],
    }), encoding="utf-8")
    db = tmp_path / "m.db"
    done = subprocess.run(
        [sys.executable, "-m", "mendoza", "run", str(suite_file), "--db", str(db), "--quiet"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    with Store(db) as store:
        sample = next(store.samples.iterate(store.runs.get("latest").id, steps=True))
    assert sample.output == "done after 2 exported spans"  # the app's exporter still got its spans
    chat, tool = sample.steps
    assert (chat.name, chat.kind, chat.tokens_in) == ("chat small-model", "llm", 3)
    assert (tool.name, tool.kind, tool.input, tool.parent_id) == ("lookup", "tool", '{"id": 1}', chat.span_id)
