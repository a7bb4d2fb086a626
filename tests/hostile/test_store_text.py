"""Text UTF-8 cannot hold (a lone UTF-16 surrogate) and values SQLite refuses: stored safely, one bad sample
never costing the others (issue 10, item 1)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mendoza.core import Case, Grade, ModelResponse, Sample
from mendoza.store import PairJudgement, Store
from tests.store.factories import make_suite, sample

LONE = "\ud800"
FFFD = "\ufffd"


def _store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "m.db")
    store.runs.create(make_suite(), "r")
    return store


def test_a_lone_surrogate_in_one_output_costs_none_of_the_batch(tmp_path: Path) -> None:
    # As reported: 4 samples, one output with "\ud800"; the old code stored 0 of 4 (UnicodeEncodeError).
    batch = [sample("c1", "a", repeat) for repeat in range(4)]
    batch[2] = sample("c1", "a", 2, output=f"bad {LONE} output")
    with _store(tmp_path) as store:
        assert store.samples.write("r", batch) == 4
        stored = {s.repeat: s for s in store.samples.iterate("r")}
        assert [stored[r].output for r in range(4)] == ["an output", "an output", f"bad {FFFD} output", "an output"]
        assert all(stored[r].grades == batch[r].grades for r in range(4))
        records = {record.repeat: record for record in store.browse.case_samples("r", "c1", ["a"])}
        assert records[2].notes is not None and "1 character" in records[2].notes and "output" in records[2].notes
        assert records[2].error is None  # the sample is not an error: its text was repaired, and noted
        assert records[0].notes is None
        # A resume writes the same batch again: nothing new, no crash (the old code crashed here forever).
        assert store.samples.write("r", batch) == 0


def test_every_text_of_a_sample_and_its_grades_is_made_storable(tmp_path: Path) -> None:
    graded = Grade(f"judge{LONE}", True, 1.0, f"because {LONE}", grader_hash="h", detail={"why": [LONE, LONE]})
    errored = Grade("other", None, None, "", grader_hash="h", error=f"failed {LONE}")
    hostile = Sample("c1", "a", 0, f"prompt {LONE}", f"out {LONE}", grades=(graded, errored), latency_ms=1.0)
    failed = Sample("c2", "a", 0, f"p{LONE}", None, error=f"app raised {LONE}")
    with _store(tmp_path) as store:
        assert store.samples.write("r", [hostile, failed, sample("c2", "a", 1)]) == 3
        by_case = {s.case_id: s for s in store.samples.iterate("r") if s.repeat == 0}
        first = by_case["c1"]
        assert (first.prompt, first.output) == (f"prompt {FFFD}", f"out {FFFD}")
        assert [g.grader for g in first.grades] == [f"judge{FFFD}", "other"]
        assert first.grades[0].explanation == f"because {FFFD}"
        assert first.grades[0].detail == {"why": [FFFD, FFFD]}
        assert first.grades[1].error == f"failed {FFFD}"
        assert by_case["c2"].error == f"app raised {FFFD}"
        note = next(r for r in store.browse.case_samples("r", "c1", ["a"]) if r.repeat == 0).notes
        assert note is not None and note.startswith("7 characters")
        for place in ("prompt", "output", f"grade 'judge{FFFD}' explanation", "detail", "grade 'other' error"):
            assert place in note


def test_a_surrogate_pair_is_joined_into_its_character(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        store.samples.write("r", [sample(output="smile \ud83d\ude00", error=None), sample(repeat=1, output=LONE)])
        assert [s.output for s in store.samples.iterate("r")] == ["smile \U0001f600", FFFD]


def test_a_sample_sqlite_refuses_for_another_reason_costs_no_other(tmp_path: Path) -> None:
    too_big = sample("c1", "a", 1, tokens_in=2**70)  # OverflowError: no SQLite integer holds it
    not_text = sample("c1", "a", 2, output=["a", "list"])  # sqlite3.ProgrammingError: a list is no value
    batch = [sample("c1", "a", 0), too_big, not_text, sample("c1", "a", 3, output=LONE)]
    with _store(tmp_path) as store:
        assert store.samples.write("r", batch) == 4
        stored = {s.repeat: s for s in store.samples.iterate("r")}
        assert stored[0] == batch[0] and stored[3].output == FFFD and stored[3].passed
        for repeat in (1, 2):
            assert stored[repeat].error is not None
            assert stored[repeat].error.startswith("mendoza could not store this sample: ")
            assert stored[repeat].output is None and stored[repeat].grades == ()


def test_cache_entries_with_a_lone_surrogate_are_stored_replaced(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        store.cache.put_many(
            [("k1", ModelResponse("fine")), ("k2", ModelResponse(f"x{LONE}")), ("k3", ModelResponse("also fine"))]
        )
        assert [store.cache.get(key) for key in ("k1", "k3")] == [ModelResponse("fine"), ModelResponse("also fine")]
        assert store.cache.get("k2") == ModelResponse(f"x{FFFD}")


def test_a_case_var_with_a_lone_surrogate_creates_the_run(tmp_path: Path) -> None:
    suite = make_suite()
    hostile = suite.model_copy(update={"cases": (Case(id="a", vars={"t": LONE}), *suite.cases)})
    with Store(tmp_path / "m.db") as store:
        run = store.runs.create(hostile, "r")  # the old code: UnicodeEncodeError
        assert run.n_cases == 3 and run.status == "running"
        notes = store.runs.notes("r")
        assert notes is not None and "suite snapshot" in notes
        assert store.runs.suite("r").cases[0].vars == {"t": FFFD}
        assert store.runs.notes("r") == notes
        assert store.runs.create(suite, "clean") and store.runs.notes("clean") is None
    with sqlite3.connect(tmp_path / "m.db") as raw:  # the viewer's copy of the cases, from the snapshot
        assert raw.execute("SELECT vars FROM run_cases WHERE run_id = 'r' AND case_id = 'a'").fetchone() == (
            '{"t":"' + FFFD + '"}',
        )


def test_what_can_be_stored_as_given_is_stored_exactly_as_given(tmp_path: Path) -> None:
    # One bad sample sends the batch down the one-by-one path; the others must come out equal to what went in.
    normal = [sample("c1", "a", r, passed=r % 2 == 0) for r in range(3)]
    with _store(tmp_path) as store:
        store.samples.write("r", [*normal, sample("c2", "a", 0, output=LONE)])
        assert [s for s in store.samples.iterate("r") if s.case_id == "c1"] == normal


def test_regrades_judgements_and_labels_with_a_lone_surrogate_are_stored(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        store.samples.write("r", [sample("c1", "a", 0), sample("c1", "b", 0)])
        ids = {item.variant_id: item.sample_id for item in store.grades.regrade_inputs("r")}
        regraded = Grade("judge", False, 0.0, f"why {LONE}", grader_hash="h2", detail={"reason": LONE})
        good = Grade("judge", True, 1.0, "fine", grader_hash="h2")
        assert store.grades.add([(ids["b"], good), (ids["a"], regraded)]) == 2
        (judged,) = [g for g in store.browse.grade_records([ids["a"]])[ids["a"]] if g.grader_hash == "h2"]
        assert judged.explanation == f"why {FFFD}"
        assert [g.explanation for g in store.browse.grade_records([ids["b"]])[ids["b"]] if g.grader_hash == "h2"] == [
            "fine"
        ]
        pair = PairJudgement(
            "pair",
            "hp",
            "a",
            "b",
            "c1",
            0,
            ids["a"],
            ids["b"],
            "a",
            "a",
            "b",
            explanation=f"A {LONE}",
            detail={"x": LONE},
        )
        assert store.pairwise.add("r", [pair]) == 1
        (stored,) = store.pairwise.judgements("r")
        assert (stored.explanation, stored.detail) == (f"A {FFFD}", {"x": FFFD})
        label = store.labels.add(ids["a"], passed=True, score=None, note=f"ok {LONE}", author=f"ana{LONE}")
        assert (label.explanation, label.author) == (f"ok {FFFD}", f"ana{FFFD}")
