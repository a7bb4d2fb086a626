"""The cache of model calls: a response by the key of its request (see ``calls.cache_keys``).

``ResponseCache`` is the ``cache`` part of ``Store`` (``store.cache.get(key)``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict

from mendoza.core import ModelResponse, Step
from mendoza.store.connection import StorePart, utc_now
from mendoza.store.rows import detail_json
from mendoza.store.text import safe_text

__all__ = ["ResponseCache"]

_CACHE_INSERT = (
    "INSERT INTO model_cache (key, text, tokens_in, tokens_out, cost, finish_reason, created_at, "
    "steps_json, metadata_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING"
)


def _steps_json(steps: tuple[Step, ...]) -> str | None:
    """A response's steps (a model's tool calls) as JSON, so a cached response keeps them."""
    return json.dumps([asdict(step) for step in steps], ensure_ascii=False, default=str) if steps else None


def _steps_from(text: str | None) -> tuple[Step, ...]:
    return () if text is None else tuple(Step(**fields) for fields in json.loads(text))


class ResponseCache(StorePart):
    """Model responses by request key; what ``calls.ModelCaller`` reads before calling and writes after."""

    def get(self, key: str) -> ModelResponse | None:
        """A cached model response, or None."""
        rows = self._rows(
            "SELECT text, tokens_in, tokens_out, cost, finish_reason, steps_json, metadata_json FROM model_cache "
            "WHERE key = ?",
            (key,),
        )
        if not rows:
            return None
        text, tokens_in, tokens_out, cost, finish_reason, steps, metadata = rows[0]
        return ModelResponse(
            text, tokens_in, tokens_out, cost, finish_reason,
            metadata=None if metadata is None else json.loads(metadata), steps=_steps_from(steps),
        )

    def put_many(self, entries: Sequence[tuple[str, ModelResponse]]) -> None:
        """Remember model responses by key (a key already present keeps its first response)."""
        if not entries:
            return
        now = utc_now()
        if self._sql.concurrent_writers:  # in key order: two writers of the same keys never wait in a cycle
            entries = sorted(entries, key=lambda entry: entry[0])
        rows = [
            (
                key, r.text, r.tokens_in, r.tokens_out, r.cost, r.finish_reason, now, _steps_json(r.steps),
                detail_json(r.metadata) if r.metadata else None,
            )
            for key, r in entries
        ]
        data_errors = self._sql.data_errors
        try:
            with self._transaction(passing=data_errors, shared=True):
                self._db.executemany(_CACHE_INSERT, rows)
        except data_errors:
            # One response SQLite refuses as it is: store the others (text made storable, see ``safe_text``) and
            # leave out what still cannot be stored (the cache only saves calls).
            with self._transaction(shared=True):
                for row in rows:
                    storable = tuple(
                        safe_text(value, nul=not self._sql.holds_nul)[0] if isinstance(value, str) else value
                        for value in row
                    )
                    self._db.execute("SAVEPOINT one_response")
                    try:
                        self._db.execute(_CACHE_INSERT, storable)
                    except data_errors:
                        self._db.execute("ROLLBACK TO one_response")
                    self._db.execute("RELEASE one_response")
