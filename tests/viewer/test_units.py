"""The viewer's small parts: JSON of view models, the colour scale, pagination, redirects after a post,
loopback addresses, the address printed, and the band chart's geometry."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest

from mendoza.core import OutcomeCounts
from mendoza.report import rate_of
from mendoza.viewer.charts import band_chart, curve_chart
from mendoza.viewer.pages.labels import safe_next
from mendoza.viewer.params import Pagination
from mendoza.viewer.render import jsonable, rate_class
from mendoza.viewer.security import is_loopback
from mendoza.viewer.server import viewer_url
from mendoza.viewer.summary import PassCurvePoint, RateSummary, rate_summary


@dataclass(frozen=True)
class Model:
    name: str
    values: tuple[float, ...]
    geometry: list[int] = field(default_factory=list, metadata={"json": False})


def test_jsonable_turns_view_models_into_plain_json() -> None:
    data = jsonable({"m": Model("<b>", (1.0, math.nan, math.inf)), "s": {1}})
    assert data == {"m": {"name": "<b>", "values": [1.0, None, None]}, "s": [1]}


@pytest.mark.parametrize(
    ("rate", "css"),
    [
        (None, "rate-none"),
        (math.nan, "rate-none"),
        (0.0, "rate-0"),
        (0.59, "rate-5"),
        (0.6, "rate-6"),
        (0.999, "rate-9"),
        (1.0, "rate-10"),
    ],
)
def test_the_colour_scale_has_eleven_steps(rate: float | None, css: str) -> None:
    assert rate_class(rate) == css


def test_pagination_stays_within_the_pages_there_are() -> None:
    assert Pagination.of(1, 50, 0) == Pagination(1, 50, 0, 1, 0, 0)
    assert Pagination.of(9, 10, 25) == Pagination(3, 10, 25, 3, 21, 25)
    assert Pagination.of(-3, 10, 25).page == 1
    assert Pagination.of(2, 10, 25).offset == 10


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/runs/x", "/runs/x"),
        ("/runs/x/review?at=2&variant=a", "/runs/x/review?at=2&variant=a"),
        (None, "/home"),
        ("", "/home"),
        ("//evil.example", "/home"),
        ("https://evil.example", "/home"),
        ("/\\evil.example", "/home"),
        ("/ok\r\nSet-Cookie: x", "/home"),
        ("javascript:alert(1)", "/home"),
    ],
)
def test_a_post_redirects_only_within_the_viewer(target: str | None, expected: str) -> None:
    assert safe_next(target, "/home") == expected


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("192.168.1.4", False),
        ("example.com", False),
        ("::", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_printed_address_carries_the_token_when_there_is_one() -> None:
    assert viewer_url("127.0.0.1", 8765) == "http://127.0.0.1:8765/"
    assert viewer_url("::1", 9000, "a b/c") == "http://[::1]:9000/?token=a%20b%2Fc"


def test_the_band_chart_marks_the_mendoza_line_between_its_bands() -> None:
    def summarise(cells: list[tuple[int, int]]) -> RateSummary:
        rate = rate_of([OutcomeCounts(p, f) for p, f in cells], repeats=4)
        return rate_summary(rate, 0.95)

    summary = summarise([(3, 1), (2, 2), (4, 0), (1, 3)])
    chart = band_chart([("v", summary)])
    below, assistive = chart.bands[0], chart.bands[1]
    assert below.name == "below the Mendoza line" and assistive.name == "assistive"
    assert chart.mendoza_x == pytest.approx(below.x + below.width) == pytest.approx(assistive.x)
    (row,) = chart.rows
    assert row.x_low < row.x_rate < row.x_high and "62.5%" in row.title
    assert band_chart([("empty", summarise([]))]).rows == []


def test_the_curve_chart_needs_two_values_of_k() -> None:
    assert curve_chart([PassCurvePoint(1, 0.5, 0.5, 3)]) is None
    chart = curve_chart([PassCurvePoint(1, 0.5, 0.5, 3), PassCurvePoint(2, 0.75, 0.25, 3)])
    assert chart is not None and chart.at_k[1].y < chart.hat_k[1].y  # pass@k above pass^k
