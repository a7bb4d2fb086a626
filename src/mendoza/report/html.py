"""The report as one self-contained HTML file (inline CSS and SVG charts, no scripts, nothing fetched)."""

from __future__ import annotations

import math

import jinja2

from mendoza.report.summary import RunReport, VariantResult
from mendoza.report.wording import (
    band_words,
    failed_at_words,
    rate_words,
    step_chain_words,
    step_ran_words,
    step_rate_words,
    variant_notes,
)
from mendoza.stats import BAND_NAMES

__all__ = ["report_to_html"]

_WIDTH = 640


def _x(rate: float) -> float:
    return 20 + rate * (_WIDTH - 40)


def _band_chart(report: RunReport) -> dict[str, object]:
    edges = [0.0, *report.band_edges, 1.0]
    colours = ["#f6d5d5", "#fbe9c6", "#dcecc9", "#c6e2f5"]
    bands = [
        {
            "x": _x(edges[i]),
            "width": _x(edges[i + 1]) - _x(edges[i]),
            "colour": colours[i],
            "name": BAND_NAMES[i],
        }
        for i in range(4)
    ]
    rows = []
    for index, variant in enumerate(report.variants):
        interval = variant.interval
        if math.isnan(interval.estimate):
            continue
        rows.append(
            {
                "y": 40 + index * 34,
                "label": variant.variant_id,
                "low": _x(interval.low),
                "high": _x(interval.high),
                "mid": _x(interval.estimate),
                "text": f"{interval.estimate:.1%} [{interval.low:.1%}, {interval.high:.1%}]",
            }
        )
    ticks = [{"x": _x(edge), "label": f"{edge:.0%}"} for edge in report.band_edges]
    return {
        "bands": bands,
        "rows": rows,
        "ticks": ticks,
        "height": 60 + 34 * len(report.variants),
        "line": _x(report.band_edges[0]),
    }


def _curve(values: list[float], height: int = 160) -> str:
    points = [(i, v) for i, v in enumerate(values) if not math.isnan(v)]
    if not points:
        return ""
    step = (_WIDTH - 80) / max(1, len(values) - 1)
    return " ".join(f"{40 + i * step:.1f},{20 + (1 - v) * (height - 40):.1f}" for i, v in points)


def _curves(variant: VariantResult) -> dict[str, str]:
    return {"at": _curve(variant.pass_at_k), "hat": _curve(variant.pass_hat_k)}


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("mendoza.report", "templates"), autoescape=True, undefined=jinja2.StrictUndefined
)


def _pct(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.1%}"


def report_to_html(report: RunReport) -> str:
    """The report as one HTML page with its charts inline; all text from the run is escaped."""
    return _ENV.get_template("report.html").render(
        run=report.run,
        report=report,
        chart=_band_chart(report),
        width=_WIDTH,
        curves=_curves,
        cells={(case.variant_id, case.case_id): case for case in report.cases},
        pct=_pct,
        band_words=band_words,
        rate_words=rate_words,
        notes=lambda variant: variant_notes(report, variant),
        money=lambda value: "-" if value is None else f"${value:.4f}",
        ms=lambda value: "-" if value is None else f"{value:.0f} ms",
        step_rate=step_rate_words,
        step_ran=step_ran_words,
        failed_at=failed_at_words,
        chain=step_chain_words,
    )
