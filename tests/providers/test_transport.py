"""Transport failures are told apart by the class names along the exception chain, whichever client raised."""

from __future__ import annotations

import itertools

import pytest

from mendoza.errors import ProviderTimeout
from mendoza.providers.transport import connection_error, transport_error


def _named(name: str, base: type[BaseException] = Exception) -> type[BaseException]:
    return type(name, (base,), {})


def _chain(*links: BaseException) -> BaseException:
    """``links[0]`` raised from ``links[1]`` raised from ... (the last is the root cause)."""
    for outer, inner in itertools.pairwise(links):
        outer.__cause__ = inner
    return links[0]


class _Parse(Exception):
    """Like aiohttp's HttpProcessingError: ``str`` starts with a made-up 400, ``message`` is the text."""

    def __init__(self, message: str) -> None:
        super().__init__(f"400, message:\n  {message}")
        self.message = message


def test_an_sdk_timeout_caused_by_a_hang_up_is_a_broken_answer_not_a_timeout() -> None:
    error = connection_error(
        "m", "http://x/v1",
        _chain(_named("APITimeoutError")("Request timed out."), _named("ConnectTimeout")("Server disconnected"),
               _named("ServerDisconnectedError")("Server disconnected")),
        None,
    )
    assert not isinstance(error, ProviderTimeout) and error.retryable
    assert str(error) == "m: the connection to http://x/v1 broke before the answer was complete: Server disconnected"


def test_aiohttp_parse_errors_lose_their_fake_400() -> None:
    broken = _named("ContentLengthError", _Parse)("Not enough data (received 13 of 1000 bytes).")
    error = transport_error("m", None, _chain(_named("ClientPayloadError")("Response payload..."), broken), None)
    assert error is not None and error.retryable
    assert "400" not in str(error) and str(error).endswith("Not enough data (received 13 of 1000 bytes).")


@pytest.mark.parametrize(
    ("root", "kind"),
    [
        (ConnectionRefusedError(111, "Connection refused"), "cannot connect"),
        (ConnectionResetError(104, "Connection reset by peer"), "broke before the answer"),
        (TimeoutError(), "timed out"),
        (_named("RemoteProtocolError")("peer closed connection"), "broke before the answer"),
        (_named("ClientConnectorError", OSError)("Cannot connect to host"), "cannot connect"),
    ],
)
def test_each_kind_is_named(root: BaseException, kind: str) -> None:
    error = connection_error("m", "http://x", _chain(_named("APIConnectionError")("Connection error."), root), None)
    assert error.retryable and kind in str(error)


def test_anything_else_is_not_a_transport_error_but_an_sdk_connection_error_stays_retryable() -> None:
    assert transport_error("m", None, KeyError("choices"), None) is None
    error = connection_error("m", None, _named("APIConnectionError")("Connection error."), "sk-secret")
    assert error.retryable and "the request to the API failed: APIConnectionError: Connection error." in str(error)
