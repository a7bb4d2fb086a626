"""Opening a store: WAL mode, migrations recorded once, read-only access, and one-line errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from mendoza.core import ModelResponse
from mendoza.errors import StoreError
from mendoza.store import Store
from mendoza.store.migrations import MIGRATIONS, apply_migrations
from tests.store.factories import make_suite, sample


def store_error(path: Path, *, readonly: bool = False) -> StoreError:
    with pytest.raises(StoreError) as info:
        Store(path, readonly=readonly)
    assert "\n" not in str(info.value)
    return info.value


def test_a_new_file_is_in_wal_mode_with_its_migrations_recorded(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "mendoza.db"
    with Store(path) as store:
        assert store.applied_migrations() == [migration.__name__ for migration in MIGRATIONS]
        assert store.applied_migrations()[0] == "m001_initial"
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"_migrations", "runs", "samples", "grades", "model_cache"} <= tables


def test_reopening_applies_nothing(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    Store(path).close()
    with sqlite3.connect(path) as raw:
        stamps = raw.execute("SELECT name, applied_at FROM _migrations").fetchall()
    with Store(path) as store:
        store.runs.create(make_suite(), "kept")
    with Store(path) as store:
        assert store.runs.get("kept").id == "kept"
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        assert apply_migrations(raw) == []
        assert raw.execute("SELECT name, applied_at FROM _migrations").fetchall() == stamps
    finally:
        raw.close()


def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    with Store(tmp_path / "m.db") as store, pytest.raises(StoreError, match="FOREIGN KEY"):
        store.samples.write("no-such-run", [sample()])


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    content = b"these are my notes, not a database\n" * 200
    path.write_bytes(content)
    for readonly in (False, True):
        error = store_error(path, readonly=readonly)
        assert str(error).startswith(f"{path}: ")
        assert "not a database" in str(error)
    assert path.read_bytes() == content  # left as it was


def test_an_empty_file_read_only_is_not_a_mendoza_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    assert str(store_error(path, readonly=True)) == f"{path}: not a mendoza database (no _migrations table)"


def test_read_only_refuses_a_database_from_an_older_schema(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    assert "older mendoza" in str(store_error(path, readonly=True))


def test_read_only_on_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    assert str(store_error(path, readonly=True)) == f"{path}: no mendoza database here (run a suite first)"
    assert not path.exists()  # a reader never creates the file


def test_a_path_that_cannot_be_a_file(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    assert "cannot open the database" in str(store_error(tmp_path / "a-file" / "m.db"))
    assert "cannot open the database" in str(store_error(tmp_path))


def test_read_only_store_reads_and_refuses_every_write(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    suite = make_suite()
    with Store(path) as writer:
        writer.runs.create(suite, "r1")
        writer.samples.write("r1", [sample()])
    with Store(path, readonly=True) as reader:
        assert reader.runs.get("latest").done_samples == 1
        writes: list[Callable[[], object]] = [
            lambda: reader.runs.create(suite, "r2"),
            lambda: reader.samples.write("r1", [sample(repeat=1)]),
            lambda: reader.runs.set_status("r1", "complete"),
            lambda: reader.samples.delete_errored("r1"),
            lambda: reader.cache.put_many([("k", ModelResponse("text"))]),
        ]
        for write in writes:
            with pytest.raises(StoreError, match="opened read-only"):
                write()
        assert reader.runs.get("r1").status == "running"
        assert len(reader.runs.latest()) == 1


def test_a_reader_reads_while_a_writer_writes(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    with Store(path) as writer, Store(path, readonly=True) as reader:
        writer.runs.create(make_suite(), "r")
        assert reader.runs.get("r").done_samples == 0
        writer.samples.write("r", [sample(repeat=0)])
        assert reader.samples.done_keys("r") == {("a", "c1", 0)}  # committed samples are visible at once

        # A reader in the middle of a read keeps its snapshot, and does not block the writer (WAL).
        snapshot = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
        try:
            snapshot.execute("BEGIN")
            assert snapshot.execute("SELECT COUNT(*) FROM samples").fetchone()[0] == 1
            assert writer.samples.write("r", [sample(repeat=1), sample(repeat=2)]) == 2
            assert snapshot.execute("SELECT COUNT(*) FROM samples").fetchone()[0] == 1
            snapshot.execute("COMMIT")
        finally:
            snapshot.close()
        assert [s.repeat for s in reader.samples.iterate("r")] == [0, 1, 2]
