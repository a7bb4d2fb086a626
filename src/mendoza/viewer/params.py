"""Reading a page's query parameters (numbers within bounds, flags, choices) and a form's posted fields; a bad
one is a 400 that says which parameter and what it may be."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.datastructures import QueryParams
from starlette.requests import Request

__all__ = [
    "STEP_NAME_CHARS",
    "BadParameter",
    "Pagination",
    "choice",
    "exact",
    "flag",
    "integer",
    "names",
    "paginate",
    "posted_fields",
    "share",
    "text",
]

T = TypeVar("T", bound=str)

INT64_MAX = 2**63 - 1
"""The largest whole number SQLite can bind: every number parameter is clamped within +-this."""
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
STEP_NAME_CHARS = 1000
"""The longest step name the grid's ``failed_step`` filter takes and offers (the overview links none longer)."""


class BadParameter(ValueError):
    """A query parameter the page cannot use; the message says which and what it may be."""


def integer(params: QueryParams, name: str, default: int, *, low: int, high: int | None = None) -> int:
    """A whole number parameter, clamped to ``[low, high]`` (and to SQLite's 64-bit integers); not a number is a
    ``BadParameter``."""
    raw = params.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise BadParameter(f"'{name}' must be a whole number, got {raw[:40]!r}") from None
    value = max(low, -INT64_MAX, min(INT64_MAX, value))
    return value if high is None else min(high, value)


def share(params: QueryParams, name: str) -> float | None:
    """A rate strictly between 0 and 1 (``0.9``; None when absent or empty); anything else (not a number, 0, 1,
    ``90``, ``nan``) is a ``BadParameter``."""
    raw = params.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        raise BadParameter(f"'{name}' must be a rate between 0 and 1 (e.g. 0.9), got {raw[:40]!r}") from None
    if not (math.isfinite(value) and 0.0 < value < 1.0):
        raise BadParameter(f"'{name}' must be a rate between 0 and 1, both excluded (e.g. 0.9), got {raw[:40]!r}")
    return value


def names(params: QueryParams, name: str, *, limit: int = 1000, most: int = 50) -> tuple[str, ...]:
    """Every value of a repeatable parameter, exactly as given, in order, repeats and empty ones left out; more
    than ``most`` of them, or one longer than ``limit``, is a ``BadParameter``."""
    values = [value for value in params.getlist(name) if value != ""]
    if len(values) > most:
        raise BadParameter(f"'{name}' may be given at most {most} times")
    if any(len(value) > limit for value in values):
        raise BadParameter(f"'{name}' is limited to {limit} characters")
    return tuple(dict.fromkeys(values))


def flag(params: QueryParams, name: str) -> bool:
    """A yes/no parameter: ``1``, ``true``, ``yes``, ``on`` are yes; absent or anything else is no."""
    return params.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def choice(params: QueryParams, name: str, options: Sequence[T], default: T) -> T:
    """One of ``options``; anything else is a ``BadParameter`` that lists them."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    for option in options:
        if raw == option:
            return option
    raise BadParameter(f"'{name}' must be one of {', '.join(options)}, got {raw[:40]!r}")


def text(params: QueryParams, name: str, *, limit: int = 200) -> str | None:
    """A free-text parameter, stripped (None when empty); longer than ``limit`` is a ``BadParameter``."""
    raw = params.get(name)
    if raw is None or not raw.strip():
        return None
    if len(raw) > limit:
        raise BadParameter(f"'{name}' is limited to {limit} characters")
    return raw.strip()


def exact(params: QueryParams, name: str, *, limit: int = 1000) -> str | None:
    """A name matched exactly as given (not stripped, so any name the store holds can be asked for; None when
    absent or empty); longer than ``limit`` is a ``BadParameter``."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if len(raw) > limit:
        raise BadParameter(f"'{name}' is limited to {limit} characters")
    return raw


@dataclass(frozen=True, slots=True)
class Pagination:
    """Where a page stands among ``total`` items: 1-based ``page`` of ``pages``, ``per_page`` items each,
    showing items ``first_item`` to ``last_item`` (1-based; 0 and 0 when there are none)."""

    page: int
    per_page: int
    total: int
    pages: int
    first_item: int
    last_item: int

    @classmethod
    def of(cls, page: int, per_page: int, total: int) -> Pagination:
        """The pagination of ``total`` items, with ``page`` brought within the pages there are."""
        pages = max(1, math.ceil(total / per_page))
        page = min(max(1, page), pages)
        offset = (page - 1) * per_page
        first = 0 if total == 0 else offset + 1
        return cls(page, per_page, total, pages, first, min(total, offset + per_page))

    @property
    def offset(self) -> int:
        """Items before this page."""
        return (self.page - 1) * self.per_page


def paginate(params: QueryParams) -> tuple[int, int]:
    """The ``page`` (1 or more) and ``per_page`` (1 to 200) asked for."""
    return (
        integer(params, "page", 1, low=1),
        integer(params, "per_page", DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE),
    )


async def posted_fields(request: Request, limit: int, what: str) -> dict[str, Any]:
    """The fields posted to a write, from a form or a JSON object body; a body over ``limit`` bytes (``what``
    names it in the message) or not JSON where it says it is, is a ``BadParameter``."""
    if int(request.headers.get("content-length") or 0) > limit:
        raise BadParameter(f"{what} is limited to {limit // 1024:,} KiB")
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise BadParameter("the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise BadParameter("the body must be a JSON object")
        return body
    form = await request.form(max_files=0, max_fields=16)
    return {key: value for key, value in form.items() if isinstance(value, str)}
