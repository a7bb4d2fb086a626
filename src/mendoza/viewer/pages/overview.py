"""The run overview: per variant the pass rate with its interval against the bands (the Mendoza line
marked), automatic and human-adjusted, the recommendation in words, pass@k / pass^k curves, cost, tokens and
latency, and under each variant whose samples recorded steps, the report's per step section."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from mendoza.core import Run
from mendoza.report import BAND_ADVICE, BAND_NAMES
from mendoza.viewer.charts import BandChart, CurveChart, band_chart, curve_chart
from mendoza.viewer.render import page
from mendoza.viewer.state import ViewerState, viewer_state
from mendoza.viewer.summary import VariantSummary, summarise_run

__all__ = ["OverviewView", "build_overview", "overview_page", "run_summaries"]


@dataclass(frozen=True, slots=True)
class RunChoice:
    """A run offered for comparison."""

    id: str
    label: str
    variant_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OverviewView:
    """The overview page of one run."""

    run: Run
    description: str
    confidence: float
    errors: str
    band_edges: tuple[float, ...]
    bands: dict[str, str]
    variants: list[VariantSummary]
    labelled: int
    tags: list[str]
    other_runs: list[RunChoice]
    chart: BandChart = field(metadata={"json": False})
    curves: list[tuple[str, CurveChart | None]] = field(metadata={"json": False})


def run_summaries(state: ViewerState, run: Run) -> list[VariantSummary]:
    """The per variant summaries of a run (cached until its samples or grades change)."""
    return state.cached(("summary", *state.version(run)), lambda: summarise_run(state.store, run, state.suite(run)))


def build_overview(state: ViewerState, run: Run) -> OverviewView:
    """The overview of ``run``."""
    suite = state.suite(run)
    summaries = run_summaries(state, run)
    rows = []
    for summary in summaries:
        rows.append((summary.variant_id, summary.automatic))
        if summary.labelled:
            rows.append((f"{summary.variant_id} · human", summary.adjusted))
    others = [
        RunChoice(other.id, f"{other.id} · {other.suite_name}", other.variant_ids)
        for other in state.store.runs.latest(limit=50)
    ]
    return OverviewView(
        run=run,
        description=suite.description,
        confidence=suite.confidence,
        errors=suite.errors,
        band_edges=suite.band_edges,
        bands={name: BAND_ADVICE[name] for name in BAND_NAMES},
        variants=summaries,
        labelled=sum(summary.labelled for summary in summaries),
        tags=state.store.runs.tags(run.id),
        other_runs=others,
        chart=band_chart(rows, suite.band_edges),
        curves=[(summary.variant_id, curve_chart(summary.curve)) for summary in summaries],
    )


async def overview_page(request: Request) -> Response:
    """``GET /runs/{run}``: the overview of a run."""
    state = viewer_state(request)
    run = state.run(request.path_params["run"])
    return page(request, "overview.html", build_overview(state, run))
