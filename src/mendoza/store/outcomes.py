"""Counting how samples ended beyond the per cell counts (``browse.cell_verdicts``, whose ``outcomes`` are the
four outcomes by automatic and by human-adjusted verdicts): per grader, the errors grouped by message, the
samples' notes and details, and the signs of silent garbage (empty outputs, one output for every case).

The outcome rule is ``mendoza.core.sample_outcome`` (and ``adjusted_outcome`` for labels); the SQL here and in
``browse`` is its mirror for counting in one pass, and ``tests/store/test_outcomes.py`` holds the two equal on
every combination of error, verdict and label. ``OutcomeQueries`` is a part of ``Store`` (which inherits it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mendoza.core import OutcomeCounts
from mendoza.store.connection import StorePart
from mendoza.store.grading import latest_grade_args, latest_grades

__all__ = [
    "ADJUSTED_VERDICT_SQL",
    "CellVerdicts",
    "ErrorGroup",
    "GraderCell",
    "Outcomes",
    "OutputSigns",
    "marks",
]

ADJUSTED_VERDICT_SQL = "COALESCE(human_passed, CASE WHEN error IS NULL THEN passed END)"
"""A sample's human-adjusted verdict in SQL (``core.adjusted_verdict`` of its automatic verdict and label)."""


@dataclass(frozen=True, slots=True)
class GraderCell:
    """One grader's own verdicts on one (variant, case) cell (the grade of its current definition)."""

    variant_id: str
    case_id: str
    grader: str
    counts: OutcomeCounts


@dataclass(frozen=True, slots=True)
class ErrorGroup:
    """Errors of one variant that share their first line, and how many samples ended in it."""

    variant_id: str
    message: str
    count: int


@dataclass(frozen=True, slots=True)
class OutputSigns:
    """Signs that a variant's outputs are garbage the graders may not catch: how many answered samples
    (no error) it has, how many of them are empty or blank, how many distinct outputs over how many cases."""

    variant_id: str
    answered: int
    empty: int
    distinct_outputs: int
    cases: int


@dataclass(frozen=True, slots=True)
class CellVerdicts:
    """One (variant, case) cell: its samples counted by automatic and by human-adjusted verdict.

    ``labelled`` samples have a human verdict, ``overruled`` ones a human verdict that differs from the
    automatic one; ``disagree`` samples have automatic graders that disagree. ``first_sample_id`` is the cell's
    first sample and ``first_failing_id`` its first sample that does not pass (in the view asked for), if any.
    """

    variant_id: str
    case_id: str
    samples: int
    passed: int
    failed: int
    errors: int
    adjusted_passed: int
    adjusted_failed: int
    labelled: int
    overruled: int
    disagree: int
    first_sample_id: int
    first_failing_id: int | None
    adjusted_errors: int = 0

    def outcomes(self, adjusted: bool) -> OutcomeCounts:
        """The cell's outcomes by human-adjusted (``adjusted``) or automatic verdicts."""
        return self.adjusted if adjusted else self.automatic

    @property
    def automatic(self) -> OutcomeCounts:
        """The cell's outcomes by the graders' verdicts."""
        return OutcomeCounts.of(self.samples, self.passed, self.failed, self.errors)

    @property
    def adjusted(self) -> OutcomeCounts:
        """The cell's outcomes by human-adjusted verdicts (a person's label decides a sample)."""
        return OutcomeCounts.of(self.samples, self.adjusted_passed, self.adjusted_failed, self.adjusted_errors)


def marks(values: Sequence[Any]) -> str:
    """One ``?`` per value, for ``IN (...)``."""
    return ",".join("?" * len(values))


class Outcomes(StorePart):
    """How a run's samples ended, counted in SQL: the ``outcomes`` part of ``Store``."""

    def cell_verdicts(
        self,
        run_id: str,
        *,
        variant_ids: Sequence[str] | None = None,
        case_ids: Sequence[str] | None = None,
        human: bool = True,
    ) -> list[CellVerdicts]:
        """Per (variant, case) cell of a run: samples by automatic and human-adjusted verdict (all cells, or
        those of the given variants and cases), ordered by variant and case id."""
        where, args = "run_id = ?", [run_id]
        if variant_ids is not None:
            if not variant_ids:
                return []
            where += f" AND variant_id IN ({marks(variant_ids)})"
            args.extend(variant_ids)
        if case_ids is not None:
            if not case_ids:
                return []
            where += f" AND case_id IN ({marks(case_ids)})"
            args.extend(case_ids)
        failing = ADJUSTED_VERDICT_SQL if human else "passed"
        adjusted = f"({ADJUSTED_VERDICT_SQL})"
        count, is_, is_not = self._sql.count, self._sql.is_, self._sql.is_not
        rows = self._rows(
            # ``IS 1`` / ``IS 0``, never ``= 1``: a cell whose samples all errored has no verdict, and a SUM
            # of nothing but NULLs is NULL, not 0.
            f"SELECT variant_id, case_id, COUNT(*), {count(is_('passed', 1))}, {count(is_('passed', 0))}, "
            f"{count('error IS NOT NULL')}, {count(is_(adjusted, 1))}, {count(is_(adjusted, 0))}, "
            f"{count('human_passed IS NOT NULL')}, "
            f"{count('human_passed IS NOT NULL AND ' + is_not('human_passed', 'passed'))}, SUM(graders_disagree), "
            f"MIN(id), MIN(CASE WHEN {is_not(failing, 1)} THEN id END), "
            f"{count('human_passed IS NULL AND error IS NOT NULL')} "
            f"FROM samples WHERE {where} GROUP BY variant_id, case_id ORDER BY variant_id, case_id",
            args,
        )
        return [CellVerdicts(*row) for row in rows]

    def grader_cells(self, run_id: str, graders: Sequence[tuple[str, str]]) -> list[GraderCell]:
        """Per (variant, case, grader) of the given ``(name, definition hash)`` graders: the outcomes of that
        grader's latest automatic grade of each sample. A sample that errored is errored for every grader;
        one the grader has no verdict on (a grader error, or not graded by it) is undecided."""
        if not graders:
            return []
        count, is_ = self._sql.count, self._sql.is_
        rows = self._rows(
            latest_grades(graders) + "SELECT s.variant_id, s.case_id, cur.name, COUNT(*), "
            f"  {count('s.error IS NULL AND ' + is_('l.passed', 1))}, "
            f"  {count('s.error IS NULL AND ' + is_('l.passed', 0))}, {count('s.error IS NOT NULL')} "
            "FROM samples AS s CROSS JOIN cur "
            "LEFT JOIN latest AS l ON l.sample_id = s.id AND l.grader = cur.name AND l.rn = 1 "
            "WHERE s.run_id = ? GROUP BY s.variant_id, s.case_id, cur.name "
            "ORDER BY s.variant_id, s.case_id, cur.name",
            (*latest_grade_args(graders, run_id), run_id),
        )
        return [
            GraderCell(row[0], row[1], row[2], OutcomeCounts.of(int(row[3]), row[4] or 0, row[5] or 0, row[6] or 0))
            for row in rows
        ]

    def error_groups(self, run_id: str, per_variant: int = 5) -> list[ErrorGroup]:
        """The most common errors of each variant of a run (by first line), most frequent first."""
        rows = self._rows(
            # The first line of an error, at most 200 characters: what errors are grouped by.
            f"SELECT variant_id, {self._sql.first_line('error')} AS line, COUNT(*) AS n FROM samples "
            "WHERE run_id = ? AND error IS NOT NULL GROUP BY variant_id, line ORDER BY variant_id, n DESC, line",
            (run_id,),
        )
        groups: list[ErrorGroup] = []
        kept: dict[str, int] = {}
        for row in rows:
            if kept.get(row[0], 0) < per_variant:
                kept[row[0]] = kept.get(row[0], 0) + 1
                groups.append(ErrorGroup(row[0], str(row[1]), int(row[2])))
        return groups

    def detail_counts(
        self, run_id: str, graders: Sequence[tuple[str, str]], key: str
    ) -> list[tuple[str, str, str, int]]:
        """``(variant id, grader, value, grades)`` for one top-level ``key`` of the stored detail of the given
        ``(name, definition hash)`` graders' grades that count (e.g. the sandbox a ``code`` grader ran in)."""
        if not graders:
            return []
        rows = self._rows(
            latest_grades(graders, "g.sample_id, g.grader, g.detail")
            + "SELECT variant_id, grader, value, COUNT(*) FROM ("
            f"  SELECT s.variant_id, l.grader, {self._sql.json_field('l.detail')} AS value FROM latest AS l "
            "  JOIN samples AS s ON s.id = l.sample_id WHERE l.rn = 1"
            ") AS found WHERE value IS NOT NULL "
            "GROUP BY variant_id, grader, value ORDER BY variant_id, grader, value",
            (*latest_grade_args(graders, run_id), self._sql.json_key(key)),
        )
        return [(str(row[0]), str(row[1]), str(row[2]), int(row[3])) for row in rows]

    def note_counts(self, run_id: str) -> list[tuple[str, str, int]]:
        """``(variant id, notes, samples)`` for the samples of a run that carry notes (how they were made or
        stored: a guessed chat template, replaced characters), by variant and notes."""
        rows = self._rows(
            "SELECT variant_id, notes, COUNT(*) FROM samples WHERE run_id = ? AND notes IS NOT NULL "
            "GROUP BY variant_id, notes ORDER BY variant_id, notes",
            (run_id,),
        )
        return [(str(row[0]), str(row[1]), int(row[2])) for row in rows]

    def output_signs(self, run_id: str) -> list[OutputSigns]:
        """Per variant of a run: answered samples, empty outputs, distinct outputs and cases answered."""
        blank = "TRIM(COALESCE(output, '')) = ''"
        rows = self._rows(
            f"SELECT variant_id, COUNT(*), {self._sql.count(blank)}, COUNT(DISTINCT output), "
            "COUNT(DISTINCT case_id) FROM samples WHERE run_id = ? AND error IS NULL "
            "GROUP BY variant_id ORDER BY variant_id",
            (run_id,),
        )
        return [OutputSigns(row[0], int(row[1]), int(row[2] or 0), int(row[3]), int(row[4])) for row in rows]
