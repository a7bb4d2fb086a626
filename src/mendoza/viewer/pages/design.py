"""The designs of a run (``mendoza design`` in the viewer): every policy the run's stored samples support (each
variant alone, fallbacks, cascades to a variant or a person on a run-time check, votes, best of k, audits), with
its reliability and interval, the paired difference from the best single variant, cost, latency and human share;
the frontier chart; the cheapest design for a target. Every figure is ``mendoza.report.build_design``'s and
every sentence ``mendoza.report``'s (as ``mendoza design`` prints them); the JSON twin is ``design_to_dict``."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from mendoza.core import Run
from mendoza.errors import ConfigError
from mendoza.report import (
    Design,
    DesignReport,
    build_design,
    cost_words,
    design_to_dict,
    designs_in_order,
    frontier_svg,
    interval_words,
    percent,
    recommendation_words,
    versus_words,
)
from mendoza.viewer.links import design_url
from mendoza.viewer.params import BadParameter, names, share
from mendoza.viewer.render import error_response, json_response, page, reveal_bidi, wants_json
from mendoza.viewer.state import ViewerState, viewer_state

__all__ = ["CheckChoice", "DesignRow", "DesignView", "build_design_view", "design_page"]

CHART_WIDTH = 760
CHART_HEIGHT = 380
CHECK_CHARS = 1000
"""The longest grader name the ``check`` parameter takes."""


@dataclass(frozen=True, slots=True)
class DesignRow:
    """One design of the table: the report's ``Design`` and its figures in the report's words."""

    design: Design
    reliability: str
    versus_best: str
    cost: str
    human_share: str
    recommended: bool


@dataclass(frozen=True, slots=True)
class CheckChoice:
    """A grader of the run offered as a run-time check: ``always`` when the suite marks it ``runtime: true``
    (the report uses it anyway), ``chosen`` when the page was asked for it."""

    name: str
    always: bool
    chosen: bool


@dataclass(frozen=True, slots=True)
class DesignView:
    """The design page of one run (its JSON twin is ``design_to_dict`` of ``report``, not this)."""

    run: Run
    report: DesignReport | None
    rows: list[DesignRow]
    recommendation: str
    chart: Markup
    target: float | None
    asked: tuple[str, ...]
    offered: list[CheckChoice]
    frontier: int
    human_cost: str
    url: str


def _report(state: ViewerState, run: Run, checks: tuple[str, ...], target: float | None) -> DesignReport:
    """``build_design`` for these checks and target (cached until the run's samples or grades change); a check
    it refuses (a reference-based grader) is a ``BadParameter`` with the report's one line."""
    try:
        return state.cached(
            ("design", *state.version(run), checks, target),
            lambda: build_design(state.store, run.id, checks=checks, target=target),
        )
    except ConfigError as exc:
        raise BadParameter(" ".join(str(exc).split())) from None


def build_design_view(state: ViewerState, run: Run, checks: tuple[str, ...], target: float | None) -> DesignView:
    """The designs of ``run`` with the run-time ``checks`` asked for, and the recommendation for ``target``."""
    specs = state.store.grades.grader_set(run.id)
    known = {spec.name for spec in specs}
    for name in checks:
        if name not in known:
            listed = ", ".join(sorted(known)) or "none"
            raise BadParameter(f"'check': run {run.id} has no grader {name[:60]!r} (its graders: {listed[:300]})")
    offered = [CheckChoice(spec.name, spec.runtime, spec.name in checks) for spec in specs]
    url = design_url(run.id, target=target, checks=checks)
    if run.done_samples == 0:
        return DesignView(run, None, [], "", Markup(""), target, checks, offered, 0, "", url)
    report = _report(state, run, checks, target)
    recommended = report.recommended.name if report.recommended is not None else None
    rows = [
        DesignRow(
            design,
            interval_words(design),
            versus_words(design),
            cost_words(design.cost),
            percent(design.human_share),
            design.name == recommended,
        )
        for design in designs_in_order(report)
    ]
    chart = Markup(frontier_svg(report, CHART_WIDTH, CHART_HEIGHT, names=reveal_bidi))  # escaped by frontier_svg
    return DesignView(
        run=run,
        report=report,
        rows=rows,
        recommendation=recommendation_words(report),
        chart=chart,
        target=target,
        asked=checks,
        offered=offered,
        frontier=sum(design.on_frontier for design in report.designs),
        human_cost=cost_words(report.human.cost),
        url=url,
    )


async def design_page(request: Request) -> Response:
    """``GET /runs/{run}/design?target=0.9&check=NAME``: the designs of a run, the frontier, the recommendation."""
    state = viewer_state(request)
    run = state.run(request.path_params["run"])
    params = request.query_params
    target = share(params, "target")
    checks = names(params, "check", limit=CHECK_CHARS)
    view = build_design_view(state, run, checks, target)
    if wants_json(request):
        if view.report is None:
            return error_response(request, 409, f"run {run.id} has no samples yet: no design to measure")
        return json_response(design_to_dict(view.report))
    return page(request, "design.html", view)
