"""The store's queries for looking at a run: its cases (kept by a trigger), per cell verdicts, the grid's
filters, sorts and pages, the review queue's tiers, and the migration that brings older files up to date."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from mendoza.core import Grade, Sample
from mendoza.store import GridQuery, Store
from mendoza.store.migrations import m001_initial, m002_run_options
from tests.store.factories import make_suite


def graded(case_id: str, variant_id: str, repeat: int, *verdicts: bool, output: str = "out") -> Sample:
    """A sample with one automatic grade per verdict."""
    grades = tuple(
        Grade(grader=f"g{index}", passed=verdict, score=float(verdict), explanation="", grader_hash="h")
        for index, verdict in enumerate(verdicts)
    )
    return Sample(
        case_id=case_id,
        variant_id=variant_id,
        repeat=repeat,
        prompt=f"prompt of {case_id}",
        output=output,
        grades=grades,
        latency_ms=1.0,
    )


@pytest.fixture
def filled(store: Store) -> tuple[Store, str]:
    """A run of 4 cases x 2 variants x 3 repeats: c1 always passes, c2 is flaky in a, c3 always fails in a,
    c4's graders disagree once in b; the outputs of c2 mention 100%_sure."""
    run = store.runs.create(make_suite(n_cases=4, repeats=3), "r1")
    samples = []
    for repeat in range(3):
        samples += [
            graded("c1", "a", repeat, True),
            graded("c1", "b", repeat, True),
            graded("c2", "a", repeat, repeat != 1, output="I am 100%_sure"),
            graded("c2", "b", repeat, True),
            graded("c3", "a", repeat, False),
            graded("c3", "b", repeat, True),
            graded("c4", "a", repeat, True),
            graded("c4", "b", repeat, True, repeat != 0),
        ]
    store.samples.write(run.id, samples)
    return store, run.id


def test_creating_a_run_records_its_cases_in_suite_order(store: Store) -> None:
    store.runs.create(make_suite(n_cases=3), "r1")
    cases = [store.runs.case("r1", f"c{index}") for index in (1, 2, 3)]
    assert [case.position for case in cases if case] == [0, 1, 2]
    first = cases[0]
    assert first is not None
    assert first.vars == {"q": "question 1", "n": 1} and first.expected == ["x", 1] and first.tags == ("t",)
    assert store.runs.case("r1", "nope") is None
    assert store.runs.tags("r1") == ["t"]


def test_the_graders_disagree_flag_follows_the_automatic_grades(filled: tuple[Store, str]) -> None:
    store, run_id = filled
    cells = {(cell.case_id, cell.variant_id): cell for cell in store.outcomes.cell_verdicts(run_id)}
    assert cells[("c4", "b")].disagree == 1 and cells[("c4", "b")].failed == 1
    assert sum(cell.disagree for cell in cells.values()) == 1


def test_cell_verdicts_count_automatic_and_adjusted_and_point_at_the_first_failure(
    filled: tuple[Store, str],
) -> None:
    store, run_id = filled
    cells = {(cell.case_id, cell.variant_id): cell for cell in store.outcomes.cell_verdicts(run_id)}
    flaky = cells[("c2", "a")]
    assert (flaky.samples, flaky.passed, flaky.failed, flaky.errors) == (3, 2, 1, 0)
    assert (flaky.adjusted_passed, flaky.adjusted_failed, flaky.labelled, flaky.overruled) == (2, 1, 0, 0)
    failing = store.browse.sample(flaky.first_failing_id or 0)
    assert failing is not None and failing.repeat == 1 and failing.passed is False
    assert cells[("c1", "a")].first_failing_id is None
    only = store.outcomes.cell_verdicts(run_id, variant_ids=["b"], case_ids=["c4"])
    assert [(cell.variant_id, cell.case_id) for cell in only] == [("b", "c4")]
    assert store.outcomes.cell_verdicts(run_id, case_ids=[]) == []


def case_ids(store: Store, run_id: str, **options: object) -> list[str]:
    query = GridQuery(variant_ids=("a", "b"), **options)  # type: ignore[arg-type]
    return [case.case_id for case in store.browse.grid_page(run_id, query).cases]


def test_grid_filters(filled: tuple[Store, str]) -> None:
    store, run_id = filled
    assert case_ids(store, run_id) == ["c1", "c2", "c3", "c4"]
    assert case_ids(store, run_id, failing=True) == ["c2", "c3", "c4"]
    assert case_ids(store, run_id, flaky=True) == ["c2", "c4"]
    assert case_ids(store, run_id, disagree=True) == ["c4"]
    assert case_ids(store, run_id, overruled=True) == []
    assert case_ids(store, run_id, text="100%_SURE") == ["c2"]
    assert case_ids(store, run_id, text="100%x") == []  # % and _ are literal, not wildcards
    assert case_ids(store, run_id, text="question 3") == ["c3"]  # found in the case's vars
    assert case_ids(store, run_id, tag="t", failing=True) == ["c2", "c3", "c4"]
    assert case_ids(store, run_id, tag="nope") == []
    only_b = GridQuery(variant_ids=("b",), failing=True)
    assert [case.case_id for case in store.browse.grid_page(run_id, only_b).cases] == ["c4"]


def test_grid_sorts(filled: tuple[Store, str]) -> None:
    store, run_id = filled
    assert case_ids(store, run_id, sort="pass_rate") == ["c3", "c2", "c4", "c1"]
    assert case_ids(store, run_id, sort="pass_rate", reverse=True) == ["c1", "c2", "c4", "c3"]
    assert case_ids(store, run_id, sort="flaky")[:2] == ["c2", "c4"]
    assert case_ids(store, run_id, sort="disagreement")[0] == "c4"
    assert case_ids(store, run_id, sort="case", reverse=True) == ["c4", "c3", "c2", "c1"]


def test_grid_pages_and_counts(filled: tuple[Store, str]) -> None:
    store, run_id = filled
    page = store.browse.grid_page(run_id, GridQuery(variant_ids=("a", "b"), failing=True, limit=2, offset=2))
    assert [case.case_id for case in page.cases] == ["c4"] and page.total == 3
    assert page.offset == 2
    beyond = store.browse.grid_page(run_id, GridQuery(variant_ids=("a", "b"), failing=True, limit=2, offset=10))
    assert [case.case_id for case in beyond.cases] == ["c4"] and beyond.total == 3 and beyond.offset == 2
    last = store.browse.grid_page(run_id, GridQuery(variant_ids=("a", "b"), limit=3, offset=30))
    assert [case.case_id for case in last.cases] == ["c4"] and last.offset == 3
    none = store.browse.grid_page(run_id, GridQuery(variant_ids=("a", "b"), overruled=True, offset=50))
    assert (none.cases, none.total, none.offset) == ([], 0, 0)
    plain = store.browse.grid_page(run_id, GridQuery(variant_ids=("a", "b"), limit=3))
    assert plain.total == 4 and len(plain.cases) == 3
    assert {(cell.case_id, cell.variant_id) for cell in plain.cells} == {
        (case, variant) for case in ("c1", "c2", "c3") for variant in ("a", "b")
    }


def test_review_candidates_in_tiers(filled: tuple[Store, str]) -> None:
    store, run_id = filled
    tiers = [
        (store.browse.sample(sample_id), tier) for sample_id, tier in store.browse.review_candidates(run_id, ["a", "b"])
    ]
    described = [(record.case_id, record.variant_id, record.repeat, tier) for record, tier in tiers if record]
    assert described == [
        ("c4", "b", 0, 0),  # graders disagree
        ("c2", "a", 1, 1),  # failed in a flaky cell
        ("c3", "a", 0, 2),
        ("c3", "a", 1, 2),
        ("c3", "a", 2, 2),  # failed
        ("c2", "a", 0, 3),
        ("c2", "a", 2, 3),
        ("c4", "b", 1, 3),
        ("c4", "b", 2, 3),  # passed in a flaky cell
    ]


def test_case_samples_and_find_sample(filled: tuple[Store, str]) -> None:
    store, run_id = filled
    repeats = store.browse.case_samples(run_id, "c2", ["b", "a"])
    assert [(s.variant_id, s.repeat) for s in repeats] == [("b", 0), ("b", 1), ("b", 2), ("a", 0), ("a", 1), ("a", 2)]
    assert store.browse.sample(10**9) is None
    grades = store.browse.grade_records([repeats[0].id])[repeats[0].id]
    assert [grade.source for grade in grades] == ["auto"] and grades[0].created_at


def test_an_older_file_gets_its_cases_and_flags_when_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for migration in (m001_initial, m002_run_options):
        raw.executescript(migration())
        raw.execute("INSERT INTO _migrations VALUES (?, 'then')", (migration.__name__,))
    suite = make_suite(n_cases=2)
    raw.execute(
        "INSERT INTO runs (id, suite_name, suite_hash, suite_json, status, created_at, repeats, variant_ids, "
        "n_cases, expected_samples) VALUES ('old', 's', 'h', ?, 'complete', 't', 1, '[\"a\"]', 2, 2)",
        (json.dumps(suite.snapshot()),),
    )
    for sample_id, case_id in ((1, "c1"), (2, "c2")):
        raw.execute(
            "INSERT INTO samples (id, run_id, case_id, variant_id, repeat, passed, latency_ms, cached, seed, "
            "attempts, created_at) VALUES (?, 'old', ?, 'a', 0, 0, 1, 0, 0, 1, 't')",
            (sample_id, case_id),
        )
    grades = [(1, "auto", 1), (1, "auto", 0), (2, "auto", 0), (2, "human", 1), (2, "human", 0)]
    for sample_id, source, passed in grades:
        raw.execute(
            "INSERT INTO grades (sample_id, grader, grader_hash, source, passed, explanation, created_at) "
            "VALUES (?, 'g', 'h', ?, ?, '', 't')",
            (sample_id, source, passed),
        )
    raw.close()
    with Store(path) as store:
        assert "m003_viewer" in store.applied_migrations()
        assert [store.runs.case("old", case_id) is not None for case_id in ("c1", "c2")] == [True, True]
        first, second = store.browse.sample(1), store.browse.sample(2)
        assert first is not None and first.graders_disagree and first.human_passed is None
        assert second is not None and not second.graders_disagree and second.human_passed is False
    with Store(path, readonly=True) as reader:
        assert reader.browse.sample(2) is not None


def test_a_grid_query_refuses_a_page_that_cannot_be(filled: tuple[Store, str]) -> None:
    with pytest.raises(ValueError, match="limit >= 1"):
        GridQuery(variant_ids=("a",), limit=0)
    with pytest.raises(ValueError, match="sort must be one of"):
        GridQuery(variant_ids=("a",), sort="random")  # type: ignore[arg-type]
