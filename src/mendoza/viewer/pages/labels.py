"""Overruling the grader: a person's label on a sample (pass, fail, or a score, with a note), stored as a
human grade beside the automatic ones through :mod:`mendoza.soft`. Form posts answer with a redirect, JSON
posts with the stored grade and the sample's verdicts."""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mendoza.api import clear_label, record_label
from mendoza.errors import ConfigError
from mendoza.viewer.pages.sample import find_run_sample
from mendoza.viewer.params import BadParameter, posted_fields
from mendoza.viewer.render import error_response, json_response, wants_json
from mendoza.viewer.security import CSRF_FIELD, CSRF_HEADER, check_csrf_token, viewer_user
from mendoza.viewer.state import viewer_state

__all__ = ["VERDICTS", "label_sample", "safe_next"]

VERDICTS = ("pass", "fail", "clear")
_MAX_BODY = 64 * 1024


def safe_next(target: str | None, fallback: str) -> str:
    """Where to go after a form post: a path on this server (never another site), else ``fallback``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    if any(ord(character) < 32 for character in target):
        return fallback
    return target


def _score(raw: Any) -> float | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise BadParameter("'score' must be a number between 0 and 1, not true or false")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise BadParameter(f"'score' must be a number between 0 and 1, got {str(raw)[:40]!r}") from None
    if not math.isfinite(value):
        raise BadParameter("'score' must be a number between 0 and 1")
    return value


async def label_sample(request: Request) -> Response:
    """``POST /runs/{run}/samples/{sample}/label``: record a human label (CSRF token required)."""
    state = viewer_state(request)
    fields = await posted_fields(request, _MAX_BODY, "a label")
    given = request.headers.get(CSRF_HEADER) or fields.get(CSRF_FIELD)
    if not check_csrf_token(request.app.state.csrf_token, given if isinstance(given, str) else None):
        return error_response(request, 403, "this form has expired or came from elsewhere: reload the page")
    run = state.run(request.path_params["run"])
    record = find_run_sample(state, run, request.path_params["sample"])
    verdict = fields.get("verdict") or ""
    if verdict not in ("", *VERDICTS):
        raise BadParameter(f"'verdict' must be one of {', '.join(VERDICTS)}, got {str(verdict)[:40]!r}")
    note = fields.get("note") or ""
    if not isinstance(note, str):
        raise BadParameter("'note' must be text")
    note = note.replace("\r\n", "\n").strip()
    author = viewer_user(request) or state.author  # a team's viewer: the name of the person's token
    try:
        if verdict == "clear":
            grade = clear_label(state.store, record.id, note=note, author=author)
        else:
            grade = record_label(
                state.store,
                record.id,
                passed=None if verdict == "" else verdict == "pass",
                score=_score(fields.get("score")),
                note=note,
                author=author,
            )
    except ConfigError as exc:
        raise BadParameter(str(exc)) from None
    if wants_json(request):
        updated = find_run_sample(state, run, record.id)
        verdicts = {
            "id": updated.id,
            "passed": updated.passed,
            "human_passed": updated.human_passed,
            "adjusted_passed": updated.adjusted_passed,
        }
        return json_response({"grade": grade, "sample": verdicts}, 201)
    fallback = f"/runs/{run.id}/samples/{record.id}"
    target = fields.get("next")
    return RedirectResponse(safe_next(target if isinstance(target, str) else None, fallback), status_code=303)
