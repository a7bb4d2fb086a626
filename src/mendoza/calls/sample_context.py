"""What a model call made inside an app knows of the sample being made: the run's cache of model calls, the
sample's seed and repeat, and the event loop the run is on (so a synchronous app on a worker thread can call
back into it). The runner sets it around each call of a variant (``sample_context``); ``mendoza.model``
clients read it (``current_sample``). Outside a run there is none, and they call without a cache.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from mendoza.calls.caller import ModelCache

__all__ = ["SampleContext", "current_sample", "sample_context"]


@dataclass(frozen=True, slots=True)
class SampleContext:
    """The sample an app is handling, as its model clients need it."""

    cache: ModelCache | None
    seed: int
    repeat: int
    case_id: str
    loop: asyncio.AbstractEventLoop


_current: ContextVar[SampleContext | None] = ContextVar("mendoza_sample_context", default=None)


def current_sample() -> SampleContext | None:
    """The sample being made in this context (None outside a mendoza run)."""
    return _current.get()


@contextlib.contextmanager
def sample_context(context: SampleContext) -> Iterator[SampleContext]:
    """Make ``context`` the current sample for the code inside (and the tasks and threads it starts)."""
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
