"""Reading a run to look at it: one sample with its grades, a case's repeats, per cell verdicts, and a page of
the cases x variants grid, filtered, sorted and searched in SQL so it stays fast on large runs.

``BrowseQueries`` is a part of ``Store`` (which inherits it); use it through a ``Store``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mendoza.core import OutcomeCounts, adjusted_verdict
from mendoza.store.connection import StoreConnection
from mendoza.store.outcomes import ADJUSTED_VERDICT_SQL
from mendoza.store.rows import sample_fields

__all__ = [
    "GRID_SORTS",
    "BrowseQueries",
    "CaseRecord",
    "CellVerdicts",
    "GradeRecord",
    "GridPage",
    "GridQuery",
    "GridSort",
    "SampleRecord",
]

GridSort = Literal["case", "pass_rate", "flaky", "disagreement"]
GRID_SORTS: tuple[GridSort, ...] = ("case", "pass_rate", "flaky", "disagreement")
"""How the grid's cases can be ordered: suite order, lowest pass rate, most flaky, most grader disagreement."""


def _verdict(value: int | None) -> bool | None:
    return None if value is None else bool(value)


@dataclass(frozen=True, slots=True)
class SampleRecord:
    """One stored sample: its output and cost, its automatic verdict (all automatic grades passed) and the
    verdict of its latest human grade, if any."""

    id: int
    run_id: str
    case_id: str
    variant_id: str
    repeat: int
    prompt: str | None
    output: str | None
    error: str | None
    passed: bool | None
    human_passed: bool | None
    graders_disagree: bool
    tokens_in: int | None
    tokens_out: int | None
    cost: float | None
    latency_ms: float
    cached: bool
    seed: int
    attempts: int
    created_at: str
    #: What was not stored exactly as given (characters UTF-8 cannot hold, replaced by U+FFFD); None: nothing.
    notes: str | None = None
    #: What the app returned beside its output (a ``python:`` app's extra keys), when anything.
    metadata: dict[str, Any] | None = None

    @property
    def adjusted_passed(self) -> bool | None:
        """The human-adjusted verdict: the human's where a person labelled the sample, else the automatic one."""
        return adjusted_verdict(self.passed, self.human_passed)


@dataclass(frozen=True, slots=True)
class GradeRecord:
    """One stored grade (automatic or human), with its id and when it was written."""

    id: int
    sample_id: int
    grader: str
    grader_hash: str
    source: str
    passed: bool | None
    score: float | None
    explanation: str
    error: str | None
    author: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A case of a run, as its suite snapshot has it, with its place in the suite (0-based)."""

    position: int
    case_id: str
    vars: dict[str, Any]
    expected: Any
    tags: tuple[str, ...]


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


@dataclass(frozen=True, slots=True)
class GridQuery:
    """Which cases of a run the grid shows, in what order, and which page of them.

    Filters keep a case when any of its samples in ``variant_ids`` matches: ``failing`` (a sample that does
    not pass), ``flaky`` (a cell with both passes and failures), ``disagree`` (automatic graders disagree),
    ``overruled`` (a human verdict differs from the automatic one), ``tag``, and ``text`` (found in a rendered
    prompt, an output, the case id or its vars). ``human`` uses the human-adjusted verdicts (else automatic);
    ``errors_fail`` counts an errored sample as a failure when sorting by pass rate (the suite's ``errors:``).
    """

    variant_ids: tuple[str, ...]
    human: bool = True
    errors_fail: bool = True
    failing: bool = False
    flaky: bool = False
    disagree: bool = False
    overruled: bool = False
    tag: str | None = None
    text: str | None = None
    sort: GridSort = "case"
    reverse: bool = False
    limit: int = 50
    offset: int = 0

    def __post_init__(self) -> None:
        if self.limit < 1 or self.offset < 0:
            raise ValueError(f"a grid page needs limit >= 1 and offset >= 0, got {self.limit} and {self.offset}")
        if self.sort not in GRID_SORTS:
            raise ValueError(f"sort must be one of {', '.join(GRID_SORTS)}, got {self.sort!r}")

    @property
    def filtered(self) -> bool:
        """Whether any filter is set."""
        return self.failing or self.flaky or self.disagree or self.overruled or bool(self.tag or self.text)


@dataclass(frozen=True, slots=True)
class GridPage:
    """One page of the grid: its cases (in order), how many cases match in all, their cells, and the offset
    of the first case shown."""

    cases: list[CaseRecord]
    total: int
    cells: list[CellVerdicts]
    offset: int


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def _case_from_row(row: sqlite3.Row) -> CaseRecord:
    expected = row["expected"]
    return CaseRecord(
        position=row["position"],
        case_id=row["case_id"],
        vars=json.loads(row["vars"]),
        expected=None if expected is None else json.loads(expected),
        tags=tuple(str(tag) for tag in json.loads(row["tags"])),
    )


def _sample_from_row(row: sqlite3.Row) -> SampleRecord:
    return SampleRecord(
        id=row["id"],
        run_id=row["run_id"],
        passed=_verdict(row["passed"]),
        human_passed=_verdict(row["human_passed"]),
        graders_disagree=bool(row["graders_disagree"]),
        created_at=row["created_at"],
        **sample_fields(row),
    )


_ADJUSTED = ADJUSTED_VERDICT_SQL

# Per case totals over the chosen variants, from which the grid filters and sorts (one pass over the run).
_CASE_TOTALS = """
    cells AS (
        SELECT case_id, SUM(({verdict}) IS 1) AS p, SUM(({verdict}) IS 0) + {errored} AS f, COUNT(*) AS n,
               SUM(graders_disagree) AS d, SUM(human_passed IS NOT NULL AND human_passed IS NOT passed) AS o,
               {hits} AS hits
        FROM samples WHERE run_id = ? AND variant_id IN ({variants})
        GROUP BY case_id, variant_id
    ),
    totals AS (
        SELECT case_id, SUM(p) AS p, SUM(f) AS f, SUM(n) AS n, SUM(d) AS d, SUM(o) AS o, SUM(hits) AS hits,
               MAX(MIN(p, f) * 1.0 / NULLIF(p + f, 0)) AS flaky
        FROM cells GROUP BY case_id
    )"""

# Each sort's natural order (worst first); ``reverse`` flips it. Suite order breaks ties.
_SORT_KEYS: dict[str, tuple[str, str]] = {
    "case": ("rc.position", "rc.position DESC"),
    "pass_rate": (
        "t.p * 1.0 / NULLIF(t.p + t.f, 0) IS NULL, t.p * 1.0 / NULLIF(t.p + t.f, 0)",
        "t.p * 1.0 / NULLIF(t.p + t.f, 0) IS NULL, t.p * 1.0 / NULLIF(t.p + t.f, 0) DESC",
    ),
    "flaky": ("COALESCE(t.flaky, 0) DESC", "COALESCE(t.flaky, 0)"),
    "disagreement": ("COALESCE(t.d, 0) DESC", "COALESCE(t.d, 0)"),
}


class BrowseQueries(StoreConnection):
    """The store's queries for looking at a run (a mixin of ``Store``)."""


    def count_runs(self) -> int:
        """How many runs the store holds."""
        return int(self._rows("SELECT COUNT(*) FROM runs")[0][0])

    def find_sample(self, sample_id: int) -> SampleRecord | None:
        """The sample with this id, or None."""
        rows = self._rows("SELECT * FROM samples WHERE id = ?", (sample_id,))
        return _sample_from_row(rows[0]) if rows else None

    def case_samples(self, run_id: str, case_id: str, variant_ids: Sequence[str]) -> list[SampleRecord]:
        """Every sample of one case of a run in the given variants, by variant (in the order given), repeat."""
        if not variant_ids:
            return []
        rows = self._rows(
            f"SELECT * FROM samples WHERE run_id = ? AND variant_id IN ({_marks(variant_ids)}) "
            "AND case_id = ? ORDER BY repeat",
            (run_id, *variant_ids, case_id),
        )
        order = {variant_id: index for index, variant_id in enumerate(variant_ids)}
        records = [_sample_from_row(row) for row in rows]
        return sorted(records, key=lambda record: (order[record.variant_id], record.repeat))

    def grade_records(self, sample_ids: Sequence[int]) -> dict[int, list[GradeRecord]]:
        """The grades of these samples, automatic and human, oldest first, by sample id."""
        found: dict[int, list[GradeRecord]] = {}
        if not sample_ids:
            return found
        rows = self._rows(
            f"SELECT * FROM grades WHERE sample_id IN ({_marks(sample_ids)}) ORDER BY id", list(sample_ids)
        )
        for row in rows:
            found.setdefault(row["sample_id"], []).append(
                GradeRecord(
                    id=row["id"],
                    sample_id=row["sample_id"],
                    grader=row["grader"],
                    grader_hash=row["grader_hash"],
                    source=row["source"],
                    passed=_verdict(row["passed"]),
                    score=row["score"],
                    explanation=row["explanation"],
                    error=row["error"],
                    author=row["author"],
                    created_at=row["created_at"],
                )
            )
        return found

    def run_case(self, run_id: str, case_id: str) -> CaseRecord | None:
        """One case of a run (vars, expected, tags, place in the suite), or None."""
        rows = self._rows(
            "SELECT * FROM run_cases WHERE run_id = ? AND case_id = ? ORDER BY position LIMIT 1",
            (run_id, case_id),
        )
        return _case_from_row(rows[0]) if rows else None

    def run_tags(self, run_id: str) -> list[str]:
        """The tags used by a run's cases, sorted."""
        rows = self._rows(
            "SELECT DISTINCT tag.value FROM run_cases, json_each(run_cases.tags) AS tag "
            "WHERE run_cases.run_id = ? ORDER BY 1",
            (run_id,),
        )
        return [str(row[0]) for row in rows]

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
            where += f" AND variant_id IN ({_marks(variant_ids)})"
            args.extend(variant_ids)
        if case_ids is not None:
            if not case_ids:
                return []
            where += f" AND case_id IN ({_marks(case_ids)})"
            args.extend(case_ids)
        failing = _ADJUSTED if human else "passed"
        rows = self._rows(
            # ``IS 1`` / ``IS 0``, never ``= 1``: a cell whose samples all errored has no verdict, and a SUM
            # of nothing but NULLs is NULL, not 0.
            "SELECT variant_id, case_id, COUNT(*), SUM(passed IS 1), SUM(passed IS 0), SUM(error IS NOT NULL), "
            f"SUM(({_ADJUSTED}) IS 1), SUM(({_ADJUSTED}) IS 0), SUM(human_passed IS NOT NULL), "
            "SUM(human_passed IS NOT NULL AND human_passed IS NOT passed), SUM(graders_disagree), MIN(id), "
            f"MIN(CASE WHEN {failing} IS NOT 1 THEN id END), "
            "SUM(human_passed IS NULL AND error IS NOT NULL) "
            f"FROM samples WHERE {where} GROUP BY variant_id, case_id ORDER BY variant_id, case_id",
            args,
        )
        return [CellVerdicts(*row) for row in rows]

    def review_candidates(self, run_id: str, variant_ids: Sequence[str]) -> list[tuple[int, int]]:
        """``(sample_id, tier)`` for the samples of a run worth a person's look, in order: tier 0 automatic
        graders disagree, 1 failed in a flaky cell, 2 failed, 3 passed in a flaky cell (automatic verdicts;
        errored samples left out); within a tier by suite order, variant, repeat."""
        if not variant_ids:
            return []
        marks = _marks(variant_ids)
        rows = self._rows(
            "WITH cells AS ("
            "  SELECT variant_id, case_id, SUM(passed IS 1) > 0 AND SUM(passed IS NOT 1) > 0 AS flaky "
            f" FROM samples WHERE run_id = ? AND variant_id IN ({marks}) AND error IS NULL "
            "  GROUP BY variant_id, case_id"
            "), ranked AS ("
            "  SELECT s.id, s.variant_id, s.repeat, s.case_id, CASE"
            "    WHEN s.graders_disagree THEN 0"
            "    WHEN s.passed IS NOT 1 AND c.flaky THEN 1"
            "    WHEN s.passed IS NOT 1 THEN 2"
            "    WHEN c.flaky THEN 3 END AS tier"
            "  FROM samples AS s JOIN cells AS c ON c.variant_id = s.variant_id AND c.case_id = s.case_id"
            f"  WHERE s.run_id = ? AND s.variant_id IN ({marks}) AND s.error IS NULL"
            ")"
            " SELECT ranked.id, ranked.tier FROM ranked"
            " LEFT JOIN run_cases AS rc ON rc.run_id = ? AND rc.case_id = ranked.case_id"
            " WHERE ranked.tier IS NOT NULL ORDER BY ranked.tier, rc.position, ranked.variant_id, ranked.repeat",
            (run_id, *variant_ids, run_id, *variant_ids, run_id),
        )
        return [(int(row[0]), int(row[1])) for row in rows]

    def grid_page(self, run_id: str, query: GridQuery) -> GridPage:
        """One page of a run's cases x variants grid, as ``query`` filters, sorts and pages it. An offset past
        the last case serves the last page (``GridPage.offset`` says which)."""
        if not query.filtered and query.sort == "case":
            total = int(self._rows("SELECT COUNT(*) FROM run_cases WHERE run_id = ?", (run_id,))[0][0])
            offset = min(query.offset, max(0, (total - 1) // query.limit * query.limit))
            order = "position DESC" if query.reverse else "position"
            rows = self._rows(
                f"SELECT * FROM run_cases WHERE run_id = ? ORDER BY {order} LIMIT ? OFFSET ?",
                (run_id, query.limit, offset),
            )
        else:
            rows, total, offset = self._filtered_cases(run_id, query)
        cases = [_case_from_row(row) for row in rows]
        cells = self.cell_verdicts(
            run_id,
            variant_ids=query.variant_ids,
            case_ids=[case.case_id for case in cases],
            human=query.human,
        )
        return GridPage(cases=cases, total=total, cells=cells, offset=offset)

    def _filtered_cases(self, run_id: str, query: GridQuery) -> tuple[list[sqlite3.Row], int, int]:
        """The page of cases that match (one pass over the run's samples), the number that match, and the
        offset served."""
        if not query.variant_ids:
            return [], 0, 0
        variants = list(query.variant_ids)
        totals_args: list[Any] = []
        hits = "0"
        if query.text:
            hits = "SUM(prompt LIKE ? ESCAPE '\\' OR output LIKE ? ESCAPE '\\')"
            totals_args.extend([_like(query.text)] * 2)
        totals_args.extend([run_id, *variants])
        errored = "0"
        if query.errors_fail:  # the errored samples the verdicts asked for leave without a verdict
            errored = "SUM(error IS NOT NULL AND human_passed IS NULL)" if query.human else "SUM(error IS NOT NULL)"
        with_sql = _CASE_TOTALS.format(
            verdict=_ADJUSTED if query.human else "passed", hits=hits, variants=_marks(variants), errored=errored
        )
        conditions = ["rc.run_id = ?"]
        args: list[Any] = [run_id]
        if query.failing:
            conditions.append("t.n > t.p")
        if query.flaky:
            conditions.append("t.flaky > 0")
        if query.disagree:
            conditions.append("t.d > 0")
        if query.overruled:
            conditions.append("t.o > 0")
        if query.tag:
            conditions.append("EXISTS (SELECT 1 FROM json_each(rc.tags) AS tag WHERE tag.value = ?)")
            args.append(query.tag)
        if query.text:
            conditions.append("(t.hits > 0 OR rc.case_id LIKE ? ESCAPE '\\' OR rc.vars LIKE ? ESCAPE '\\')")
            args.extend([_like(query.text)] * 2)
        natural, reversed_ = _SORT_KEYS[query.sort]
        order = reversed_ if query.reverse else natural
        # The page asked for, or the last page when the offset lies past the end: one query, one pass.
        start = "MIN(?, MAX(0, (total - 1) / ? * ?))"
        rows = self._rows(
            f"WITH {with_sql}, matched AS ("
            f"  SELECT rc.*, ROW_NUMBER() OVER (ORDER BY {order}, rc.position) AS rn, COUNT(*) OVER () AS total"
            "   FROM run_cases AS rc LEFT JOIN totals AS t ON t.case_id = rc.case_id"
            f"  WHERE {' AND '.join(conditions)}"
            f") SELECT * FROM matched WHERE rn > {start} AND rn <= {start} + ? ORDER BY rn",
            (*totals_args, *args, *(query.offset, query.limit, query.limit) * 2, query.limit),
        )
        if not rows:
            return [], 0, 0
        return rows, int(rows[0]["total"]), int(rows[0]["rn"]) - 1
