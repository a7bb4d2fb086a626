"""A run whose samples carry steps, written straight to the store (no app runs): the design the step report's
tests and the CLI's check their figures against.

Variant ``app`` (``N_CASES`` cases x ``REPEATS`` repeats) runs ``router`` (llm), ``lookup`` (tool; twice in the
last case) and ``answer`` (llm); grader ``route`` targets the router, ``answer`` grades the final output, and
with ``joint`` a second router grader ``route-format`` targets the router too. Which samples fail is decided by
``plan``; variant ``plain`` answers with no steps at all."""

from __future__ import annotations

from dataclasses import dataclass

from mendoza.core import Case, Grade, GraderSpec, Run, Sample, Step, Suite, Variant, first_failing_step
from mendoza.store import Store

N_CASES = 4
REPEATS = 5
ROUTE = GraderSpec(type="equals", params={"value": "billing"}, name="route", step="router")
ROUTE_FORMAT = GraderSpec(type="regex", params={"pattern": "^[a-z]+$"}, name="route-format", step="router")
ANSWER = GraderSpec(type="contains", params={"value": "ok"}, name="answer")


@dataclass(frozen=True)
class Plan:
    """Which (case index, repeat) samples error, fail a grader, or have a failing step."""

    errored: frozenset[tuple[int, int]] = frozenset({(3, 4)})
    route_fails: frozenset[tuple[int, int]] = frozenset({(0, 0), (1, 0)})
    format_fails: frozenset[tuple[int, int]] = frozenset({(2, 3)})
    lookup_errors: frozenset[tuple[int, int]] = frozenset({(2, 1)})
    #: The answer fails where the route does (a wrong route dooms the answer), and on these.
    answer_fails: frozenset[tuple[int, int]] = frozenset({(2, 1), (0, 3)})


def make_steps_suite(joint: bool = False, with_plain: bool = True) -> Suite:
    graders = (ROUTE, ROUTE_FORMAT, ANSWER) if joint else (ROUTE, ANSWER)
    variants = [Variant(id="app", model="python:app:run")]
    if with_plain:
        variants.append(Variant(id="plain", model="echo", prompt="{{ q }}"))
    return Suite(
        name="steps-suite",
        cases=tuple(Case(id=f"c{index}", vars={"q": f"q{index}"}) for index in range(N_CASES)),
        variants=tuple(variants),
        graders=graders,
        repeats=REPEATS,
    )


def _grade(spec: GraderSpec, passed: bool) -> Grade:
    return Grade(spec.name, passed, float(passed), "", grader_hash=spec.definition_hash())


def app_sample(index: int, repeat: int, plan: Plan, joint: bool) -> Sample:
    """One sample of variant ``app`` as ``plan`` says."""
    key = (index, repeat)
    if key in plan.errored:
        return Sample(f"c{index}", "app", repeat, "p", None, error="ValueError: boom", latency_ms=5.0)
    lookups = 2 if index == N_CASES - 1 else 1
    steps = (
        Step("router", "llm", "r", None, 0.0, 10.0 + index, "q", "billing", None, 5, 1, 0.001),
        *(
            Step("lookup", "tool", f"l{n}", None, 20.0, 20.0, "{}", "[]", None,
                 error="KeyError: x" if key in plan.lookup_errors and n == 0 else None)
            for n in range(lookups)
        ),
        Step("answer", "llm", "a", None, 50.0, 100.0 + 10 * repeat, "q", "ok", None, 50, 20, 0.004),
    )
    route_ok = key not in plan.route_fails
    grades = [_grade(ROUTE, route_ok)]
    failed_targets = set() if route_ok else {"router"}
    if joint:
        format_ok = key not in plan.format_fails
        grades.append(_grade(ROUTE_FORMAT, format_ok))
        failed_targets |= set() if format_ok else {"router"}
    answer_ok = route_ok and key not in plan.answer_fails
    grades.append(_grade(ANSWER, answer_ok))
    return Sample(
        f"c{index}", "app", repeat, "p", "ok" if answer_ok else "no", tokens_in=55, tokens_out=21, cost=0.005,
        latency_ms=150.0, grades=tuple(grades), steps=steps,
        failed_step=first_failing_step(steps, failed_targets),
    )


def plain_sample(index: int, repeat: int, joint: bool) -> Sample:
    """A sample with no steps: its router graders fail ("did not run"), its answer passes."""
    grades = [_grade(ROUTE, False), *([_grade(ROUTE_FORMAT, False)] if joint else []), _grade(ANSWER, True)]
    return Sample(f"c{index}", "plain", repeat, "p", "ok", cost=0.002, latency_ms=40.0, grades=tuple(grades))


def write_steps_run(store: Store, plan: Plan | None = None, joint: bool = False, with_plain: bool = True) -> Run:
    """Record the run and write its samples."""
    plan = plan or Plan()
    run = store.runs.create(make_steps_suite(joint, with_plain))
    samples = [app_sample(i, r, plan, joint) for i in range(N_CASES) for r in range(REPEATS)]
    if with_plain:
        samples += [plain_sample(i, r, joint) for i in range(N_CASES) for r in range(REPEATS)]
    store.samples.write(run.id, samples)
    store.runs.set_status(run.id, "complete")
    return run
