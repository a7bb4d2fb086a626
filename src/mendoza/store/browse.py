"""Reading a run to look at it: one sample with its grades, a case's repeats, the samples worth a person's
look, and a page of the cases x variants grid, filtered, sorted and searched in SQL so it stays fast on large
runs (its cells counted by ``outcomes.cell_verdicts``).

``Browse`` is the ``browse`` part of ``Store``; the records it returns are in ``records``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mendoza.store.connection import Connection, Row, StorePart
from mendoza.store.outcomes import ADJUSTED_VERDICT_SQL, CellVerdicts, Outcomes, marks
from mendoza.store.records import CaseRecord, GradeRecord, SampleRecord
from mendoza.store.rows import case_from_row, grade_record_from_row, sample_record_from_row

__all__ = ["GRID_SORTS", "Browse", "GridPage", "GridQuery", "GridSort"]

GridSort = Literal["case", "pass_rate", "flaky", "disagreement"]
GRID_SORTS: tuple[GridSort, ...] = ("case", "pass_rate", "flaky", "disagreement")
"""How the grid's cases can be ordered: suite order, lowest pass rate, most flaky, most grader disagreement."""


@dataclass(frozen=True, slots=True)
class GridQuery:
    """Which cases of a run the grid shows, in what order, and which page of them.

    Filters keep a case when any of its samples in ``variant_ids`` matches: ``failing`` (a sample that does
    not pass), ``flaky`` (a cell with both passes and failures), ``disagree`` (automatic graders disagree),
    ``overruled`` (a human verdict differs from the automatic one), ``tag``, ``text`` (found in a rendered
    prompt, an output, the case id or its vars), and ``failed_step`` (a sample whose first failing step has
    exactly this name, ``samples.failed_step``). ``human`` uses the human-adjusted verdicts (else automatic);
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
    failed_step: str | None = None
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
        return (
            self.failing
            or self.flaky
            or self.disagree
            or self.overruled
            or bool(self.tag or self.text)
            or self.failed_step is not None
        )


@dataclass(frozen=True, slots=True)
class GridPage:
    """One page of the grid: its cases (in order), how many cases match in all, their cells, and the offset
    of the first case shown. With a ``failed_step`` filter, ``step_samples`` names, per (case, variant) cell,
    its first sample (by repeat) that failed at that step."""

    cases: list[CaseRecord]
    total: int
    cells: list[CellVerdicts]
    offset: int
    step_samples: dict[tuple[str, str], int] = field(default_factory=dict)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


_ADJUSTED = ADJUSTED_VERDICT_SQL

# Per case totals over the chosen variants, from which the grid filters and sorts (one pass over the run).
_CASE_TOTALS = """
    cells AS (
        SELECT case_id, {passed} AS p, {failed} + {errored} AS f, COUNT(*) AS n,
               SUM(graders_disagree) AS d, {overruled} AS o,
               {hits} AS hits, {stepped} AS stepped
        FROM samples WHERE run_id = ? AND variant_id IN ({variants})
        GROUP BY case_id, variant_id
    ),
    totals AS (
        SELECT case_id, SUM(p) AS p, SUM(f) AS f, SUM(n) AS n, SUM(d) AS d, SUM(o) AS o, SUM(hits) AS hits,
               SUM(stepped) AS stepped, MAX({smaller} * 1.0 / NULLIF(p + f, 0)) AS flaky
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


class Browse(StorePart):
    """The store's queries for looking at a run: the ``browse`` part of ``Store`` (``store.browse.grid_page``)."""

    def __init__(self, connection: Connection, outcomes: Outcomes) -> None:
        super().__init__(connection)
        self._outcomes = outcomes

    def sample(self, sample_id: int) -> SampleRecord | None:
        """The sample with this id, or None."""
        rows = self._rows("SELECT * FROM samples WHERE id = ?", (sample_id,))
        return sample_record_from_row(rows[0]) if rows else None

    def case_samples(self, run_id: str, case_id: str, variant_ids: Sequence[str]) -> list[SampleRecord]:
        """Every sample of one case of a run in the given variants, by variant (in the order given), repeat."""
        if not variant_ids:
            return []
        rows = self._rows(
            f"SELECT * FROM samples WHERE run_id = ? AND variant_id IN ({marks(variant_ids)}) "
            "AND case_id = ? ORDER BY repeat",
            (run_id, *variant_ids, case_id),
        )
        order = {variant_id: index for index, variant_id in enumerate(variant_ids)}
        records = [sample_record_from_row(row) for row in rows]
        return sorted(records, key=lambda record: (order[record.variant_id], record.repeat))

    def grade_records(self, sample_ids: Sequence[int]) -> dict[int, list[GradeRecord]]:
        """The grades of these samples, automatic and human, oldest first, by sample id."""
        found: dict[int, list[GradeRecord]] = {}
        if not sample_ids:
            return found
        rows = self._rows(
            f"SELECT * FROM grades WHERE sample_id IN ({marks(sample_ids)}) ORDER BY id", list(sample_ids)
        )
        for row in rows:
            found.setdefault(row["sample_id"], []).append(grade_record_from_row(row))
        return found

    def review_candidates(self, run_id: str, variant_ids: Sequence[str]) -> list[tuple[int, int]]:
        """``(sample_id, tier)`` for the samples of a run worth a person's look, in order: tier 0 automatic
        graders disagree, 1 failed in a flaky cell, 2 failed, 3 passed in a flaky cell (automatic verdicts;
        errored samples left out); within a tier by suite order, variant, repeat."""
        if not variant_ids:
            return []
        places = marks(variant_ids)
        count, is_, is_not = self._sql.count, self._sql.is_, self._sql.is_not
        rows = self._rows(
            "WITH cells AS ("
            f"  SELECT variant_id, case_id, {count(is_('passed', 1))} > 0 AND {count(is_not('passed', 1))} > 0 AS flaky"
            f" FROM samples WHERE run_id = ? AND variant_id IN ({places}) AND error IS NULL "
            "  GROUP BY variant_id, case_id"
            "), ranked AS ("
            "  SELECT s.id, s.variant_id, s.repeat, s.case_id, CASE"
            "    WHEN s.graders_disagree <> 0 THEN 0"
            f"    WHEN {is_not('s.passed', 1)} AND c.flaky THEN 1"
            f"    WHEN {is_not('s.passed', 1)} THEN 2"
            "    WHEN c.flaky THEN 3 END AS tier"
            "  FROM samples AS s JOIN cells AS c ON c.variant_id = s.variant_id AND c.case_id = s.case_id"
            f"  WHERE s.run_id = ? AND s.variant_id IN ({places}) AND s.error IS NULL"
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
        cases = [case_from_row(row) for row in rows]
        cells = self._outcomes.cell_verdicts(
            run_id,
            variant_ids=query.variant_ids,
            case_ids=[case.case_id for case in cases],
            human=query.human,
        )
        step_samples = (
            self._step_samples(run_id, query.failed_step, query.variant_ids, [case.case_id for case in cases])
            if query.failed_step is not None
            else {}
        )
        return GridPage(cases=cases, total=total, cells=cells, offset=offset, step_samples=step_samples)

    def _step_samples(
        self, run_id: str, step: str, variant_ids: Sequence[str], case_ids: Sequence[str]
    ) -> dict[tuple[str, str], int]:
        """Per (case, variant): the first sample (by repeat) of these cases that failed at ``step``."""
        if not variant_ids or not case_ids:
            return {}
        rows = self._rows(
            f"SELECT case_id, variant_id, id FROM samples WHERE run_id = ? AND variant_id IN ({marks(variant_ids)}) "
            f"AND case_id IN ({marks(case_ids)}) AND failed_step = ? ORDER BY repeat DESC, id DESC",
            (run_id, *variant_ids, *case_ids, step),
        )
        return {(row[0], row[1]): int(row[2]) for row in rows}  # the last written wins: the lowest repeat

    def _filtered_cases(self, run_id: str, query: GridQuery) -> tuple[list[Row], int, int]:
        """The page of cases that match (one pass over the run's samples), the number that match, and the
        offset served."""
        if not query.variant_ids:
            return [], 0, 0
        variants = list(query.variant_ids)
        count, is_, is_not = self._sql.count, self._sql.is_, self._sql.is_not
        totals_args: list[Any] = []
        hits = "0"
        if query.text:
            like = self._sql.like
            hits = count(f"prompt {like} ? ESCAPE '\\' OR output {like} ? ESCAPE '\\'")
            totals_args.extend([_like(query.text)] * 2)
        stepped = "0"
        if query.failed_step is not None:
            stepped = count(is_("failed_step", "?"))
            totals_args.append(query.failed_step)
        totals_args.extend([run_id, *variants])
        errored = "0"
        if query.errors_fail:  # the errored samples the verdicts asked for leave without a verdict
            errored = count("error IS NOT NULL AND human_passed IS NULL" if query.human else "error IS NOT NULL")
        verdict = f"({_ADJUSTED})" if query.human else "(passed)"
        with_sql = _CASE_TOTALS.format(
            passed=count(is_(verdict, 1)),
            failed=count(is_(verdict, 0)),
            overruled=count("human_passed IS NOT NULL AND " + is_not("human_passed", "passed")),
            smaller=self._sql.least("p", "f"),
            hits=hits,
            stepped=stepped,
            variants=marks(variants),
            errored=errored,
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
        if query.failed_step is not None:
            conditions.append("t.stepped > 0")
        if query.tag:
            conditions.append(f"EXISTS (SELECT 1 FROM {self._sql.json_items('rc.tags', 'tag')} WHERE tag.value = ?)")
            args.append(query.tag)
        if query.text:
            like = self._sql.like
            conditions.append(f"(t.hits > 0 OR rc.case_id {like} ? ESCAPE '\\' OR rc.vars {like} ? ESCAPE '\\')")
            args.extend([_like(query.text)] * 2)
        natural, reversed_ = _SORT_KEYS[query.sort]
        order = reversed_ if query.reverse else natural
        # The page asked for, or the last page when the offset lies past the end: one query, one pass.
        start = self._sql.least("?", self._sql.greatest(0, "(total - 1) / ? * ?"))
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
