"""Pages and their JSON twins: every page is one view model, rendered as HTML (Jinja2, always autoescaped)
or as JSON (the same URL with ``.json``, or ``?format=json``).

Model text is untrusted twice over: escaped (autoescape), and isolated from the text around it, so that bidi
control characters in it cannot reorder what the page shows (the ``bidi`` filter; ``ident`` also makes them
visible in ids, where a reordered name would be a spoof). Long text is cut (``clip``) where it is listed."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Mapping
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from mendoza import __version__
from mendoza.viewer.links import design_url, history_url, json_twin
from mendoza.viewer.state import viewer_state

__all__ = [
    "BIDI_CONTROLS",
    "JSON_FLAG",
    "LIST_CHARS",
    "PAGE_CHARS",
    "STEP_CHARS",
    "TEXT_CHARS",
    "clip",
    "error_response",
    "json_response",
    "jsonable",
    "page",
    "rate_class",
    "reveal_bidi",
    "template_env",
    "wants_json",
]

JSON_FLAG = "mendoza.json"
"""The scope key set when a request asked for the JSON twin of a page."""

LIST_CHARS = 2_000
"""Text shown in a list or side by side (other repeats, other variants) is cut after this many characters."""
PAGE_CHARS = 100_000
"""A sample's own output is cut after this many characters (the whole of it is a link away)."""
TEXT_CHARS = 20_000
"""A sample's prompt, inputs, errors and grade explanations are cut after this many characters."""
STEP_CHARS = 5_000
"""A step's input, output and error are cut after this many characters on the sample page (a sample may have
hundreds of steps)."""

BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""The characters that change the direction of the text after them (embeddings, overrides, isolates, marks)."""


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


def reveal_bidi(text: str) -> str:
    """``text`` with each bidi control character shown as its code point (``⟨U+202E⟩``)."""
    return BIDI_CONTROLS.sub(lambda match: f"⟨U+{ord(match.group()):04X}⟩", text)


def _bidi(value: Any) -> Markup:
    """Untrusted text, escaped and isolated (``<bdi>``): it cannot reorder the text around it."""
    return Markup("<bdi>%s</bdi>") % str(value)


def _ident(value: Any) -> Markup:
    """An untrusted id or name, isolated and with its bidi control characters made visible."""
    return Markup("<bdi>%s</bdi>") % reveal_bidi(str(value))


def _reveal(value: Any) -> str:
    """An untrusted id where no element may wrap it (``<title>``, ``<option>``, SVG text): controls shown."""
    return reveal_bidi(str(value))


def clip(text: str | None, limit: int = LIST_CHARS) -> str | None:
    """The first ``limit`` characters of ``text`` (all of it when shorter)."""
    return text if text is None or len(text) <= limit else text[:limit]


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
        bidi=_bidi,
        ident=_ident,
        reveal=_reveal,
        clip=clip,
    )
    env.globals.update(
        version=__version__,
        json_twin=json_twin,
        design_url=design_url,
        history_url=history_url,
        list_chars=LIST_CHARS,
        page_chars=PAGE_CHARS,
        text_chars=TEXT_CHARS,
        step_chars=STEP_CHARS,
    )
    return env


def page(request: Request, template: str, view: Any, *, status_code: int = 200) -> Response:
    """The page of ``view``: its JSON twin when asked for, else the HTML of ``template``."""
    if wants_json(request):
        return json_response(view, status_code)
    env: jinja2.Environment = request.app.state.templates
    html = env.get_template(template).render(view=view, request=request, csrf=request.app.state.csrf_token)
    return HTMLResponse(html, status_code=status_code)


def error_response(request: Request, status_code: int, message: str) -> Response:
    """An error page (or JSON ``{"error": ...}``) with one line that says what is wrong (the database named by
    its file name, never by its path)."""
    message = viewer_state(request).redact(message)
    if wants_json(request):
        return json_response({"error": message, "status": status_code}, status_code)
    env: jinja2.Environment = request.app.state.templates
    html = env.get_template("error.html").render(
        view={"status": status_code, "message": message}, request=request, csrf=request.app.state.csrf_token
    )
    return HTMLResponse(html, status_code=status_code)
