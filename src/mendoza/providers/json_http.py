"""A lean JSON-over-HTTP client on ``aiohttp``: POST a JSON body, get the status, headers and raw bytes back.

It is the request path of the ``openai`` provider. An SDK's typed path (request models, header objects, a
URL parser of its own, response models) cost about half the event loop's time at a few hundred requests a
second; this one does the least a JSON API needs: one keep-alive connection per call in flight, the base
URL parsed once, the fixed headers set once on the session. What a status means is the provider's business
(``openai_compatible.status_error``); what a broken transport means is ``transport.connection_error``'s.

A session belongs to the event loop that made it: called from another loop (a regrade after a run, an app's
model called from synchronous code), the client makes a new one, closing the old one when its loop has ended.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mendoza.errors import ProviderError
from mendoza.providers.transport import connection_error, one_line

if TYPE_CHECKING:
    import aiohttp
    from yarl import URL

__all__ = ["HttpReply", "JsonHttpClient"]


@dataclass(frozen=True, slots=True)
class HttpReply:
    """A server's answer: the status, the headers (case-insensitive) and the body as it came."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class JsonHttpClient:
    """POSTs JSON to paths under ``base_url`` with fixed ``headers`` (see the module).

    ``connections`` is how many calls may be in flight at once: that many connections are kept alive, so
    none is opened per call. ``trust_env`` reads proxy settings (and ``~/.netrc``) from the environment.
    ``label`` and ``secret`` (the API key, blanked out of every message) word transport failures. No
    timeout is set here: the caller of every model call (``calls.ModelCaller``) bounds each attempt.
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        connections: int,
        label: str,
        secret: str | None = None,
        trust_env: bool = False,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = dict(headers)
        self._connections = connections
        self._label = label
        self._secret = secret
        self._trust_env = trust_env
        self._urls: dict[str, URL] = {}
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # aiohttp is imported when a client is made (a provider for a run), not when mendoza's providers
        # are: ``import mendoza.providers.anthropic`` and the CLI's start-up must not pay for it.
        import aiohttp  # noqa: F401

    @property
    def secret(self) -> str | None:
        """The API key the headers carry, to blank out of messages (never shown)."""
        return self._secret

    async def post(self, path: str, body: Mapping[str, Any]) -> HttpReply:
        """POST ``body`` as JSON to ``base_url + path``. A transport failure (refused, reset, timed out, cut
        mid-answer) is a retryable ``ProviderError`` that says which; an HTTP error status is a reply."""
        try:
            payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        except (TypeError, ValueError) as exc:
            raise ProviderError(one_line(f"{self._label}: the request cannot be sent as JSON: {exc}")) from None
        import aiohttp  # already imported by __init__: this only names it
        from yarl import URL

        session = await self._session_here()
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = URL(self._base_url + path)
        try:
            async with session.post(url, data=payload) as response:
                return HttpReply(response.status, response.headers, await response.read())
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:  # refused, reset, cut mid-answer, timed out
            raise connection_error(self._label, self._base_url, exc, self._secret) from None

    async def _session_here(self) -> aiohttp.ClientSession:
        """The session of the running loop (made on first use in each loop)."""
        loop = asyncio.get_running_loop()
        if self._session is not None and self._loop is loop and not self._session.closed:
            return self._session
        old, old_loop = self._session, self._loop
        if old is not None and old_loop is not None and old_loop.is_closed():
            await old.close()  # its connections died with their loop: this only marks it closed
        import aiohttp

        connector = aiohttp.TCPConnector(limit=self._connections, limit_per_host=0)
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers=self._headers,
            timeout=aiohttp.ClientTimeout(total=None),
            trust_env=self._trust_env,
        )
        self._loop = loop
        return self._session

    async def aclose(self) -> None:
        """Close the connections (of the running loop's session; another loop's are dropped with it)."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            loop = self._loop
            if loop is asyncio.get_running_loop() or (loop is not None and loop.is_closed()):
                await session.close()
