"""The cache of model calls: a response by the key of its request (see ``calls.cache_keys``).

``ResponseCache`` is the ``cache`` part of ``Store`` (``store.cache.get(key)``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from mendoza.core import ModelResponse
from mendoza.store.connection import StorePart, utc_now
from mendoza.store.text import DATA_ERRORS, safe_text

__all__ = ["ResponseCache"]

_CACHE_INSERT = (
    "INSERT OR IGNORE INTO model_cache (key, text, tokens_in, tokens_out, cost, finish_reason, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)

class ResponseCache(StorePart):
    """Model responses by request key; what ``calls.ModelCaller`` reads before calling and writes after."""

    def get(self, key: str) -> ModelResponse | None:
        """A cached model response, or None."""
        rows = self._rows(
            "SELECT text, tokens_in, tokens_out, cost, finish_reason FROM model_cache WHERE key = ?", (key,)
        )
        return None if not rows else ModelResponse(*rows[0])

    def put_many(self, entries: Sequence[tuple[str, ModelResponse]]) -> None:
        """Remember model responses by key (a key already present keeps its first response)."""
        if not entries:
            return
        now = utc_now()
        rows = [(key, r.text, r.tokens_in, r.tokens_out, r.cost, r.finish_reason, now) for key, r in entries]
        try:
            with self._transaction(passing=DATA_ERRORS):
                self._db.executemany(_CACHE_INSERT, rows)
        except DATA_ERRORS:
            # One response SQLite refuses as it is: store the others (text made storable, see ``safe_text``) and
            # leave out what still cannot be stored (the cache only saves calls).
            with self._transaction():
                for row in rows:
                    storable = tuple(safe_text(value)[0] if isinstance(value, str) else value for value in row)
                    with contextlib.suppress(*DATA_ERRORS):
                        self._db.execute(_CACHE_INSERT, storable)
