"""Regrading and reading verdicts: which grader definitions count for a run, new grades beside old ones, and the
verdicts of the current graders (with a judge's structured detail) for calibration and the judge report.

The rule for which grades count: a run's *current grader set* is its latest revision in ``grader_sets``, or,
before any regrade, its suite snapshot's graders. For each sample and each current grader (name and definition
hash), the grade that counts is the latest automatic grade with that name and hash. A sample passes when every
current grader's grade passed; it is undecided (``passed`` NULL) when one is missing or an error. Older grades
(other hashes) stay in the table, beside the new ones, and are never deleted.

``Grades`` is the ``grades`` part of ``Store`` (``store.grades.current(run_id)``).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from mendoza.core import Grade, GraderSpec, Step, Suite, combined_verdict, first_failing_step
from mendoza.errors import RunNotFound
from mendoza.store.connection import StorePart, utc_now

__all__ = ["CurrentGrade", "Grades", "RegradeInput"]


class _StepsBySample:
    """The steps of a run's samples, taken in increasing sample id (a merge with another query in that order),
    so only one sample's steps are in memory at a time."""

    def __init__(self, groups: Iterator[tuple[int, list[Step]]]) -> None:
        self._groups = groups
        self._head = next(groups, None)

    def of(self, sample_id: int) -> list[Step]:
        """The steps of ``sample_id`` (none when it has none); ids must be asked for in increasing order."""
        while self._head is not None and self._head[0] < sample_id:
            self._head = next(self._groups, None)
        if self._head is None or self._head[0] != sample_id:
            return []
        found = self._head[1]
        self._head = next(self._groups, None)
        return found

    def remaining(self) -> Iterator[tuple[int, list[Step]]]:
        """Every sample not yet taken, with its steps."""
        while self._head is not None:
            yield self._head
            self._head = next(self._groups, None)


@dataclass(frozen=True, slots=True)
class RegradeInput:
    """A stored output to grade again: the sample's id, where it belongs, and the output."""

    sample_id: int
    case_id: str
    variant_id: str
    repeat: int
    output: str


@dataclass(frozen=True, slots=True)
class CurrentGrade:
    """The grade that counts for one sample and one current grader, with the sample's place in the run."""

    sample_id: int
    variant_id: str
    case_id: str
    repeat: int
    grader: str
    grader_hash: str
    passed: bool | None
    score: float | None
    explanation: str
    error: str | None
    detail: dict[str, Any] | None


def latest_grades(graders: Sequence[tuple[str, str]], columns: str = "g.sample_id, g.grader, g.passed") -> str:
    """The ``WITH`` clause of the rule above, written once: ``cur`` holds the given ``(name, definition hash)``
    graders and ``latest`` one run's automatic grades by them with ``columns``, newest first per sample and
    grader (``rn = 1`` is the grade that counts). Its parameters: each grader's name and hash, then the run id
    (``latest_grade_args``)."""
    values = ", ".join("(?, ?)" for _ in graders)
    return (
        f"WITH cur(name, hash) AS (VALUES {values}), "
        "latest AS ("
        f"  SELECT {columns}, "
        "         ROW_NUMBER() OVER (PARTITION BY g.sample_id, g.grader ORDER BY g.id DESC) AS rn "
        "  FROM grades AS g JOIN samples AS s ON s.id = g.sample_id "
        "  JOIN cur ON cur.name = g.grader AND cur.hash = g.grader_hash "
        "  WHERE s.run_id = ? AND g.source = 'auto'"
        ") "
    )


def latest_grade_args(graders: Sequence[tuple[str, str]], run_id: str) -> list[str]:
    """The parameters of ``latest_grades``'s clause."""
    return [*[value for pair in graders for value in pair], run_id]


class Grades(StorePart):
    """The store's grader sets, regrades and current verdicts: the ``grades`` part of ``Store``."""


    # --- which graders count ------------------------------------------------------------------------------

    def grader_set(self, run_id: str) -> list[GraderSpec]:
        """The grader definitions that count for a run: its latest regrade's, else its suite's graders."""
        rows = self._rows(
            "SELECT spec_json FROM grader_sets WHERE run_id = ? AND revision = "
            "(SELECT MAX(revision) FROM grader_sets WHERE run_id = ?) ORDER BY position",
            (run_id, run_id),
        )
        if rows:
            return [GraderSpec.model_validate(json.loads(row[0])) for row in rows]
        suite_rows = self._rows("SELECT suite_json FROM runs WHERE id = ?", (run_id,))
        if not suite_rows:
            raise RunNotFound(f"no run '{run_id}' in {self.path}")
        return list(Suite.model_validate(json.loads(suite_rows[0][0])).graders)

    def grader_set_revision(self, run_id: str) -> int:
        """How many times the run was regraded (0: its suite's graders still count)."""
        rows = self._rows("SELECT MAX(revision) FROM grader_sets WHERE run_id = ?", (run_id,))
        return int(rows[0][0] or 0)

    def record_grader_set(self, run_id: str, specs: Sequence[GraderSpec]) -> int:
        """Make ``specs`` the run's current grader set (a new revision); returns the revision. Use
        ``commit_grader_set`` to refresh the verdicts in the same transaction."""
        with self._transaction():
            return self._insert_grader_set(run_id, specs)

    def commit_grader_set(
        self, run_id: str, specs: Sequence[GraderSpec] | None, deciding: Sequence[GraderSpec] | None = None
    ) -> int:
        """Make ``specs`` the run's current grader set (None: keep the current one) and recompute every
        sample's verdict from it (``deciding``: see ``refresh_verdicts``), in one transaction: a regrade
        stopped at any moment leaves the old set with the old verdicts, or the new with the new, never the new
        set beside the old verdicts. Returns the current revision."""
        with self._transaction():
            revision = self._current_revision(run_id) if specs is None else self._insert_grader_set(run_id, specs)
            self._refresh(run_id, list(specs) if deciding is None and specs is not None else deciding)
        return revision

    def _current_revision(self, run_id: str) -> int:
        row = self._db.execute("SELECT MAX(revision) FROM grader_sets WHERE run_id = ?", (run_id,)).fetchone()
        return int(row[0] or 0)

    def _insert_grader_set(self, run_id: str, specs: Sequence[GraderSpec]) -> int:
        now = utc_now()
        revision = self._current_revision(run_id) + 1
        self._db.executemany(
            "INSERT INTO grader_sets (run_id, revision, position, name, grader_hash, spec_json, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (run_id, revision, position, spec.name, spec.definition_hash(),
                 json.dumps(spec.model_dump(mode="json"), ensure_ascii=False), now)
                for position, spec in enumerate(specs)
            ],
        )
        return revision

    # --- regrading ----------------------------------------------------------------------------------------

    def regrade_inputs(self, run_id: str, variant_ids: Sequence[str] | None = None) -> list[RegradeInput]:
        """The stored outputs of a run (samples that did not end in an error), by variant, case, repeat."""
        where, args = "run_id = ? AND error IS NULL AND output IS NOT NULL", [run_id]
        if variant_ids is not None:
            where += f" AND variant_id IN ({','.join('?' * len(variant_ids))})"
            args.extend(variant_ids)
        rows = self._rows(
            f"SELECT id, case_id, variant_id, repeat, output FROM samples WHERE {where} "
            "ORDER BY variant_id, case_id, repeat",
            args,
        )
        return [RegradeInput(row[0], row[1], row[2], row[3], row[4]) for row in rows]

    def graded_sample_ids(self, run_id: str, grader: str, grader_hash: str) -> set[int]:
        """The samples of a run that already have a grade (not an error) by this grader definition."""
        rows = self._rows(
            "SELECT DISTINCT g.sample_id FROM grades AS g JOIN samples AS s ON s.id = g.sample_id "
            "WHERE s.run_id = ? AND g.grader = ? AND g.grader_hash = ? AND g.source = 'auto' "
            "AND g.error IS NULL",
            (run_id, grader, grader_hash),
        )
        return {int(row[0]) for row in rows}

    def add(self, grades: Sequence[tuple[int, Grade]]) -> int:
        """Store automatic grades of stored samples, ``(sample_id, grade)``, beside any earlier ones (text
        UTF-8 cannot hold is stored as U+FFFD)."""
        if not grades:
            return 0
        now = utc_now()
        self._write_rows(
            "INSERT INTO grades (sample_id, grader, grader_hash, source, passed, score, explanation, error, "
            "author, created_at, detail) VALUES (?, ?, ?, 'auto', ?, ?, ?, ?, NULL, ?, ?)",
            [
                (
                    sample_id,
                    grade.grader,
                    grade.grader_hash,
                    None if grade.passed is None else int(grade.passed),
                    grade.score,
                    grade.explanation,
                    grade.error,
                    now,
                    None if grade.detail is None else json.dumps(grade.detail, ensure_ascii=False, default=str),
                )
                for sample_id, grade in grades
            ],
        )
        return len(grades)

    def refresh_verdicts(self, run_id: str, deciding: Sequence[GraderSpec] | None = None) -> None:
        """Recompute every sample's automatic verdict (``passed``) and ``graders_disagree`` of a run from its
        current grader set (see the module's rule). ``deciding``: the current graders that grade each sample
        (default: all of them); the caller leaves out steps that grade no single sample, such as a pairwise
        comparison, which would otherwise leave every sample undecided."""
        with self._transaction():
            self._refresh(run_id, deciding)

    def _refresh(self, run_id: str, deciding: Sequence[GraderSpec] | None) -> None:
        """``refresh_verdicts`` inside the caller's transaction (the grader set read in it too). The verdict
        of each sample is ``core.combined_verdict`` of its current graders' latest grades (a grader with no
        grade of a sample counts as undecided), the same rule a sample's verdict is written with; its
        ``failed_step`` is ``core.first_failing_step`` of its steps, the targets being the steps whose current
        step grader (``step: NAME``) failed it, as the run computes it."""
        specs = self.grader_set(run_id) if deciding is None else deciding
        current = [(spec.name, spec.definition_hash()) for spec in specs]
        steps = _StepsBySample(self._step_names(run_id))
        if not current:
            self._db.execute("UPDATE samples SET passed = NULL, graders_disagree = 0 WHERE run_id = ?", (run_id,))
            self._db.executemany(
                "UPDATE samples SET failed_step = ? WHERE id = ?",
                [(first_failing_step(found, ()), sample_id) for sample_id, found in steps.remaining()],
            )
            return
        rows = self._db.execute(
            latest_grades(current) + "SELECT s.id, s.error IS NOT NULL, l.grader, l.passed FROM samples AS s "
            "LEFT JOIN latest AS l ON l.sample_id = s.id AND l.rn = 1 WHERE s.run_id = ? ORDER BY s.id",
            (*latest_grade_args(current, run_id), run_id),
        )
        names = [name for name, _ in current]
        targets = {spec.name: spec.step for spec in specs if spec.step is not None}
        updates: list[tuple[int | None, int, str | None, int]] = []
        sample_id: int | None = None
        errored = False
        found: dict[str, bool | None] = {}

        def flush() -> None:
            if sample_id is None:
                return
            verdicts = [found.get(name) for name in names]
            passed = None if errored else combined_verdict(verdicts)
            disagree = True in verdicts and False in verdicts
            failed = {step for name, step in targets.items() if found.get(name) is False}
            failed_step = first_failing_step(steps.of(sample_id), failed)
            updates.append((None if passed is None else int(passed), int(disagree), failed_step, sample_id))

        for row in rows:
            if row[0] != sample_id:
                flush()
                sample_id, errored, found = row[0], bool(row[1]), {}
            if row[2] is not None:
                found[row[2]] = None if row[3] is None else bool(row[3])
        flush()
        self._db.executemany(
            "UPDATE samples SET passed = ?, graders_disagree = ?, failed_step = ? WHERE id = ?", updates
        )

    def _step_names(self, run_id: str) -> Iterator[tuple[int, list[Step]]]:
        """Each sample of the run that has steps, by id, with its steps' names and errors in order (one query,
        read as it goes)."""
        cursor = self._db.cursor()
        cursor.row_factory = None
        cursor.execute(
            "SELECT st.sample_id, st.name, st.error FROM steps AS st JOIN samples AS s ON s.id = st.sample_id "
            "WHERE s.run_id = ? ORDER BY st.sample_id, st.position",
            (run_id,),
        )
        for sample_id, rows in itertools.groupby(cursor, key=itemgetter(0)):
            yield int(sample_id), [Step(name=row[1], error=row[2]) for row in rows]

    # --- reading verdicts ---------------------------------------------------------------------------------

    def current(self, run_id: str, grader: str | None = None) -> list[CurrentGrade]:
        """The grades that count (see the module's rule) of a run's current graders, or of the one named,
        by variant, case, repeat."""
        current = [
            (spec.name, spec.definition_hash())
            for spec in self.grader_set(run_id)
            if grader is None or spec.name == grader
        ]
        if not current:
            return []
        rows = self._rows(
            latest_grades(current, "g.*, s.variant_id, s.case_id, s.repeat")
            + "SELECT * FROM latest WHERE rn = 1 ORDER BY variant_id, case_id, repeat, grader",
            latest_grade_args(current, run_id),
        )
        return [
            CurrentGrade(
                sample_id=row["sample_id"],
                variant_id=row["variant_id"],
                case_id=row["case_id"],
                repeat=row["repeat"],
                grader=row["grader"],
                grader_hash=row["grader_hash"],
                passed=None if row["passed"] is None else bool(row["passed"]),
                score=row["score"],
                explanation=row["explanation"],
                error=row["error"],
                detail=None if row["detail"] is None else json.loads(row["detail"]),
            )
            for row in rows
        ]

    def sample_verdicts(self, run_id: str) -> list[tuple[int, str, str, bool | None]]:
        """``(sample_id, variant_id, case_id, passed)`` for every sample of a run (the automatic verdict)."""
        rows = self._rows(
            "SELECT id, variant_id, case_id, passed FROM samples WHERE run_id = ? ORDER BY variant_id, case_id, "
            "repeat",
            (run_id,),
        )
        return [(int(r[0]), r[1], r[2], None if r[3] is None else bool(r[3])) for r in rows]

    def version(self) -> int:
        """A number that grows whenever any grade (automatic or human) is written: a key for caches."""
        rows = self._rows("SELECT MAX(id) FROM grades")
        return int(rows[0][0] or 0)
