"""Links the viewer builds from a request: always a path on this server (exactly one leading ``/``, percent-
encoded, so neither ``//host`` nor ``/\\host`` can turn it into another site), and never with the token."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode

from starlette.requests import Request

__all__ = [
    "TOKEN_PARAM",
    "design_url",
    "grid_url",
    "has_token",
    "history_url",
    "json_twin",
    "local_path",
    "local_url",
    "without_token",
]

TOKEN_PARAM = "token"
"""The query parameter that carries the viewer's token on a first visit."""

# What may stay unencoded in a path: RFC 3986 pchar and "/", but not "\" (browsers read it as "/"), "%" (the
# path is decoded already), "?" or "#".
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def local_path(path: str) -> str:
    """``path`` (decoded, as routed) as a path on this server: percent-encoded, with exactly one leading
    ``/`` (``//evil.example/x`` becomes ``/evil.example/x``)."""
    return "/" + quote(path.lstrip("/\\"), safe=_PATH_SAFE)


def _pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def has_token(query: str) -> bool:
    """Whether a raw query string carries the token parameter."""
    return any(key == TOKEN_PARAM for key, _ in _pairs(query))


def without_token(query: str, *, drop: tuple[str, ...] = ()) -> str:
    """A raw query string without the token (and without the parameters in ``drop``), re-encoded."""
    return urlencode([(key, value) for key, value in _pairs(query) if key != TOKEN_PARAM and key not in drop])


def local_url(path: str, query: str) -> str:
    """The address of ``path`` with ``query`` on this server, the token left out."""
    kept = without_token(query)
    return local_path(path) + ("?" + kept if kept else "")


def grid_url(run_id: str, filters: list[tuple[str, str]]) -> str:
    """The address of a run's grid with ``filters`` (query parameter pairs, each percent-encoded)."""
    query = urlencode(filters)
    return local_path(f"runs/{run_id}/grid") + ("?" + query if query else "")


def design_url(run_id: str, *, target: float | None = None, checks: tuple[str, ...] = ()) -> str:
    """The address of a run's design page, for ``target`` and the run-time ``checks`` given (each encoded)."""
    query = urlencode([*([("target", str(target))] if target is not None else []), *(("check", c) for c in checks)])
    return local_path(f"runs/{run_id}/design") + ("?" + query if query else "")


def history_url(suite_name: str, *, view: str | None = None) -> str:
    """The address of a suite's history page: the name is one path segment (a ``/`` in it is encoded, so the
    route reads it back whole), every other character percent-encoded."""
    query = urlencode([("view", view)]) if view else ""
    return f"/suites/{quote(suite_name, safe='')}/history" + ("?" + query if query else "")


def json_twin(request: Request) -> str:
    """The address of the JSON twin of the page ``request`` asked for: its path with ``.json`` (``/`` gives
    ``/runs.json``), its query kept but for the token and ``format``."""
    path = local_path(request.scope["path"]).rstrip("/") or "/runs"
    kept = without_token(request.scope.get("query_string", b"").decode("latin-1"), drop=("format",))
    return f"{path}.json" + ("?" + kept if kept else "")
