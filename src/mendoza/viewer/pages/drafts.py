"""Reviewing drafted cases in the browser (``mendoza cases review DRAFTS --suite SUITE --web``): the pending
drafts of a drafts file with their provenance, each accepted, edited (its case as JSON, validated as a case of the
suite; a mistake is one line above the form, the text kept) or rejected. What a decision does is
``api.DraftReview.decide``, the rule ``mendoza cases review`` follows from the keyboard: the same validation, the
same cases file, the same decisions file. Writes need the viewer's CSRF token (and its token, when it has one).

Drafts are untrusted text: every value is escaped and isolated by the templates, cut to ``LIST_CHARS`` on the
list, and made UTF-8 (a lone surrogate is shown as ``\\udXXX``) so no draft can break a page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mendoza.api import CaseIdTaken, Draft, DraftDecided, DraftReview
from mendoza.errors import ConfigError
from mendoza.viewer.params import BadParameter, posted_fields
from mendoza.viewer.render import LIST_CHARS, error_response, json_response, page, wants_json
from mendoza.viewer.security import CSRF_FIELD, CSRF_HEADER, check_csrf_token
from mendoza.viewer.state import viewer_state

__all__ = [
    "EDIT_CHARS",
    "MAX_EDIT_BODY",
    "SHOWN",
    "DraftEditView",
    "DraftNotFound",
    "DraftRow",
    "DraftsView",
    "decide_draft",
    "draft_page",
    "drafts_page",
]

#: How many pending drafts the list shows at once (decide them to see the next).
SHOWN = 100
#: A case longer than this (as JSON) is not put in a text box: accept or reject it, or edit the drafts file.
EDIT_CHARS = 1_000_000
#: The largest edited case a post may carry.
MAX_EDIT_BODY = 4 * EDIT_CHARS
#: How many lines that are not drafts are listed (the rest are counted).
BAD_SHOWN = 20
_PROVENANCE_CHARS = 300
_ID_CHARS = 200


class DraftNotFound(LookupError):
    """No draft has this key in the drafts file (a 404)."""


@dataclass(frozen=True, slots=True)
class DraftRow:
    """One draft as the pages show it: every value as text, cut and made safe to send."""

    key: str
    line: int
    case_id: str
    fields: list[tuple[str, str]]
    expected: str | None
    tags: list[str]
    provenance: list[tuple[str, str]]
    problem: str | None  # why it cannot be accepted as drafted (None: it can)
    url: str


@dataclass(frozen=True, slots=True)
class DraftsView:
    """The drafts page: what is left to review, what was decided, and the lines that are not drafts."""

    drafts_file: str
    suite: str
    target: str
    total: int
    pending: int
    accepted: int
    rejected: int
    rows: list[DraftRow]
    bad: list[str]
    bad_count: int
    done: str | None


@dataclass(frozen=True, slots=True)
class DraftEditView:
    """One draft with its case as JSON to edit (``text`` None when too long for a text box), the one line of
    the last attempt's mistake, and the decision when it was decided already."""

    drafts_file: str
    suite: str
    draft: DraftRow
    text: str | None
    length: int
    error: str | None
    decided: str | None


def _safe(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters and sendable as UTF-8 (a lone surrogate shown escaped)."""
    cut = text[:limit]
    try:
        cut.encode("utf-8")
    except UnicodeEncodeError:
        cut = cut.encode("utf-8", "backslashreplace").decode("utf-8")
    return cut


def _text(value: Any, limit: int = LIST_CHARS) -> str:
    if isinstance(value, str):
        return _safe(value, limit)
    return _safe(json.dumps(value, ensure_ascii=False, default=str), limit)


def _pretty(row: Any) -> str:
    """A case as indented JSON for the text box (non-ASCII kept, unless a lone surrogate forces escapes)."""
    text = json.dumps(row, indent=2, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(row, indent=2)
    return text


def _words(review: DraftReview, message: str) -> str:
    """``message`` with the drafts file's and the cases file's paths shown as their names only."""
    for path in sorted({review.drafts_path, review.target}, key=lambda p: len(str(p)), reverse=True):
        for spelling in {str(path), str(path.absolute())}:
            message = message.replace(spelling, path.name)
    return _safe(message, 2000)


def _row(review: DraftReview, draft: Draft) -> DraftRow:
    try:
        review.check(draft)
        problem = None
    except ConfigError as exc:
        problem = _words(review, exc.detail)
    case = draft.row
    named = case.get("vars")
    variables: dict[Any, Any] = named if isinstance(named, dict) else {
        key: value for key, value in case.items() if key not in ("id", "expected", "tags", "metadata", "messages")
    }
    tags = case.get("tags")
    tag_list = [_text(tag, _ID_CHARS) for tag in tags] if isinstance(tags, list) else []
    return DraftRow(
        key=draft.key,
        line=draft.line,
        case_id=_text(draft.case_id or "?", _ID_CHARS),
        fields=[(_text(name, _ID_CHARS), _text(value)) for name, value in variables.items()],
        expected=_text(case["expected"]) if case.get("expected") is not None else None,
        tags=tag_list,
        provenance=[
            (_text(key, _ID_CHARS), _text(value, _PROVENANCE_CHARS)) for key, value in draft.provenance.items()
        ],
        problem=problem,
        url=f"/drafts/{draft.key}",
    )


def _review(request: Request) -> DraftReview:
    review = viewer_state(request).drafts
    if review is None:
        raise DraftNotFound(
            "this viewer reviews no drafts: start it with `mendoza cases review DRAFTS --suite SUITE --web`"
        )
    return review


def _find(review: DraftReview, key: str) -> Draft:
    try:
        return review.find(key)
    except ConfigError:
        raise DraftNotFound("no such draft in the drafts file (was it changed, or decided elsewhere?)") from None


def _done(request: Request) -> str | None:
    for decision in ("accepted", "rejected"):
        value = request.query_params.get(decision)
        if value is not None:
            return f"{decision} {_text(value, _ID_CHARS)}"
    return None


def build_drafts(review: DraftReview, done: str | None = None) -> DraftsView:
    """The drafts page of ``review``."""
    drafts = review.file()
    decided = review.decided()
    pending = [draft for draft in drafts.drafts if draft.key not in decided]
    decisions = [decided[draft.key].get("decision") for draft in drafts.drafts if draft.key in decided]
    return DraftsView(
        drafts_file=_text(review.drafts_path.name, _ID_CHARS),
        suite=_text(review.suite.name, _ID_CHARS),
        target=_text(review.target.name, _ID_CHARS),
        total=len(drafts.drafts),
        pending=len(pending),
        accepted=decisions.count("accept"),
        rejected=decisions.count("reject"),
        rows=[_row(review, draft) for draft in pending[:SHOWN]],
        bad=[_words(review, str(bad)) for bad in drafts.bad[:BAD_SHOWN]],
        bad_count=len(drafts.bad),
        done=done,
    )


def build_edit(review: DraftReview, draft: Draft, text: str | None = None, error: str | None = None) -> DraftEditView:
    """The page of one draft: its case as JSON (or ``text``, an attempt to show again) and ``error``."""
    shown = _pretty(draft.row) if text is None else _safe(text, MAX_EDIT_BODY)
    previous = review.decided().get(draft.key)
    return DraftEditView(
        drafts_file=_text(review.drafts_path.name, _ID_CHARS),
        suite=_text(review.suite.name, _ID_CHARS),
        draft=_row(review, draft),
        text=shown if len(shown) <= EDIT_CHARS else None,
        length=len(shown),
        error=error,
        decided=str(previous.get("decision", "?")) if previous is not None else None,
    )


async def drafts_page(request: Request) -> Response:
    """``GET /drafts``: the drafts still to review, with their provenance."""
    return page(request, "drafts.html", build_drafts(_review(request), _done(request)))


async def draft_page(request: Request) -> Response:
    """``GET /drafts/{key}``: one draft, its case as JSON to edit."""
    review = _review(request)
    return page(request, "draft.html", build_edit(review, _find(review, request.path_params["key"])))


def _edited(fields: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """The edited case posted (None: the draft as it is), the text to show again, and what is wrong with it."""
    raw = fields.get("case")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, None, None
    if isinstance(raw, dict):  # a JSON post may send the case itself
        return raw, _pretty(raw), None
    if not isinstance(raw, str):
        return None, None, "the edited case must be a JSON object"
    try:
        row = json.loads(raw)
    except json.JSONDecodeError as exc:
        return None, raw, f"the edited case is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    except (RecursionError, ValueError):
        return None, raw, "the edited case is not JSON a case can hold (nested too deeply, or a number too long)"
    if not isinstance(row, dict):
        return None, raw, f"the edited case must be a JSON object, not {type(row).__name__}"
    return row, raw, None


def _refused(
    request: Request, review: DraftReview, draft: Draft, status: int, message: str, text: str | None
) -> Response:
    if wants_json(request):
        return json_response({"error": message, "status": status, "draft": draft.key}, status)
    return page(request, "draft.html", build_edit(review, draft, text, message), status_code=status)


async def decide_draft(request: Request) -> Response:
    """``POST /drafts/{key}``: ``action`` accept or reject, ``case`` the edited case as JSON (optional; CSRF
    token required). A form post answers with a redirect to the list; a refusal shows the draft again with the
    one line that says why (422: not a valid case; 409: its id is taken, or it was decided already)."""
    review = _review(request)
    fields = await posted_fields(request, MAX_EDIT_BODY, "an edited case")
    given = request.headers.get(CSRF_HEADER) or fields.get(CSRF_FIELD)
    if not check_csrf_token(request.app.state.csrf_token, given if isinstance(given, str) else None):
        return error_response(request, 403, "this form has expired or came from elsewhere: reload the page")
    draft = _find(review, request.path_params["key"])
    action = fields.get("action")
    if action not in ("accept", "reject"):
        raise BadParameter(f"'action' must be accept or reject, got {str(action)[:40]!r}")
    row, text, problem = _edited(fields) if action == "accept" else (None, None, None)
    if problem is not None:
        return _refused(request, review, draft, 422, problem, text)
    try:
        case = review.decide(draft, action, row)
    except DraftDecided as exc:
        return _refused(request, review, draft, 409, f"{exc.detail}: nothing changed", text)
    except CaseIdTaken as exc:
        message = f"{exc.detail}: change its id in the case below, or reject the draft"
        return _refused(request, review, draft, 409, _words(review, message), text)
    except ConfigError as exc:
        return _refused(request, review, draft, 422, _words(review, str(exc)), text)
    case_id = case.id if case is not None else draft.case_id
    if wants_json(request):
        return json_response({"draft": draft.key, "decision": action, "case_id": _text(case_id, _ID_CHARS)})
    word = "accepted" if action == "accept" else "rejected"
    return RedirectResponse(f"/drafts?{word}={quote(_text(case_id, _ID_CHARS), safe='')}", status_code=303)
