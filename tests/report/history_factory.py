"""Runs of a suite written straight into a store, for the history's tests (report, CLI, viewer)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from mendoza.core import Case, Grade, GraderSpec, Sample, Suite, Variant
from mendoza.store import Store

CORRECT = GraderSpec(type="contains", params={"value": "{{ expected }}"}, name="correct")
SHORT = GraderSpec(type="length", params={"max": 10, "unit": "chars"}, name="short")
N_CASES = 30
REPEATS = 3


def make_suite(
    name: str = "history",
    *,
    variants: Sequence[tuple[str, str]] = (("v", "echo"),),
    n_cases: int = N_CASES,
    graders: tuple[GraderSpec, ...] = (CORRECT,),
    repeats: int = REPEATS,
) -> Suite:
    return Suite(
        name=name,
        cases=tuple(Case(id=f"c{index:02d}", expected="A") for index in range(n_cases)),
        variants=tuple(Variant(id=variant_id, model=model) for variant_id, model in variants),
        graders=graders,
        repeats=repeats,
    )


def write_run(
    store: Store, suite: Suite, passes: dict[str, Callable[[int, int, random.Random], bool]], seed: int
) -> str:
    """A run of ``suite`` whose sample (variant, case index, repeat) passes when ``passes[variant](case, repeat,
    rng)`` says so, ``rng`` seeded with ``seed``."""
    rng = random.Random(seed)
    run = store.runs.create(suite)
    samples = []
    for variant in suite.variants:
        for index, case in enumerate(suite.cases):
            for repeat in range(suite.repeats):
                passed = passes[variant.id](index, repeat, rng)
                grades = tuple(
                    Grade(spec.name, passed, float(passed), grader_hash=spec.definition_hash())
                    for spec in suite.graders
                )
                samples.append(Sample(case.id, variant.id, repeat, "p", "A" if passed else "x", grades=grades))
    store.samples.write(run.id, samples)
    store.runs.set_status(run.id, "complete")
    return run.id


def at_rate(rate: float) -> Callable[[int, int, random.Random], bool]:
    """Every sample passes with chance ``rate``, whatever its case."""
    return lambda case, repeat, rng: rng.random() < rate
