"""Small builders for the store's tests: a suite, samples with grades, an open store."""

from __future__ import annotations

import sqlite3

from mendoza.core import Case, Grade, GraderSpec, Pricing, Sample, Suite, Thresholds, Variant
from mendoza.store import Store


def make_suite(n_cases: int = 2, variant_ids: tuple[str, ...] = ("a", "b"), repeats: int = 3) -> Suite:
    """A suite with every kind of field set, so a snapshot that drops one shows."""
    return Suite(
        name="store-test",
        description="für die Tests",
        cases=tuple(
            Case(id=f"c{index}", vars={"q": f"question {index}", "n": index}, expected=["x", index],
                 tags=("t",), metadata={"k": {"nested": True}})
            for index in range(1, n_cases + 1)
        ),
        variants=tuple(
            Variant(id=variant_id, model="echo", prompt="{{ q }}", system="sys", params={"temperature": 0.5},
                    concurrency=2, timeout=3.5, pricing=Pricing(input=0.1, output=0.4))
            for variant_id in variant_ids
        ),
        graders=(
            GraderSpec(type="contains", params={"value": "{{ expected }}"}, name="contains"),
            GraderSpec(type="contains", params={"value": "As an AI"}, name="not-contains", negate=True),
        ),
        repeats=repeats,
        thresholds=Thresholds(min_pass_rate=0.8),
        seed=11,
        timeout=30.0,
        max_retries=1,
        cache=False,
        source="/somewhere/suite.yaml",
    )


def grade(passed: bool | None = True, grader: str = "contains", **fields: object) -> Grade:
    score = None if passed is None else float(passed)
    return Grade(grader=grader, passed=passed, score=score, explanation=f"passed={passed}",
                 grader_hash="h1", **fields)  # type: ignore[arg-type]


def sample(
    case_id: str = "c1",
    variant_id: str = "a",
    repeat: int = 0,
    *,
    passed: bool | None = True,
    error: str | None = None,
    output: str | None = "an output",
    **fields: object,
) -> Sample:
    """A sample graded ``passed`` (None: a grader could not decide), or errored (no grades) with ``error``."""
    grades = () if error is not None else (grade(passed), grade(True, grader="not-contains"))
    defaults: dict[str, object] = {"prompt": f"prompt {case_id}", "tokens_in": 10, "tokens_out": 5,
                                   "cost": 0.001, "latency_ms": 12.5, "seed": 1234, "attempts": 1}
    defaults.update(fields)
    return Sample(case_id=case_id, variant_id=variant_id, repeat=repeat,
                  output=None if error is not None else output, error=error, grades=grades,
                  **defaults)  # type: ignore[arg-type]


def count_rows(store: Store, table: str) -> int:
    """How many rows a table of the store's database holds, read on a connection of the test's own."""
    if store.url is None:
        with sqlite3.connect(store.path) as raw:
            return int(raw.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    import psycopg

    with psycopg.connect(store.url) as connection:
        row = connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()  # type: ignore[arg-type]
        assert row is not None
        return int(row[0])
