"""Pytest fixtures shared by test modules; import them from a conftest or a test module by name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_openai_server import FakeOpenAIServer

__all__ = ["fake_openai_server"]


@pytest.fixture
def fake_openai_server() -> Iterator[FakeOpenAIServer]:
    """A fake OpenAI-compatible server on loopback, served from its own thread (usable from any loop)."""
    server = FakeOpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()
