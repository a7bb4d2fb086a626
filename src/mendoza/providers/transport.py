"""Failures of the HTTP transport, told apart the same way whichever SDK and HTTP client raised them.

A request can fail before it reaches the server (``cannot connect``), take too long (a timeout), or lose its
connection before the answer is complete (a server that closes the connection mid-body, a broken chunked
encoding, a reset). All three are retryable, and each gets a message that says which it was: aiohttp's
parse errors print as ``400, message: ...`` although no server sent a 400, and the SDKs report a server
that hangs up as a timeout. Exceptions are recognised by their class names (no import of aiohttp, httpx or
h11 here), so a new HTTP client's errors only need their names added.
"""

from __future__ import annotations

import re

from mendoza.errors import ProviderError, ProviderTimeout, exception_chain

__all__ = ["connection_error", "one_line", "transport_error"]

_MAX_MESSAGE = 300


def one_line(text: str, secret: str | None = None) -> str:
    """``text`` on one line, shortened, with ``secret`` (an API key) blanked out wherever it appears."""
    if secret:
        text = text.replace(secret, "[redacted]")
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."

_TIMEOUT = frozenset({"TimeoutError", "ServerTimeoutError", "SocketTimeoutError", "TimeoutException", "ReadTimeout",
                      "WriteTimeout", "PoolTimeout"})
_CONNECT = frozenset({"ConnectionRefusedError", "ClientConnectorError", "ClientConnectorDNSError",
                      "ClientConnectorCertificateError", "ClientSSLError", "SSLError", "gaierror", "ConnectError",
                      "UnsupportedProtocol", "InvalidURL", "InvalidUrlClientError"})
_BROKEN = frozenset({"ServerDisconnectedError", "ClientPayloadError", "ContentLengthError", "TransferEncodingError",
                     "ContentEncodingError", "BadHttpMessage", "HttpProcessingError", "ClientResponseError",
                     "RemoteProtocolError", "LocalProtocolError", "ReadError", "WriteError", "DecodingError",
                     "ConnectionResetError", "ConnectionAbortedError", "BrokenPipeError", "IncompleteRead",
                     "ProtocolError", "ClientOSError"})




def _kind(exc: BaseException) -> str | None:
    """``timeout``, ``connect`` or ``broken`` by the most specific class name of ``exc`` that says which."""
    for cls in type(exc).__mro__:
        name = cls.__name__
        if name in _TIMEOUT:
            return "timeout"
        if name in _CONNECT:
            return "connect"
        if name in _BROKEN:
            return "broken"
    return None


def _reason(exc: BaseException) -> str:
    """What went wrong, without aiohttp's ``400, message:`` prefix (``message`` is the text alone)."""
    message = getattr(exc, "message", None)
    text = message if isinstance(message, str) and message else str(exc)
    return text or type(exc).__name__


def transport_error(label: str, base_url: str | None, exc: BaseException, secret: str | None) -> ProviderError | None:
    """The retryable ``ProviderError`` for a transport failure anywhere in ``exc``'s chain (the deepest cause
    that can be told apart decides), or None when the chain holds none."""
    where = base_url or "the API"
    for link in reversed(exception_chain(exc, limit=12)):
        kind = _kind(link)
        if kind is None:
            continue
        if kind == "timeout":
            return ProviderTimeout(f"{label}: the request to {where} timed out")
        reason = _reason(link)
        if kind == "connect":
            return ProviderError(one_line(f"{label}: cannot connect to {where}: {reason}", secret), retryable=True)
        return ProviderError(
            one_line(f"{label}: the connection to {where} broke before the answer was complete: {reason}", secret),
            retryable=True,
        )
    return None


def connection_error(label: str, base_url: str | None, exc: BaseException, secret: str | None) -> ProviderError:
    """The retryable error for an SDK's connection error (``APIConnectionError``, ``APITimeoutError``): a
    timeout, a failure to connect, or a connection that broke mid-answer (see ``transport_error``)."""
    found = transport_error(label, base_url, exc, secret)
    if found is not None:
        return found
    where = base_url or "the API"
    root = exception_chain(exc, limit=12)[-1]
    return ProviderError(
        one_line(f"{label}: the request to {where} failed: {type(root).__name__}: {_reason(root)}", secret),
        retryable=True,
    )
