"""The cache of model calls: round-trips a response and keeps the first one stored for a key."""

from __future__ import annotations

from pathlib import Path

from mendoza.core import ModelResponse
from mendoza.store import Store


def test_cache_round_trips_and_keeps_the_first_entry(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    full = ModelResponse('billing ☕ "quoted"\n', tokens_in=12, tokens_out=3, cost=1e-4, finish_reason="stop")
    bare = ModelResponse("")
    with Store(path) as store:
        assert store.cache.get("k1") is None
        store.cache.put_many([])  # nothing to do
        store.cache.put_many([("k1", full), ("k2", bare)])
        assert store.cache.get("k1") == full
        assert store.cache.get("k2") == bare
        store.cache.put_many([("k1", ModelResponse("second")), ("k3", ModelResponse("third"))])
        assert store.cache.get("k1") == full
        assert store.cache.get("k3") == ModelResponse("third")
    with Store(path, readonly=True) as reader:  # it lasts, and a reader sees it
        assert reader.cache.get("k1") == full
        assert reader.cache.get("missing") is None


def test_the_same_key_twice_in_one_batch_keeps_the_first(tmp_path: Path) -> None:
    with Store(tmp_path / "m.db") as store:
        store.cache.put_many([("k", ModelResponse("one")), ("k", ModelResponse("two"))])
        assert store.cache.get("k") == ModelResponse("one")
