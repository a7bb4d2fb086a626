"""Pages and their JSON twins: every page is one view model, rendered as HTML (Jinja2, always autoescaped)
or as JSON (the same URL with ``.json``, or ``?format=json``)."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from mendoza import __version__

__all__ = [
    "JSON_FLAG",
    "error_response",
    "json_response",
    "jsonable",
    "page",
    "rate_class",
    "template_env",
    "wants_json",
]

JSON_FLAG = "mendoza.json"
"""The scope key set when a request asked for the JSON twin of a page."""


def wants_json(request: Request) -> bool:
    """Whether the request asked for JSON (a ``.json`` path, ``?format=json``, or ``Accept: application/json``
    without HTML)."""
    if request.scope.get(JSON_FLAG) or request.query_params.get("format") == "json":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def jsonable(value: Any) -> Any:
    """Plain JSON data from a view model: dataclasses and named tuples become objects, tuples lists, and
    numbers that are not finite (nan, inf) null. Dataclass fields marked ``metadata={"json": False}`` (the
    geometry of charts) are left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: jsonable(getattr(value, field.name))
            for field in dataclasses.fields(value)
            if field.metadata.get("json", True)
        }
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {key: jsonable(item) for key, item in value._asdict().items()}
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class _JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=1).encode("utf-8")


def json_response(data: Any, status_code: int = 200) -> Response:
    """``data`` (a view model, or plain data) as a JSON response."""
    return _JSONResponse(jsonable(data), status_code=status_code)


def rate_class(rate: float | None) -> str:
    """The CSS class that colours a pass rate (``rate-0`` .. ``rate-10``, ``rate-none``)."""
    if rate is None or not math.isfinite(rate):
        return "rate-none"
    return f"rate-{min(10, max(0, math.floor(rate * 10 + 1e-9)))}"


def _percent(value: float | None, digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value * 100:.{digits}f}%"


def _number(value: float | int | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:,.{digits}f}"


def _milliseconds(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def _dollars(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


def _when(value: str | None) -> str:
    return "–" if not value else value[:19].replace("T", " ")


def _verdict(value: bool | None) -> str:
    return "–" if value is None else ("pass" if value else "fail")


def _pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str, sort_keys=False)


def template_env() -> jinja2.Environment:
    """The viewer's Jinja2 environment: templates from the package, every value autoescaped."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mendoza.viewer", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        percent=_percent,
        number=_number,
        ms=_milliseconds,
        dollars=_dollars,
        when=_when,
        verdict=_verdict,
        pretty_json=_pretty_json,
        rate_class=rate_class,
    )
    env.globals["version"] = __version__
    return env


def page(request: Request, template: str, view: Any, *, status_code: int = 200) -> Response:
    """The page of ``view``: its JSON twin when asked for, else the HTML of ``template``."""
    if wants_json(request):
        return json_response(view, status_code)
    env: jinja2.Environment = request.app.state.templates
    html = env.get_template(template).render(view=view, request=request, csrf=request.app.state.csrf_token)
    return HTMLResponse(html, status_code=status_code)


def error_response(request: Request, status_code: int, message: str) -> Response:
    """An error page (or JSON ``{"error": ...}``) with one line that says what is wrong."""
    if wants_json(request):
        return json_response({"error": message, "status": status_code}, status_code)
    env: jinja2.Environment = request.app.state.templates
    html = env.get_template("error.html").render(
        view={"status": status_code, "message": message}, request=request, csrf=request.app.state.csrf_token
    )
    return HTMLResponse(html, status_code=status_code)
