"""What stands in front of every request to the viewer.

- **Host**: served without a token, the viewer answers only to loopback host names (127.0.0.1, localhost,
  [::1]), so a web page that rebinds its own domain to 127.0.0.1 cannot read it.
- **Token**: given a token (required off loopback), every request must carry it: ``Authorization: Bearer``,
  an ``X-Mendoza-Token`` header, or the cookie set by a first visit to ``?token=...``. A team's viewer has one
  named token per person (``tokens``: name -> secret): the request's token says who it is (``viewer_user``),
  and that person's name is the author of the labels they write. A request that carries
  ``?token=`` is always redirected to the same address without it (so it never stays in the address bar, the
  history, or a link the page builds), and the cookie is set when the token is right.
- **Cross-site writes**: a write (any method but GET, HEAD, OPTIONS) must come from the viewer's own origin
  (``Origin``, else ``Referer``) and carry the per-server CSRF token (a hidden form field or an
  ``X-CSRF-Token`` header, checked by :func:`check_csrf_token` where the body is read).
- **Headers**: a strict Content-Security-Policy (scripts and styles only from the viewer's own static files,
  no inline script), no framing, no MIME sniffing, no caching of pages: on every response, refusals and
  errors included (:func:`secure` for the 500 page, which is sent from outside this middleware).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable, Mapping
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mendoza.viewer.links import TOKEN_PARAM, has_token, local_url
from mendoza.viewer.render import JSON_FLAG

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "TOKEN_COOKIE",
    "TOKEN_HEADER",
    "ViewerGuard",
    "check_csrf_token",
    "is_loopback",
    "secure",
    "viewer_user",
]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
TOKEN_COOKIE = "mendoza_token"
TOKEN_HEADER = "x-mendoza-token"

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Where the guard leaves the name of the token a request carried (a team's viewer).
_USER_KEY = "mendoza.user"


def viewer_user(request: Request) -> str | None:
    """The name of the token this request carried (None: an unnamed token, or none)."""
    user: str | None = request.scope.get(_USER_KEY)
    return user
_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}


def secure(response: Response) -> Response:
    """``response`` with the security headers and no caching (those it sets itself are kept)."""
    for name, value in _HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("cache-control", "no-store")
    return response


def is_loopback(host: str) -> bool:
    """Whether a host name or address is this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def check_csrf_token(expected: str, given: str | None) -> bool:
    """Whether a write carries the server's CSRF token."""
    return given is not None and _same(expected, given)


def _query(scope: Scope) -> str:
    query: bytes = scope.get("query_string", b"")
    return query.decode("latin-1")


def _hostname(host_header: str) -> str:
    """The host of a ``Host`` header without its port (``[::1]:8000`` -> ``::1``)."""
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")] if "]" in host_header else host_header
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


class ViewerGuard:
    """ASGI middleware: host check, token, same-origin writes, security headers, and ``.json`` twins (a path
    ending in ``.json`` is served by the page without it, flagged to answer in JSON)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None = None,
        hosts: Iterable[str] = (),
        tokens: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        #: Each secret a request may carry, with the name of who carries it (None: the one unnamed token).
        self.secrets: list[tuple[str, str | None]] = [(token, None)] if token is not None else []
        self.secrets.extend((secret, name) for name, secret in (tokens or {}).items())
        self.token = self.secrets[0][0] if self.secrets else None
        self.hosts = frozenset(host.lower() for host in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await self._with_headers(refusal, scope, receive, send)
            return
        path: str = scope["path"]
        if path.endswith(".json") and not path.startswith("/static/"):
            scope[JSON_FLAG] = True  # also where the 500 page is made, outside: it answers in JSON too
            scope = dict(scope)
            scope["path"] = path[: -len(".json")] or "/"
            scope["raw_path"] = scope["path"].encode("utf-8")
            scope[JSON_FLAG] = True
        no_store = not path.startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in _HEADERS.items():
                    response_headers.setdefault(name, value)
                if no_store:
                    response_headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _with_headers(self, response: Response, scope: Scope, receive: Receive, send: Send) -> None:
        await secure(response)(scope, receive, send)

    def _refusal(self, scope: Scope, headers: Headers) -> Response | None:
        """The response that refuses this request, or None to let it through."""
        host = headers.get("host", "")
        if self.token is None and not (is_loopback(_hostname(host)) or _hostname(host).lower() in self.hosts):
            return PlainTextResponse(f"mendoza view answers only on its own address, not {host[:80]!r}", 421)
        if self.secrets:
            denied = self._check_token(scope, headers)
            if denied is not None:
                return denied
        if scope["method"] not in _SAFE_METHODS and not self._same_origin(scope, headers):
            return PlainTextResponse("cross-site write refused: writes must come from the viewer's own pages", 403)
        if scope["method"] in ("GET", "HEAD") and has_token(_query(scope)):
            return self._drop_token(scope)  # let in otherwise (a cookie), or no token needed
        return None

    def _drop_token(self, scope: Scope, *, set_cookie: str | None = None) -> Response:
        """The redirect to the same address without ``?token=`` (setting the cookie to ``set_cookie``)."""
        response = RedirectResponse(local_url(scope["path"], _query(scope)), status_code=303)
        if set_cookie is not None:
            response.set_cookie(TOKEN_COOKIE, set_cookie, httponly=True, samesite="strict", path="/")
        return response

    def _matching(self, given: str | None) -> tuple[str, str | None] | None:
        """The (secret, name) a token given matches, if any (each compared in constant time)."""
        if given is None:
            return None
        found = None
        for secret, name in self.secrets:
            if _same(secret, given) and found is None:
                found = (secret, name)
        return found

    def _check_token(self, scope: Scope, headers: Headers) -> Response | None:
        offered = [value for key, value in parse_qsl(_query(scope), keep_blank_values=True) if key == TOKEN_PARAM]
        if scope["method"] in ("GET", "HEAD") and offered:
            match = self._matching(offered[-1])
            if match is not None:
                return self._drop_token(scope, set_cookie=match[0])
        authorization = headers.get("authorization", "")
        candidates = [headers.get(TOKEN_HEADER)]
        if authorization.lower().startswith("bearer "):
            candidates.append(authorization[7:].strip())
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header counts as no cookie
            cookie = SimpleCookie()
        if TOKEN_COOKIE in cookie:
            candidates.append(cookie[TOKEN_COOKIE].value)
        for given in candidates:
            match = self._matching(given)
            if match is not None:
                scope[_USER_KEY] = match[1]
                return None
        return PlainTextResponse(
            "this viewer needs its token: open the address `mendoza view` printed (it ends in ?token=...)", 401
        )

    @staticmethod
    def _same_origin(scope: Scope, headers: Headers) -> bool:
        own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}".lower()
        origin = headers.get("origin")
        if origin is not None:
            return origin.lower() == own
        referer = headers.get("referer")
        if referer:
            parts = urlsplit(referer)
            return f"{parts.scheme}://{parts.netloc}".lower() == own
        return False
