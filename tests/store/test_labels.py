"""Human grades in the store: added beside the automatic grades (never over them), the latest one is the
sample's human verdict, and the automatic verdict of a sample ignores them."""

from __future__ import annotations

from pathlib import Path

import pytest

from mendoza.errors import StoreError
from mendoza.store import HUMAN_GRADER, Store
from tests.store.factories import make_suite, sample


@pytest.fixture
def one_failure(store: Store) -> tuple[Store, int]:
    run = store.runs.create(make_suite(n_cases=1, variant_ids=("a",), repeats=1), "r1")
    store.samples.write(run.id, [sample("c1", "a", 0, passed=False)])
    (record,) = store.browse.case_samples(run.id, "c1", ["a"])
    return store, record.id


def test_a_human_grade_is_stored_beside_the_automatic_ones(one_failure: tuple[Store, int]) -> None:
    store, sample_id = one_failure
    grade = store.labels.add(sample_id, passed=True, score=1.0, note="right after all", author="ana")
    assert grade.source == "human" and grade.grader == HUMAN_GRADER and grade.author == "ana"
    grades = store.browse.grade_records([sample_id])[sample_id]
    assert [g.source for g in grades] == ["auto", "auto", "human"]
    assert grades[-1] == grade
    record = store.browse.sample(sample_id)
    assert record is not None
    assert record.passed is False and record.human_passed is True and record.adjusted_passed is True


def test_the_latest_human_grade_decides_and_a_grade_without_verdict_clears(one_failure: tuple[Store, int]) -> None:
    store, sample_id = one_failure
    store.labels.add(sample_id, passed=True, score=None, note="", author="ana")
    store.labels.add(sample_id, passed=False, score=0.2, note="no, wrong", author="ben")
    record = store.browse.sample(sample_id)
    assert record is not None and record.human_passed is False
    store.labels.add(sample_id, passed=None, score=None, note="unsure", author="ben")
    record = store.browse.sample(sample_id)
    assert record is not None and record.human_passed is None and record.adjusted_passed is False
    assert len(store.browse.grade_records([sample_id])[sample_id]) == 5  # the history is kept


def test_the_automatic_verdict_of_a_sample_ignores_human_grades(one_failure: tuple[Store, int]) -> None:
    store, sample_id = one_failure
    store.labels.add(sample_id, passed=True, score=1.0, note="", author="ana")
    (streamed,) = store.samples.iterate("r1")
    assert any(grade.source == "human" for grade in streamed.grades)
    assert streamed.passed is False


def test_label_pairs_and_counts_of_a_run(one_failure: tuple[Store, int]) -> None:
    store, sample_id = one_failure
    assert store.labels.pairs("r1") == []
    before = store.grades.version()
    store.labels.add(sample_id, passed=True, score=1.0, note="", author="ana")
    assert store.grades.version() > before
    assert [tuple(pair) for pair in store.labels.pairs("r1")] == [("a", False, True)]
    (cell,) = store.outcomes.cell_verdicts("r1")
    assert (cell.passed, cell.adjusted_passed, cell.labelled, cell.overruled) == (0, 1, 1, 1)


def test_a_label_on_a_missing_sample_or_a_read_only_store_is_refused(
    one_failure: tuple[Store, int], tmp_path: Path
) -> None:
    store, sample_id = one_failure
    with pytest.raises(StoreError, match="no sample 999999"):
        store.labels.add(999999, passed=True, score=1.0, note="", author="ana")
    with Store(store.path, readonly=True) as reader, pytest.raises(StoreError, match="read-only"):
        reader.labels.add(sample_id, passed=True, score=1.0, note="", author="ana")


def test_labelled_outputs_carry_the_latest_verdict_and_its_note(store: Store) -> None:
    run = store.runs.create(make_suite(n_cases=3, variant_ids=("a",), repeats=1), "r2")
    store.samples.write(run.id, [sample("c1", "a", 0), sample("c2", "a", 0, passed=False),
                                 sample("c3", "a", 0, error="boom")])
    ids = {record.case_id: record.id for case in ("c1", "c2", "c3")
           for record in store.browse.case_samples(run.id, case, ["a"])}
    store.labels.add(ids["c1"], passed=True, score=None, note="polite", author="ana")
    store.labels.add(ids["c1"], passed=False, score=None, note="wrong total", author="ben")
    store.labels.add(ids["c2"], passed=True, score=None, note="", author="ana")
    store.labels.add(ids["c3"], passed=False, score=None, note="errored", author="ana")  # no output: left out
    found = store.labels.labelled_outputs(run.id)
    assert [(row.case_id, row.human, row.note) for row in found] == [("c1", False, "wrong total"), ("c2", True, "")]
    assert found[0].output and found[0].sample_id == ids["c1"]
