"""The store's tests run against both databases: an SQLite file, and a PostgreSQL server of the tests' own
(``postgres_cluster``, skipped where PostgreSQL is not installed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mendoza.store import Store


@pytest.fixture(params=["sqlite", "postgres"])
def db_address(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a test's store is: a new SQLite file, or a new, empty PostgreSQL schema."""
    if request.param == "sqlite":
        return tmp_path / "m.db"
    cluster = request.getfixturevalue("postgres_cluster")
    address: str = cluster.new_schema()
    return address


@pytest.fixture
def store(db_address: Path | str) -> Iterator[Store]:
    """A fresh store, on each database."""
    with Store(db_address) as opened:
        yield opened
