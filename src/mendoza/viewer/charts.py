"""Geometry of the viewer's inline SVG charts, computed here so the templates only draw: a pass rate's
interval against the reliability bands (the Mendoza line marked), and pass@k / pass^k curves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mendoza.report import BAND_NAMES, DEFAULT_BAND_EDGES
from mendoza.viewer.summary import PassCurvePoint, RateSummary

__all__ = ["BandChart", "CurveChart", "band_chart", "curve_chart"]

_WIDTH = 900
_LEFT = 190
_RIGHT = 20
_ROW = 26
_TOP = 44


@dataclass(frozen=True, slots=True)
class BandRect:
    """One band drawn as the background of the chart."""

    name: str
    css: str
    x: float
    width: float


@dataclass(frozen=True, slots=True)
class IntervalRow:
    """One interval: its label, the ends and the estimate in pixels, and the words for its tooltip."""

    label: str
    y: float
    x_low: float
    x_high: float
    x_rate: float
    title: str


@dataclass(frozen=True, slots=True)
class Tick:
    """An axis tick: where, and its label."""

    x: float
    label: str


@dataclass(frozen=True, slots=True)
class BandChart:
    """Pass rates with their intervals over the four bands, the Mendoza line at ``mendoza_x``."""

    width: int
    height: int
    label_x: float
    plot_top: float
    plot_bottom: float
    bands: list[BandRect]
    rows: list[IntervalRow]
    ticks: list[Tick]
    mendoza_x: float


def _x(rate: float) -> float:
    return round(_LEFT + rate * (_WIDTH - _LEFT - _RIGHT), 1)


def band_chart(rows: Sequence[tuple[str, RateSummary]], edges: Sequence[float] = DEFAULT_BAND_EDGES) -> BandChart:
    """The band chart of labelled pass rates against the band ``edges`` (rates with nothing graded are left
    out)."""
    drawn = []
    for index, (label, summary) in enumerate([(label, summary) for label, summary in rows if summary.rate is not None]):
        assert summary.rate is not None and summary.low is not None and summary.high is not None
        where = summary.band or " – ".join(summary.between or ())
        drawn.append(
            IntervalRow(
                label=label,
                y=_TOP + index * _ROW + _ROW / 2,
                x_low=_x(summary.low),
                x_high=_x(summary.high),
                x_rate=_x(summary.rate),
                title=(
                    f"{label}: {summary.rate:.1%} ({summary.confidence:.0%} interval {summary.low:.1%} – "
                    f"{summary.high:.1%}), "
                    f"{summary.passed}/{summary.graded} samples; {where}"
                ),
            )
        )
    bounds = (0.0, *edges, 1.0)
    bands = [
        BandRect(name, f"band-{index}", _x(bounds[index]), _x(bounds[index + 1]) - _x(bounds[index]))
        for index, name in enumerate(BAND_NAMES)
    ]
    bottom = _TOP + max(1, len(drawn)) * _ROW
    ticks = [Tick(_x(value), f"{value:.2f}".rstrip("0").rstrip(".")) for value in (0, 0.2, 0.4, 0.6, 0.8, 0.9, 1)]
    return BandChart(
        width=_WIDTH,
        height=int(bottom + 24),
        label_x=_LEFT - 8,
        plot_top=_TOP,
        plot_bottom=bottom,
        bands=bands,
        rows=drawn,
        ticks=ticks,
        mendoza_x=_x(edges[0]),
    )


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """A point of a curve in pixels, with its value for the tooltip."""

    x: float
    y: float
    title: str


@dataclass(frozen=True, slots=True)
class CurveChart:
    """pass@k (rising) and pass^k (falling) against k, as SVG polylines and points."""

    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    at_k: list[CurvePoint]
    hat_k: list[CurvePoint]
    at_k_line: str
    hat_k_line: str
    x_ticks: list[Tick]
    y_ticks: list[tuple[float, str]]


def curve_chart(points: Sequence[PassCurvePoint], width: int = 300, height: int = 180) -> CurveChart | None:
    """The chart of a variant's pass@k / pass^k curve, or None with fewer than two values of k."""
    if len(points) < 2:
        return None
    left, right, top, bottom = 36.0, width - 12.0, 12.0, height - 26.0
    last_k = points[-1].k

    def x(k: int) -> float:
        return round(left + (k - 1) / (last_k - 1) * (right - left), 1)

    def y(value: float) -> float:
        return round(bottom - value * (bottom - top), 1)

    at_k = [CurvePoint(x(p.k), y(p.pass_at_k), f"pass@{p.k} = {p.pass_at_k:.3f}") for p in points]
    hat_k = [CurvePoint(x(p.k), y(p.pass_hat_k), f"pass^{p.k} = {p.pass_hat_k:.3f}") for p in points]
    step = max(1, (last_k + 7) // 8)
    ks = sorted({*range(1, last_k + 1, step), last_k})
    return CurveChart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        at_k=at_k,
        hat_k=hat_k,
        at_k_line=" ".join(f"{p.x},{p.y}" for p in at_k),
        hat_k_line=" ".join(f"{p.x},{p.y}" for p in hat_k),
        x_ticks=[Tick(x(k), str(k)) for k in ks],
        y_ticks=[(y(value), f"{value:.1f}") for value in (0.0, 0.5, 1.0)],
    )
