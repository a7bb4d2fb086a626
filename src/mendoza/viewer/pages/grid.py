"""The grid: a run's cases x variants, each cell k/n coloured by pass rate, sorted and filtered (failing,
flaky, grader disagreement, overruled by a human, tag, free text over inputs and outputs, the step a sample
first failed at), paged on the server."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from mendoza.core import ErrorPolicy, Run
from mendoza.store import GRID_SORTS, CaseRecord, CellVerdicts, GridQuery, GridSort
from mendoza.viewer.params import STEP_NAME_CHARS, BadParameter, Pagination, choice, exact, flag, paginate, text
from mendoza.viewer.render import page
from mendoza.viewer.state import ViewerState, viewer_state

__all__ = ["GridCell", "GridFilters", "GridRow", "GridView", "build_grid", "grid_page", "read_filters"]

View = Literal["adjusted", "auto"]
VIEWS: tuple[View, ...] = ("adjusted", "auto")
PREVIEW_CHARS = 160


@dataclass(frozen=True, slots=True)
class GridFilters:
    """What the grid shows: variants, which verdicts (``adjusted`` by humans, or ``auto``), filters, order."""

    variants: tuple[str, ...]
    view: View
    failing: bool
    flaky: bool
    disagree: bool
    overruled: bool
    tag: str | None
    q: str | None
    sort: GridSort
    failed_step: str | None
    reverse: bool

    def query(self) -> str:
        """The query string of these filters (defaults left out), for links that keep them."""
        pairs: list[tuple[str, str]] = [("variant", variant) for variant in self.variants]
        if self.view != "adjusted":
            pairs.append(("view", self.view))
        for name in ("failing", "flaky", "disagree", "overruled", "reverse"):
            if getattr(self, name):
                pairs.append((name, "1"))
        for name in ("tag", "q", "failed_step"):
            value = getattr(self, name)
            if value:
                pairs.append((name, value))
        if self.sort != "case":
            pairs.append(("sort", self.sort))
        return urlencode(pairs)


@dataclass(frozen=True, slots=True)
class GridCell:
    """One (case, variant) cell: ``passed``/``graded`` in the chosen view, the automatic counts beside them,
    and the sample a click opens (with the ``failed_step`` filter, the first that failed at that step; else the
    first that does not pass, else the first)."""

    variant_id: str
    samples: int
    passed: int
    graded: int
    rate: float | None
    auto_passed: int
    auto_graded: int
    errors: int
    labelled: int
    overruled: int
    disagree: int
    flaky: bool
    sample_id: int


@dataclass(frozen=True, slots=True)
class GridRow:
    """One case: its record, a short preview of its inputs, and one cell per variant (None: no samples)."""

    case: CaseRecord
    inputs: str
    cells: list[GridCell | None]


@dataclass(frozen=True, slots=True)
class GridView:
    """The grid page."""

    run: Run
    all_variants: tuple[str, ...]
    filters: GridFilters
    rows: list[GridRow]
    pagination: Pagination
    tags: list[str]
    step_names: list[str]
    sorts: tuple[str, ...]
    query: str


def read_filters(request: Request, run: Run) -> GridFilters:
    """The grid's filters from the query string (unknown variants are a ``BadParameter``)."""
    params = request.query_params
    variants = tuple(params.getlist("variant")) or run.variant_ids
    unknown = [variant for variant in variants if variant not in run.variant_ids]
    if unknown:
        raise BadParameter(f"run {run.id} has no variant {unknown[0][:60]!r} (it has {', '.join(run.variant_ids)})")
    return GridFilters(
        variants=tuple(variant for variant in run.variant_ids if variant in variants),
        view=choice(params, "view", VIEWS, "adjusted"),
        failing=flag(params, "failing"),
        flaky=flag(params, "flaky"),
        disagree=flag(params, "disagree"),
        overruled=flag(params, "overruled"),
        tag=text(params, "tag"),
        q=text(params, "q"),
        sort=choice(params, "sort", GRID_SORTS, "case"),
        failed_step=exact(params, "failed_step", limit=STEP_NAME_CHARS),
        reverse=flag(params, "reverse"),
    )


def _preview(case: CaseRecord) -> str:
    parts = []
    for key, value in case.vars.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        parts.append(f"{key}: {shown}")
    joined = " · ".join(parts)
    return joined if len(joined) <= PREVIEW_CHARS else joined[: PREVIEW_CHARS - 1] + "…"


def _cell(cell: CellVerdicts, adjusted: bool, errors: ErrorPolicy, step_sample: int | None = None) -> GridCell:
    """A cell's k/n as the report counts it (the suite's error rule), in the view asked for; a click opens
    ``step_sample`` when given."""
    passed, failed = cell.outcomes(adjusted).headline(errors)
    graded = passed + failed
    return GridCell(
        variant_id=cell.variant_id,
        samples=cell.samples,
        passed=passed,
        graded=graded,
        rate=passed / graded if graded else None,
        auto_passed=cell.passed,
        auto_graded=sum(cell.outcomes(False).headline(errors)),
        errors=cell.errors,
        labelled=cell.labelled,
        overruled=cell.overruled,
        disagree=cell.disagree,
        flaky=passed > 0 and failed > 0,
        sample_id=(
            step_sample
            if step_sample is not None
            else cell.first_failing_id
            if cell.first_failing_id is not None
            else cell.first_sample_id
        ),
    )


def build_grid(state: ViewerState, run: Run, filters: GridFilters, page_number: int, per_page: int) -> GridView:
    """One page of the grid of ``run``."""
    adjusted = filters.view == "adjusted"
    errors = state.suite(run).errors
    query = GridQuery(
        variant_ids=filters.variants,
        human=adjusted,
        errors_fail=errors == "fail",
        failing=filters.failing,
        flaky=filters.flaky,
        disagree=filters.disagree,
        overruled=filters.overruled,
        tag=filters.tag,
        text=filters.q,
        failed_step=filters.failed_step,
        sort=filters.sort,
        reverse=filters.reverse,
        limit=per_page,
        offset=(page_number - 1) * per_page,
    )
    found = state.store.browse.grid_page(run.id, query)
    pagination = Pagination.of(found.offset // per_page + 1, per_page, found.total)
    cells, cases = found.cells, found.cases
    by_cell = {
        (cell.case_id, cell.variant_id): _cell(
            cell, adjusted, errors, found.step_samples.get((cell.case_id, cell.variant_id))
        )
        for cell in cells
    }
    rows = [
        GridRow(case, _preview(case), [by_cell.get((case.case_id, variant)) for variant in filters.variants])
        for case in cases
    ]
    return GridView(
        run=run,
        all_variants=run.variant_ids,
        filters=filters,
        rows=rows,
        pagination=pagination,
        tags=state.store.runs.tags(run.id),
        step_names=state.store.steps.failed_step_names(run.id, max_chars=STEP_NAME_CHARS),
        sorts=GRID_SORTS,
        query=filters.query(),
    )


async def grid_page(request: Request) -> Response:
    """``GET /runs/{run}/grid``: the cases x variants grid."""
    state = viewer_state(request)
    run = state.run(request.path_params["run"])
    page_number, per_page = paginate(request.query_params)
    view = build_grid(state, run, read_filters(request, run), page_number, per_page)
    return page(request, "grid.html", view)
