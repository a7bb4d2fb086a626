"""The store's regrade support: grader sets by revision, grades beside grades, the rule for which count, and
pairwise judgements."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mendoza.core import Grade, GraderSpec, Sample, Suite
from mendoza.store import PairJudgement, Store
from mendoza.store.grading import Grades
from tests.store.factories import make_suite, sample


def graded(suite: Suite, case_id: str, passed: bool) -> Sample:
    """A sample graded by the suite's own graders (with their real definition hashes)."""
    contains, negated = suite.graders
    grades = (
        Grade("contains", passed, float(passed), "", grader_hash=contains.definition_hash()),
        Grade("not-contains", True, 1.0, "", grader_hash=negated.definition_hash()),
    )
    return replace(sample(case_id, passed=passed), grades=grades)


def _ids(store: Store, run_id: str) -> dict[tuple[str, str, int], int]:
    return {(i.variant_id, i.case_id, i.repeat): i.sample_id for i in store.grades.regrade_inputs(run_id)}


def test_the_grader_set_starts_as_the_suites_and_follows_revisions(store: Store) -> None:
    suite = make_suite()
    run = store.runs.create(suite)
    assert [s.name for s in store.grades.grader_set(run.id)] == ["contains", "not-contains"]
    assert store.grades.grader_set_revision(run.id) == 0
    new = GraderSpec(type="equals", params={"value": "x"}, name="exact")
    assert store.grades.record_grader_set(run.id, [new]) == 1
    assert store.grades.grader_set(run.id) == [new] and store.grades.grader_set_revision(run.id) == 1
    assert store.grades.record_grader_set(run.id, [*suite.graders, new]) == 2
    assert [s.name for s in store.grades.grader_set(run.id)] == ["contains", "not-contains", "exact"]


def test_details_round_trip_and_new_grades_sit_beside_old(store: Store) -> None:
    suite = make_suite(n_cases=1, variant_ids=("a",), repeats=1)
    run = store.runs.create(suite)
    judged = Grade("contains", True, 1.0, "ok", grader_hash="h1", detail={"kind": "rubric", "votes": [1, 0]})
    store.samples.write(run.id, [sample()])
    sample_id = _ids(store, run.id)[("a", "c1", 0)]
    store.grades.add([(sample_id, judged)])
    grades = next(iter(store.samples.iterate(run.id))).grades
    assert [g.grader for g in grades] == ["contains", "not-contains", "contains"]
    assert grades[-1].detail == {"kind": "rubric", "votes": [1, 0]} and grades[0].detail is None


def test_the_latest_grade_of_each_current_definition_decides(store: Store) -> None:
    suite = make_suite(n_cases=2, variant_ids=("a",), repeats=1)
    run = store.runs.create(suite)
    store.samples.write(run.id, [graded(suite, "c1", True), graded(suite, "c2", False), sample("c3", error="x")])
    ids = _ids(store, run.id)
    negated = suite.graders[1]
    new = GraderSpec(type="contains", params={"value": "other"}, name="contains")
    # c1 fails under the new definition; c2 passes under it, but its latest new grade is an error
    store.grades.add(
        [
            (ids[("a", "c1", 0)], Grade("contains", False, 0.0, "", grader_hash=new.definition_hash())),
            (ids[("a", "c2", 0)], Grade("contains", True, 1.0, "", grader_hash=new.definition_hash())),
            (ids[("a", "c2", 0)], Grade("contains", None, None, "", grader_hash=new.definition_hash(), error="boom")),
        ]
    )
    store.grades.refresh_verdicts(run.id)
    assert [v[3] for v in store.grades.sample_verdicts(run.id)] == [
        True,
        False,
        None,
    ]  # the suite's graders still count
    store.grades.record_grader_set(run.id, [new, negated])
    store.grades.refresh_verdicts(run.id)
    assert [v[3] for v in store.grades.sample_verdicts(run.id)] == [False, None, None]
    counts = store.samples.variant_counts(run.id)[0]
    assert (counts.passed, counts.failed, counts.undecided, counts.errors) == (0, 1, 1, 1)
    current = {(g.case_id, g.grader): g for g in store.grades.current(run.id)}
    assert current[("c2", "contains")].error == "boom" and current[("c1", "not-contains")].passed is True
    assert {g.grader_hash for g in store.grades.current(run.id, "contains")} == {new.definition_hash()}
    assert store.grades.graded_sample_ids(run.id, "contains", new.definition_hash()) == {
        ids[("a", "c1", 0)],
        ids[("a", "c2", 0)],
    }


def test_disagreement_follows_the_current_graders(store: Store) -> None:
    suite = make_suite(n_cases=1, variant_ids=("a",), repeats=1)
    run = store.runs.create(suite)
    store.samples.write(run.id, [graded(suite, "c1", True)])
    sample_id = _ids(store, run.id)[("a", "c1", 0)]
    contains = suite.graders[0]
    store.grades.add([(sample_id, Grade("contains", False, 0.0, "", grader_hash="old-definition"))])
    assert store.browse.sample(sample_id).graders_disagree  # type: ignore[union-attr]  # the trigger's view
    store.grades.refresh_verdicts(run.id)
    assert not store.browse.sample(sample_id).graders_disagree  # type: ignore[union-attr]  # old hash: no count
    store.grades.add([(sample_id, Grade("contains", False, 0.0, "", grader_hash=contains.definition_hash()))])
    store.grades.refresh_verdicts(run.id)
    record = store.browse.sample(sample_id)
    assert record is not None and record.graders_disagree and record.passed is False


def test_human_verdicts(store: Store) -> None:
    run = store.runs.create(make_suite(n_cases=2, variant_ids=("a",), repeats=1))
    store.samples.write(run.id, [sample("c1"), sample("c2")])
    ids = _ids(store, run.id)
    store.labels.add(ids[("a", "c2", 0)], passed=False, score=0.0, note="", author="me")
    assert store.labels.verdicts(run.id) == {ids[("a", "c2", 0)]: False}


def test_pairwise_judgements_round_trip_and_failed_ones_are_replaced(store: Store) -> None:
    run = store.runs.create(make_suite(n_cases=2, variant_ids=("a", "b"), repeats=1))
    store.samples.write(
        run.id, [sample("c1", "a"), sample("c1", "b"), sample("c2", "a"), sample("c2", "b", error="down")]
    )
    pairs = store.pairwise.sample_pairs(run.id, "a", "b")
    assert [(p.case_id, p.repeat) for p in pairs] == [("c1", 0)]  # c2's b errored: no pair
    base = {
        "grader": "pw",
        "grader_hash": "h",
        "variant_a": "a",
        "variant_b": "b",
        "case_id": "c1",
        "repeat": 0,
        "sample_a": pairs[0].sample_a,
        "sample_b": pairs[0].sample_b,
    }
    failed = PairJudgement(**base, winner=None, first_order=None, second_order=None, error="unreadable")
    store.pairwise.add(run.id, [failed])
    assert store.pairwise.judged(run.id, "h") == set()
    decided = PairJudgement(
        **base, winner="tie", first_order="a", second_order="b", explanation="tie", detail={"consistent": False}
    )
    store.pairwise.add(run.id, [decided])
    assert store.pairwise.judgements(run.id) == [decided]
    assert store.pairwise.judged(run.id, "h") == {("a", "b", "c1", 0)}
    store.pairwise.add(run.id, [failed])  # a decided judgement is never overwritten by a failure
    assert store.pairwise.judgements(run.id, grader="pw") == [decided]


def test_a_new_grader_set_and_its_verdicts_are_one_transaction(store: Store, monkeypatch: Any) -> None:
    suite = make_suite(n_cases=2, variant_ids=("a",), repeats=1)
    run = store.runs.create(suite)
    store.samples.write(run.id, [graded(suite, "c1", True), graded(suite, "c2", True)])
    ids = _ids(store, run.id)
    new = GraderSpec(type="contains", params={"value": "other"}, name="contains")
    store.grades.add(
        [
            (ids[("a", key, 0)], Grade("contains", False, 0.0, "", grader_hash=new.definition_hash()))
            for key in ("c1", "c2")
        ]
    )
    before = store.grades.sample_verdicts(run.id)

    def killed(*args: object) -> None:
        raise KeyboardInterrupt  # stopped between recording the set and refreshing the verdicts

    monkeypatch.setattr(Grades, "_refresh", killed)
    with pytest.raises(KeyboardInterrupt):
        store.grades.commit_grader_set(run.id, [new])
    monkeypatch.undo()
    assert store.grades.grader_set_revision(run.id) == 0 and store.grades.grader_set(run.id) == list(suite.graders)
    assert store.grades.sample_verdicts(run.id) == before  # the old set, with the old verdicts
    assert store.grades.commit_grader_set(run.id, [new]) == 1
    assert [v[3] for v in store.grades.sample_verdicts(run.id)] == [False, False]
    assert store.grades.commit_grader_set(run.id, None, list(suite.graders)) == 1  # no new set: verdicts only
    assert [v[3] for v in store.grades.sample_verdicts(run.id)] == [True, True]
