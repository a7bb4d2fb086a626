"""The item analysis of a run (``mendoza cases analyze`` in the viewer): per case its pass rate over every
variant with its interval, its discrimination (in this run and across the suite's other runs), how flaky it is,
and whether it is suspect, reversed, saturated or flaky, worst first; the suggestions. Every figure and phrase
is ``mendoza.report.analyse_items``'s (as the CLI prints them); the JSON twin is ``items_to_dict``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

from mendoza.core import Run
from mendoza.report import (
    ItemAnalysis,
    Verdicts,
    analyse_items,
    discrimination_words,
    flakiness_words,
    items_to_dict,
    percent,
    rate_words,
    sibling_runs,
    suspect_words,
)
from mendoza.viewer.links import grid_url
from mendoza.viewer.params import choice
from mendoza.viewer.render import json_response, page, wants_json
from mendoza.viewer.state import ViewerState, viewer_state

__all__ = ["ItemRow", "ItemsView", "build_items_view", "items_page"]

View = Literal["adjusted", "auto"]
VIEWS: tuple[View, ...] = ("adjusted", "auto")
_VERDICTS: dict[View, Verdicts] = {"adjusted": "human-adjusted", "auto": "automatic"}


@dataclass(frozen=True, slots=True)
class ItemRow:
    """One case of the table, in the report's words."""

    case_id: str
    flags: tuple[str, ...]
    rate: float | None
    difficulty: str
    discrimination: str
    across_runs: str
    flaky: str
    outputs: str
    url: str


@dataclass(frozen=True, slots=True)
class ItemsView:
    """The items page of one run (its JSON twin is ``items_to_dict`` of the analysis, not this)."""

    run: Run
    view: View
    variants: list[tuple[str, str]]
    rows: list[ItemRow]
    across: bool
    counts: dict[str, int]
    suggestions: list[str]
    notes: list[str]


def _analysis(state: ViewerState, run: Run, verdicts: Verdicts) -> ItemAnalysis:
    """``analyse_items`` (cached until the run's samples or grades, or its sibling runs, change)."""
    others = tuple((other.id, other.done_samples) for other in sibling_runs(state.store, run))
    return state.cached(
        ("items", *state.version(run), verdicts, others),
        lambda: analyse_items(state.store, run.id, verdicts=verdicts),
    )


def build_items_view(state: ViewerState, run: Run, view: View) -> tuple[ItemsView, ItemAnalysis]:
    """The items page of ``run`` by the verdicts of ``view``, and the analysis it shows."""
    analysis = _analysis(state, run, _VERDICTS[view])
    rows = [
        ItemRow(
            case_id=item.case_id,
            flags=item.flags,
            rate=item.pass_rate,
            difficulty=rate_words(item.difficulty),
            discrimination=discrimination_words(item.discrimination),
            across_runs=discrimination_words(item.discrimination_across_runs),
            flaky=flakiness_words(item),
            outputs=suspect_words(item),
            url=grid_url(run.id, [("q", item.case_id)]),
        )
        for item in analysis.items
    ]
    counts = {flag: len(analysis.flagged(flag)) for flag in ("suspect", "reversed", "saturated", "flaky")}
    items_view = ItemsView(
        run=run,
        view=view,
        variants=[(ability.variant_id, percent(ability.rate)) for ability in analysis.variants],
        rows=rows,
        across=bool(analysis.other_runs),
        counts=counts,
        suggestions=analysis.suggestions,
        notes=analysis.notes,
    )
    return items_view, analysis


async def items_page(request: Request) -> Response:
    """``GET /runs/{run}/items?view=adjusted|auto``: the item analysis of a run, worst first."""
    state = viewer_state(request)
    run = state.run(request.path_params["run"])
    view = choice(request.query_params, "view", VIEWS, "adjusted")
    items_view, analysis = build_items_view(state, run, view)
    if wants_json(request):
        return json_response(items_to_dict(analysis))
    return page(request, "items.html", items_view)
