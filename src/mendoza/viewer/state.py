"""What the viewer keeps between requests: the open store (none when it was started only to review drafts), who
labels, the drafts under review, and small caches of what is slow to compute and does not change while nothing
is written (suite snapshots, run summaries, review queues)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from starlette.requests import Request

from mendoza.api import DraftReview
from mendoza.core import Run, Suite
from mendoza.errors import RunNotFound
from mendoza.store import Store

__all__ = ["ViewerState", "viewer_state"]

T = TypeVar("T")

_CACHE_ENTRIES = 64


class ViewerState:
    """The viewer's store and caches. Cached values are keyed by what would change them (a run's sample
    count, the store's grades version), so a value is never stale, only recomputed."""

    def __init__(self, store: Store | None, *, author: str, drafts: DraftReview | None = None) -> None:
        self._store = store
        self.author = author
        self.drafts = drafts
        self._cache: OrderedDict[Hashable, Any] = OrderedDict()

    @property
    def has_store(self) -> bool:
        """Whether the viewer serves a database (not when started only to review drafts, before any run)."""
        return self._store is not None

    @property
    def store(self) -> Store:
        """The database served; a viewer without one answers every page of runs with a 404 that says so."""
        if self._store is None:
            raise RunNotFound("this viewer has no database (it was started to review drafts): run a suite first")
        return self._store

    def redact(self, message: str) -> str:
        """``message`` with the database's path (as given, absolute, resolved) shown as its file name only (a
        database server's address as the name of its database)."""
        if self._store is None:
            return message
        path = self._store.path
        if isinstance(path, str):
            return message.replace(path, urlsplit(path).path.lstrip("/") or "the database")
        spellings = {str(path), str(path.absolute()), str(path.resolve())}
        for spelling in sorted(spellings, key=len, reverse=True):
            if spelling and spelling != path.name:
                message = message.replace(spelling, path.name)
        return message

    def run(self, ref: str) -> Run:
        """The run with this id, unique prefix, or ``latest`` (``RunNotFound`` if none)."""
        return self.store.runs.get(ref)

    def suite(self, run: Run) -> Suite:
        """The suite a run ran (its snapshot; parsed once)."""
        return self.cached(("suite", run.id), lambda: self.store.runs.suite(run.id))

    def version(self, run: Run) -> tuple[str, int, int]:
        """What identifies the current state of a run's data: its id, its sample count, the grades version."""
        return (run.id, run.done_samples, self.store.grades.version())

    def cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The value cached under ``key``, computing it on a miss (the least recently used are dropped)."""
        if key in self._cache:
            self._cache.move_to_end(key)
            value: T = self._cache[key]
            return value
        value = compute()
        self._cache[key] = value
        while len(self._cache) > _CACHE_ENTRIES:
            self._cache.popitem(last=False)
        return value


def viewer_state(request: Request) -> ViewerState:
    """The viewer's state, from the app a request came to."""
    state: ViewerState = request.app.state.viewer
    return state
