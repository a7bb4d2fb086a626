"""The words and the data of ``mendoza design``: the recommendation sentence, and the report as JSON (schema
``mendoza.design/1``) and as a self-contained HTML page with the frontier chart. Figures from ``report/design.py``."""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import Any

from mendoza.report.design import Design, DesignReport
from mendoza.report.wording import percent

__all__ = [
    "DESIGN_SCHEMA",
    "band_reach_words",
    "cost_words",
    "design_to_dict",
    "design_to_html",
    "designs_in_order",
    "frontier_svg",
    "interval_words",
    "recommendation_words",
    "versus_words",
]

DESIGN_SCHEMA = "mendoza.design/1"


def interval_words(design: Design) -> str:
    """``72.0% [61.3%, 81.0%]``."""
    rate = design.reliability
    return f"{percent(rate.estimate)} [{percent(rate.low)}, {percent(rate.high)}]"


def cost_words(value: float) -> str:
    """A cost per request: ``$0.0075``, ``$2.01``."""
    return f"${value:.4f}" if value < 1 else f"${value:.2f}"


def versus_words(design: Design) -> str:
    """The paired difference from the best single variant, in points of reliability: ``+25.0% [+5.0%, +45.0%]``
    (``-`` where there is none)."""
    estimate, low, high = design.versus_best
    if any(math.isnan(value) for value in (estimate, low, high)):
        return "-"
    return f"{estimate:+.1%} [{low:+.1%}, {high:+.1%}]"


def _order(design: Design) -> tuple[bool, float, float, str]:
    estimate = design.reliability.estimate
    return (not design.on_frontier, -estimate if not math.isnan(estimate) else math.inf, design.cost, design.name)


def designs_in_order(report: DesignReport) -> list[Design]:
    """The designs as pages list them: the frontier first, then by reliability (highest first), then cost."""
    return sorted(report.designs, key=_order)


def recommendation_words(report: DesignReport) -> str:
    """What to build for the target, or why no design in reach gets there (empty without a target)."""
    if report.target is None:
        return ""
    target = percent(report.target)
    chosen = report.recommended
    if chosen is not None and report.reach == "shown":
        words = (
            f"cheapest design shown to reach {target}: {chosen.name}: {interval_words(chosen)}, "
            f"{cost_words(chosen.cost)} a request, {percent(chosen.human_share)} to a person "
            f"(automation {percent(chosen.automation)})."
        )
        cheaper = min(
            (d for d in report.designs if d.reliability.estimate >= report.target and d.cost < chosen.cost),
            key=lambda d: (d.cost, d.human_share), default=None,
        )
        if cheaper is not None:
            words += (
                f" By its estimate, {cheaper.name} gets there too for {cost_words(cheaper.cost)} with "
                f"{percent(cheaper.human_share)} to a person ({interval_words(cheaper)}): more cases would tell."
            )
        return words
    if chosen is not None:
        return (
            f"no design is shown to reach {target} (no interval lies above it); the cheapest whose estimate does: "
            f"{chosen.name}: {interval_words(chosen)}, {cost_words(chosen.cost)} a request, "
            f"{percent(chosen.human_share)} to a person. More cases would tell (the interval narrows with cases, "
            "not repeats)."
        )
    best = max(report.designs, key=lambda design: design.reliability.estimate, default=None)
    where = f" (the best: {best.name}, {interval_words(best)})" if best is not None else ""
    return (
        f"no design in reach gets to {target}{where}: try a stronger variant, a run-time check that catches more "
        "failures (for cascades and human review), or more repeats (for votes)."
    )


def band_reach_words(report: DesignReport) -> list[str]:
    """One line per band above the lowest: the cheapest design that reaches it (shown, or by estimate only)."""
    lines = []
    for reach in report.bands():
        head = f"{reach.band} ({percent(reach.edge)}+):"
        if reach.shown is not None:
            design = reach.shown
            lines.append(f"{head} {design.name}, {interval_words(design)}, {cost_words(design.cost)}, "
                         f"{percent(design.human_share)} to a person")
        elif reach.estimated is not None:
            design = reach.estimated
            lines.append(f"{head} not shown; by its estimate {design.name}, {interval_words(design)}, "
                         f"{cost_words(design.cost)}, {percent(design.human_share)} to a person")
        else:
            lines.append(f"{head} no design in reach")
    return lines


def _number(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 6)


def _design_dict(design: Design) -> dict[str, Any]:
    estimate, low, high = design.versus_best
    return {
        "name": design.name,
        "kind": design.kind,
        "variants": list(design.variants),
        "reliability": {
            "estimate": _number(design.reliability.estimate),
            "low": _number(design.reliability.low),
            "high": _number(design.reliability.high),
        },
        "versus_best_single": {"estimate": _number(estimate), "low": _number(low), "high": _number(high)},
        "cost": _number(design.cost),
        "latency_ms": {"p50": _number(design.latency_p50_ms), "p95": _number(design.latency_p95_ms)},
        "human_share": _number(design.human_share),
        "automation": _number(design.automation),
        "band": design.band,
        "band_decided": design.band_decided,
        "on_frontier": design.on_frontier,
        "requests": design.requests,
        "cases": design.cases,
    }


def design_to_dict(report: DesignReport) -> dict[str, Any]:
    """The design report as data (schema ``mendoza.design/1``)."""
    return {
        "schema": DESIGN_SCHEMA,
        "run": {"id": report.run.id, "suite": report.run.suite_name},
        "checks": list(report.checks),
        "human": {"cost": report.human.cost, "seconds": report.human.seconds},
        "best_single": report.best_single,
        "target": report.target,
        "recommended": None if report.recommended is None else report.recommended.name,
        "recommendation": recommendation_words(report),
        "bands": [
            {
                "band": reach.band,
                "edge": reach.edge,
                "shown": None if reach.shown is None else reach.shown.name,
                "by_estimate": None if reach.estimated is None else reach.estimated.name,
            }
            for reach in report.bands()
        ],
        "notes": list(report.notes),
        "designs": [_design_dict(design) for design in report.designs],
    }


def frontier_svg(
    report: DesignReport,
    width: int = 640,
    height: int = 360,
    *,
    names: Callable[[str], str] | None = None,
) -> str:
    """An SVG scatter of reliability (y, with its interval) against cost per request (x, log scale when the
    costs span a wide range); frontier designs filled, the target as a dashed line. Every text is escaped;
    the SVG has no ``style`` attribute and no script (presentation attributes only), so a page under a strict
    Content-Security-Policy can embed it. ``names`` rewrites each design's name before it is escaped (the
    viewer shows bidi control characters as code points)."""
    designs = report.designs
    name_of = names or (lambda name: name)
    costs = [design.cost for design in designs if math.isfinite(design.cost)]
    low_cost, high_cost = min(costs, default=0.0), max(costs, default=1.0)
    logarithmic = low_cost > 0 and high_cost / low_cost > 50
    pad = 48

    def x(cost: float) -> float:
        if logarithmic:
            span = math.log(high_cost) - math.log(low_cost) or 1.0
            share = (math.log(max(cost, low_cost)) - math.log(low_cost)) / span
        else:
            share = (cost - low_cost) / ((high_cost - low_cost) or 1.0)
        return pad + share * (width - 2 * pad)

    def y(rate: float) -> float:
        return height - pad - rate * (height - 2 * pad)

    label = "reliability against cost of each design"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="frontier-chart" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{label}"><title>{label}</title>']
    parts.append(f'<line x1="{pad}" y1="{y(0)}" x2="{width - pad}" y2="{y(0)}" stroke="#888"/>')
    parts.append(f'<line x1="{pad}" y1="{y(0)}" x2="{pad}" y2="{y(1)}" stroke="#888"/>')
    for edge in report.edges:
        parts.append(f'<line x1="{pad}" y1="{y(edge):.1f}" x2="{width - pad}" y2="{y(edge):.1f}" '
                     'stroke="#ddd"/>')
        parts.append(f'<text x="4" y="{y(edge) + 4:.1f}" font-size="10">{html.escape(percent(edge))}</text>')
    if report.target is not None:
        parts.append(f'<line x1="{pad}" y1="{y(report.target):.1f}" x2="{width - pad}" y2="{y(report.target):.1f}" '
                     'stroke="#c00" stroke-dasharray="4 3"><title>'
                     f'{html.escape("target " + percent(report.target))}</title></line>')
    for design in designs:
        rate = design.reliability
        if not (math.isfinite(rate.estimate) and math.isfinite(design.cost)):
            continue
        cx = x(design.cost)
        parts.append(f'<line x1="{cx:.1f}" y1="{y(rate.low):.1f}" x2="{cx:.1f}" y2="{y(rate.high):.1f}" '
                     'stroke="#99b"/>')
        fill = "#225" if design.on_frontier else "white"
        title = html.escape(f"{name_of(design.name)}: {interval_words(design)}, {cost_words(design.cost)}, "
                            f"{percent(design.human_share)} to a person")
        parts.append(f'<circle cx="{cx:.1f}" cy="{y(rate.estimate):.1f}" r="4" fill="{fill}" stroke="#225">'
                     f"<title>{title}</title></circle>")
    if costs:
        ends = ((low_cost, "start"), (high_cost, "end")) if high_cost > low_cost else ((low_cost, "start"),)
        for cost, anchor in ends:
            parts.append(f'<text x="{x(cost):.1f}" y="{y(0) + 14:.1f}" font-size="10" text-anchor="{anchor}">'
                         f"{html.escape(cost_words(cost))}</text>")
    axis = "cost per request (log scale)" if logarithmic else "cost per request"
    parts.append(f'<text x="{width / 2:.0f}" y="{height - 10}" font-size="11" text-anchor="middle">'
                 f"{html.escape(axis)}</text>")
    parts.append("</svg>")
    return "".join(parts)


def design_to_html(report: DesignReport) -> str:
    """One self-contained page: the chart, the recommendation and the table of designs (escaped)."""
    rows = []
    for design in designs_in_order(report):
        cells = [
            design.name, design.kind, interval_words(design), cost_words(design.cost), percent(design.human_share),
            f"{design.latency_p50_ms:.0f}/{design.latency_p95_ms:.0f}", design.band,
            "yes" if design.on_frontier else "",
        ]
        rows.append("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>")
    head = "".join(f"<th>{name}</th>" for name in (
        "design", "kind", "reliability [interval]", "cost/request", "to a person", "p50/p95 ms", "band", "frontier"
    ))
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in report.notes)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>designs of run "
        f"{html.escape(report.run.id)}</title><style>body{{font-family:sans-serif;margin:2em}}"
        "td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left}</style></head><body>"
        f"<h1>Designs of {html.escape(report.run.suite_name)} (run {html.escape(report.run.id)})</h1>"
        f"<p>{html.escape(recommendation_words(report))}</p>"
        + "".join(f"<p>{html.escape(line)}</p>" for line in band_reach_words(report))
        + f"{frontier_svg(report)}"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<ul>{notes}</ul></body></html>"
    )
