"""A suite's history (``mendoza history`` in the viewer): every run of the suite, oldest first, each variant's
pass rate with its interval over time (a chart), where the suite changed, the changes between consecutive runs
that the paired comparison calls real, and the cases that newly pass or newly fail consistently, each linked to
the grid. Every figure is ``mendoza.report.build_history``'s (so ``build_report``'s and ``compare``'s); the chart
is ``history_svg``; the JSON twin is ``history_to_dict``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from mendoza.core import Run
from mendoza.report import (
    CaseFlip,
    SuiteHistory,
    VariantStep,
    Verdicts,
    band_words,
    build_history,
    history_svg,
    history_to_dict,
    rate_words,
    step_words,
    suite_runs,
)
from mendoza.viewer.links import grid_url, history_url
from mendoza.viewer.params import choice, integer
from mendoza.viewer.render import json_response, page, reveal_bidi, wants_json
from mendoza.viewer.state import ViewerState, viewer_state

__all__ = ["FlipRow", "HistoryView", "PointCell", "RunEntry", "StepRow", "build_history_view", "history_page"]

View = Literal["adjusted", "auto"]
_VERDICTS: dict[View, Verdicts] = {"adjusted": "human-adjusted", "auto": "automatic"}
CHART_WIDTH = 900
CHART_HEIGHT = 320
LAST_RUNS = 50
"""How many of a suite's latest runs the page shows unless ``?last=N`` asks for more (each is a report)."""
MAX_RUNS = 2000


@dataclass(frozen=True, slots=True)
class FlipRow:
    """A case that newly passes or newly fails consistently, with the grid of the later run opened on it."""

    case_id: str
    words: str
    grid_url: str


@dataclass(frozen=True, slots=True)
class StepRow:
    """A variant from one run to the next: the comparison's sentence and figures, and the cases that flipped."""

    variant_id: str
    before: Run
    after: Run
    before_model: str
    after_model: str
    flagged: bool
    direction: str
    words: str
    difference: str
    compare_url: str
    newly_passing: list[FlipRow]
    newly_failing: list[FlipRow]


@dataclass(frozen=True, slots=True)
class PointCell:
    """One variant in one run: the report's rate in its words, and the change from its previous run."""

    variant_id: str
    model: str
    rate: float | None
    rate_words: str
    band: str
    change: str | None
    flagged: bool
    direction: str


@dataclass(frozen=True, slots=True)
class RunEntry:
    """One run of the suite (the table lists them newest first)."""

    run: Run
    suite_change: str | None
    cases_or_graders: bool
    cells: list[PointCell]


@dataclass(frozen=True, slots=True)
class HistoryView:
    """The history page of one suite (its JSON twin is ``history_to_dict``, not this)."""

    suite_name: str
    view: View
    verdicts: Verdicts
    total_runs: int
    last: int
    runs: list[RunEntry]
    flagged: list[StepRow]
    flips: list[StepRow]
    compared: int
    variant_ids: list[str]
    url: str
    chart: Markup = field(metadata={"json": False})


def _difference(step: VariantStep) -> str:
    paired = step.comparison.paired
    return f"{paired.difference:+.1%} [{paired.low:+.1%}, {paired.high:+.1%}] on {paired.n} cases"


def _compare_url(step: VariantStep, view: View) -> str:
    query = [("a", step.before.id), ("va", step.variant_id), ("b", step.after.id), ("vb", step.variant_id)]
    return "/compare?" + urlencode([*query, ("view", view)])


def _flip_rows(step: VariantStep, flips: list[CaseFlip]) -> list[FlipRow]:
    return [
        FlipRow(flip.case_id, flip.words, grid_url(step.after.id, [("variant", step.variant_id), ("q", flip.case_id)]))
        for flip in flips
    ]


def _step_row(step: VariantStep, view: View) -> StepRow:
    return StepRow(
        variant_id=step.variant_id,
        before=step.before,
        after=step.after,
        before_model=step.before_model,
        after_model=step.after_model,
        flagged=step.flagged,
        direction=step.direction,
        words=step_words(step),
        difference=_difference(step),
        compare_url=_compare_url(step, view),
        newly_passing=_flip_rows(step, step.newly_passing),
        newly_failing=_flip_rows(step, step.newly_failing),
    )


def _history(state: ViewerState, name: str, verdicts: Verdicts, runs: list[Run]) -> SuiteHistory:
    """``build_history`` (cached until a run of the suite gains samples, a run is added, or grades change)."""
    key = ("history", name, verdicts, tuple((run.id, run.done_samples) for run in runs), state.store.grades.version())
    return state.cached(key, lambda: build_history(state.store, name, verdicts=verdicts, runs=runs))


def build_history_view(
    state: ViewerState, name: str, view: View, last: int = LAST_RUNS
) -> tuple[HistoryView, SuiteHistory]:
    """The history page of the suite ``name``, its ``last`` runs (``RunNotFound`` when it has none)."""
    verdicts = _VERDICTS[view]
    runs = suite_runs(state.store, name)
    history = _history(state, name, verdicts, runs[-last:])
    entries = []
    for entry in reversed(history.runs):
        cells = []
        for point in entry.points:
            step = point.step
            cells.append(
                PointCell(
                    variant_id=point.variant_id,
                    model=point.model,
                    rate=point.result.pass_rate,
                    rate_words=rate_words(point.result.rate),
                    band=band_words(point.result.rate),
                    change=None if step is None else _difference(step),
                    flagged=step is not None and step.flagged,
                    direction="same" if step is None else step.direction,
                )
            )
        change = entry.suite_change
        entries.append(
            RunEntry(
                entry.run, None if change is None else change.words, change is not None and change.cases_or_graders,
                cells,
            )
        )
    steps = history.steps
    chart = Markup(history_svg(history, CHART_WIDTH, CHART_HEIGHT, names=reveal_bidi))  # escaped by history_svg
    return (
        HistoryView(
            suite_name=name,
            view=view,
            verdicts=verdicts,
            total_runs=len(runs),
            last=last,
            runs=entries,
            flagged=[_step_row(step, view) for step in history.flagged],
            flips=[_step_row(step, view) for step in steps if step.newly_passing or step.newly_failing],
            compared=len(steps),
            variant_ids=history.variant_ids,
            url=history_url(name),
            chart=chart,
        ),
        history,
    )


async def history_page(request: Request) -> Response:
    """``GET /suites/{name}/history?last=50&view=auto``: the latest runs of a suite, its variants' pass rates over
    time, the real changes, the cases that newly pass or fail."""
    state = viewer_state(request)
    name = request.path_params["name"]
    params = request.query_params
    chosen: View = choice(params, "view", ("adjusted", "auto"), "adjusted")
    last = integer(params, "last", LAST_RUNS, low=1, high=MAX_RUNS)
    view, history = build_history_view(state, name, chosen, last)
    if wants_json(request):
        return json_response(history_to_dict(history))
    return page(request, "history.html", view)
