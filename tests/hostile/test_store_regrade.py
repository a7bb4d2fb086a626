"""A regrade killed between recording the new grader set and refreshing the verdicts (issue 10, item 4): the
run keeps its old set with its old verdicts, so what ``show`` says is what the current graders give."""

from __future__ import annotations

from pathlib import Path

import pytest

from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec, Suite, Variant
from mendoza.errors import DiskError
from mendoza.soft import regrade_run
from mendoza.store import Store
from mendoza.store.grading import Grades


def _pass_rate(store: Store, run_id: str) -> float:
    (counts,) = store.samples.variant_counts(run_id)
    return counts.passed / counts.samples


def test_a_regrade_killed_before_the_verdicts_leaves_the_old_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = Suite(
        name="regrade",
        cases=tuple(Case(id=f"c{i}", vars={"word": "yes" if i % 3 else "no"}) for i in range(9)),
        variants=(Variant(id="echo", model="echo", prompt="{{ word }}"),),
        graders=(GraderSpec(type="contains", params={"value": "yes"}, name="says"),),
        repeats=2,
    )
    with Store(tmp_path / "m.db") as store:
        run = run_suite(suite, db=store)
        before = _pass_rate(store, run.id)
        assert before == pytest.approx(6 / 9)
        stricter = GraderSpec(type="contains", params={"value": "no"}, name="says")

        def killed(*args: object) -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr(Grades, "_refresh", killed)
        with pytest.raises(KeyboardInterrupt):
            regrade_run(store, run.id, graders=[stricter])
        monkeypatch.undo()
        # The old code had recorded the new set (revision 1) and left the old verdicts: show said 67%, while
        # the current graders give 33%.
        assert store.grades.grader_set_revision(run.id) == 0
        assert [spec.definition_hash() for spec in store.grades.grader_set(run.id)] == [
            suite.graders[0].definition_hash()
        ]
        assert _pass_rate(store, run.id) == before
        result = regrade_run(store, run.id, graders=[stricter])  # run again: done, consistently
        assert result.revision == 1 and _pass_rate(store, run.id) == pytest.approx(3 / 9)


def test_a_full_disk_during_a_regrade_is_one_error_and_changes_no_verdict(tmp_path: Path) -> None:
    suite = Suite(
        name="regrade-full",
        cases=tuple(Case(id=f"c{i:03}", vars={"word": "yes"}) for i in range(300)),
        variants=(Variant(id="echo", model="echo", prompt="{{ word }}"),),
        graders=(GraderSpec(type="contains", params={"value": "yes"}, name="says"),),
        repeats=2,
    )
    with Store(tmp_path / "m.db") as store:
        run = run_suite(suite, db=store)
        pages = store._db.execute("PRAGMA page_count").fetchone()[0]
        store._db.execute(f"PRAGMA max_page_count = {pages}")  # no room for 600 more grades
        with pytest.raises(DiskError, match="the disk is full"):  # the old code: an ExceptionGroup
            regrade_run(store, run.id, graders=[GraderSpec(type="contains", params={"value": "no"}, name="says")])
        assert store.grades.grader_set_revision(run.id) == 0 and _pass_rate(store, run.id) == 1.0
