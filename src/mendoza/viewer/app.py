"""The viewer's web app: its routes, and the guard, state and error pages around them.

Routes (each page also answers as JSON at the same path + ``.json``, or with ``?format=json``):

    GET  /, /runs                          the runs
    GET  /runs/{run}                       overview of a run (an id, a unique prefix, or ``latest``)
    GET  /runs/{run}/grid                  cases x variants, filtered, sorted, paged
    GET  /runs/{run}/samples/{sample}      one sample, its grades, its case's other repeats
    GET  /runs/{run}/samples/{sample}/output.txt, .../prompt.txt, .../steps.txt   the whole output, prompt
                                           or steps, as plain text
    POST /runs/{run}/samples/{sample}/label   overrule: a human label (CSRF token required)
    GET  /runs/{run}/review                review mode: the samples most worth a look, one by one
    GET  /runs/{run}/design                the designs the run supports (``mendoza design``): the frontier chart,
                                           every design, the cheapest for ``?target=0.9`` (``&check=NAME``...)
    GET  /runs/{run}/items                 the item analysis (``mendoza cases analyze``): per case its pass rate,
                                           discrimination, flakiness, flags, worst first; the suggestions
    GET  /compare                          two runs or two variants, paired by case
    GET  /drafts                           the drafts under review (``mendoza cases review DRAFTS --suite SUITE
                                           --web``): each pending draft with its provenance
    GET  /drafts/{key}                     one draft, its case as JSON to edit
    POST /drafts/{key}                     accept (as drafted, or the ``case`` posted: an edit) or reject it
                                           (CSRF token required)
    GET  /suites/{name}/history            every run of a suite: its variants' pass rates over time (a chart), the
                                           changes the paired comparison calls real, the cases that newly pass or
                                           fail (its last 50 runs, ``?last=N`` for more; ``?view=auto`` for the
                                           automatic verdicts)
    GET  /static/...                       the stylesheet and the script
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from mendoza.api import DraftReview, default_author
from mendoza.errors import MendozaError, RunNotFound, StoreError
from mendoza.store import Store, is_database_url
from mendoza.viewer.pages.compare import compare_page
from mendoza.viewer.pages.design import design_page
from mendoza.viewer.pages.drafts import DraftNotFound, decide_draft, draft_page, drafts_page
from mendoza.viewer.pages.grid import grid_page
from mendoza.viewer.pages.history import history_page
from mendoza.viewer.pages.items import items_page
from mendoza.viewer.pages.labels import label_sample
from mendoza.viewer.pages.overview import overview_page
from mendoza.viewer.pages.review_mode import review_page
from mendoza.viewer.pages.runs import runs_page
from mendoza.viewer.pages.sample import SampleNotFound, sample_page, sample_text
from mendoza.viewer.params import BadParameter
from mendoza.viewer.render import error_response, template_env
from mendoza.viewer.security import ViewerGuard, secure
from mendoza.viewer.state import ViewerState, viewer_state

__all__ = ["create_app", "open_viewer_store"]


def open_viewer_store(db: str | Path) -> Store:
    """The store the viewer serves: an existing database file, opened for labels (its schema brought up to
    date); a missing file is a ``StoreError``, never a new empty database. A PostgreSQL database (a team's
    shared store) is opened as it is."""
    if is_database_url(db):
        return Store(db)
    path = Path(db)
    if not path.is_file():
        raise StoreError(f"{path}: no mendoza database here (run a suite first, or give --db)")
    return Store(path)


async def _home(request: Request) -> Response:
    """``GET /``: the runs; the drafts, for a viewer started only to review them (no database yet)."""
    state = viewer_state(request)
    if not state.has_store and state.drafts is not None:
        return RedirectResponse("/drafts", status_code=303)
    return await runs_page(request)


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(request, 404, str(exc))


async def _bad_request(request: Request, exc: Exception) -> Response:
    return error_response(request, 400, str(exc))


async def _store_error(request: Request, exc: Exception) -> Response:
    return error_response(request, 500, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(request, exc.status_code, str(exc.detail))


async def _internal_error(request: Request, exc: Exception) -> Response:
    # Sent from outside the ViewerGuard middleware (by Starlette's ServerErrorMiddleware, which then re-raises
    # for the server's log): the security headers must be set here. The exception's text is not shown.
    try:
        response = error_response(request, 500, "internal error in mendoza view: see the terminal it runs in")
    except Exception:  # the error page itself failed: plain text still carries the headers
        response = PlainTextResponse("internal error in mendoza view: see the terminal it runs in", 500)
    return secure(response)


def create_app(
    store: Store | None,
    *,
    token: str | None = None,
    hosts: Iterable[str] = (),
    author: str | None = None,
    tokens: Mapping[str, str] | None = None,
    drafts: DraftReview | None = None,
) -> Starlette:
    """The viewer over ``store``. With ``token`` every request must carry it; without, only loopback host
    names (and ``hosts``) are answered. Labels are recorded as ``author`` (default: the user logged in). A
    team's viewer gives each person a token of their own (``tokens``: name -> secret; with or without
    ``token``): a request must carry one of them, and the labels it writes carry that person's name.
    ``drafts``: the review the drafts pages serve (``store`` may then be None: no run pages)."""
    routes = [
        Route("/", _home, name="home"),
        Route("/runs", runs_page, name="runs"),
        Route("/runs/{run}", overview_page, name="overview"),
        Route("/runs/{run}/grid", grid_page, name="grid"),
        Route("/runs/{run}/samples/{sample:int}", sample_page, name="sample"),
        Route("/runs/{run}/samples/{sample:int}/label", label_sample, methods=["POST"], name="label"),
        Route("/runs/{run}/samples/{sample:int}/{part}.txt", sample_text, name="sample_text"),
        Route("/runs/{run}/review", review_page, name="review"),
        Route("/runs/{run}/design", design_page, name="design"),
        Route("/runs/{run}/items", items_page, name="items"),
        Route("/compare", compare_page, name="compare"),
        Route("/drafts", drafts_page, name="drafts"),
        Route("/drafts/{key}", draft_page, name="draft"),
        Route("/drafts/{key}", decide_draft, methods=["POST"], name="decide_draft"),
        Route("/suites/{name:path}/history", history_page, name="history"),
        Mount("/static", StaticFiles(packages=[("mendoza.viewer", "static")]), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(ViewerGuard, token=token, hosts=tuple(hosts), tokens=dict(tokens or {}))],
        exception_handlers={
            RunNotFound: _not_found,
            SampleNotFound: _not_found,
            DraftNotFound: _not_found,
            BadParameter: _bad_request,
            MendozaError: _store_error,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
    )
    app.state.viewer = ViewerState(store, author=author or default_author(), drafts=drafts)
    app.state.templates = template_env()
    app.state.csrf_token = secrets.token_urlsafe(32)
    return app
