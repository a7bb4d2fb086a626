"""The runs list: every run with its suite, time, status, variants, and each variant's headline pass rate
(human-adjusted) and band."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from mendoza.core import Run
from mendoza.viewer.pages.overview import run_summaries
from mendoza.viewer.params import Pagination, paginate
from mendoza.viewer.render import page
from mendoza.viewer.state import ViewerState, viewer_state

__all__ = ["RunRow", "RunsView", "VariantHeadline", "build_runs", "runs_page"]


@dataclass(frozen=True, slots=True)
class VariantHeadline:
    """A variant's human-adjusted pass rate, its interval and where it falls among the bands."""

    variant_id: str
    rate: float | None
    low: float | None
    high: float | None
    band: str
    decided: bool
    labelled: int


@dataclass(frozen=True, slots=True)
class RunRow:
    """One run of the list."""

    run: Run
    variants: list[VariantHeadline]


@dataclass(frozen=True, slots=True)
class RunsView:
    """The runs page: runs newest first, one page of them."""

    runs: list[RunRow]
    pagination: Pagination


def build_runs(state: ViewerState, page_number: int, per_page: int) -> RunsView:
    """The runs list at ``page_number``."""
    pagination = Pagination.of(page_number, per_page, state.store.runs.count())
    rows = []
    for run in state.store.runs.latest(limit=pagination.per_page, offset=pagination.offset):
        headlines = []
        for summary in run_summaries(state, run):
            rate = summary.adjusted
            band = rate.band or (" – ".join(rate.between) if rate.between else "not graded")
            headlines.append(
                VariantHeadline(
                    summary.variant_id, rate.rate, rate.low, rate.high, band, rate.decided, summary.labelled
                )
            )
        rows.append(RunRow(run, headlines))
    return RunsView(rows, pagination)


async def runs_page(request: Request) -> Response:
    """``GET /`` and ``/runs``: the runs list."""
    page_number, per_page = paginate(request.query_params)
    return page(request, "runs.html", build_runs(viewer_state(request), page_number, per_page))
