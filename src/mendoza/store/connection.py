"""What every part of the store shares: the SQLite connection, reading rows, writing in a transaction, the
clock, and SQLite's errors turned into mendoza's (``text.store_error``: a full disk is a ``DiskError``).

``Store`` opens one ``Connection`` and hands it to each of its parts (``runs``, ``samples``, ``cache``,
``grades``, ``labels``, ``pairwise``, ``outcomes``, ``browse``), each a ``StorePart``.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mendoza.errors import StoreError
from mendoza.store.text import safe_text, store_error

__all__ = ["Connection", "StorePart", "utc_now"]


def utc_now() -> str:
    """The store's clock: UTC, ISO 8601 to the millisecond (every ``created_at`` and ``finished_at``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class Connection:
    """An open SQLite connection to a store's file, and whether it was opened read-only."""

    path: Path
    readonly: bool
    db: sqlite3.Connection


class StorePart:
    """A part of ``Store``: the shared connection, with the three ways the parts use it."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.path = connection.path
        self.readonly = connection.readonly
        self._db = connection.db

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """All rows of one read query; a failing read is a ``StoreError``."""
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise store_error(self.path, "read", exc) from None

    def _write_rows(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """``executemany`` in one transaction; if a row holds text UTF-8 cannot (a lone surrogate), all are
        written again with such text stored as U+FFFD (see ``safe_text``)."""
        try:
            with self._transaction():
                self._db.executemany(sql, rows)
        except UnicodeEncodeError:
            storable = [[safe_text(value)[0] if isinstance(value, str) else value for value in row] for row in rows]
            with self._transaction():
                self._db.executemany(sql, storable)

    def _transaction(self, passing: tuple[type[Exception], ...] = ()) -> _Transaction:
        """``with self._transaction():`` writes all or nothing (see ``_Transaction``)."""
        if self.readonly:
            raise StoreError(f"{self.path}: opened read-only")
        return _Transaction(self._db, self.path, passing)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on error; sqlite errors become ``StoreError`` (a
    ``DiskError`` when the disk is full or failing), except those in ``passing``, raised as they are."""

    def __init__(self, db: sqlite3.Connection, path: Path, passing: tuple[type[Exception], ...]) -> None:
        self._db = db
        self._path = path
        self._passing = passing

    def __enter__(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise store_error(self._path, "write to", exc) from None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.Error as error:
                self._rollback()
                raise store_error(self._path, "write to", error) from None
        self._rollback()
        if isinstance(exc, sqlite3.Error) and not isinstance(exc, self._passing):
            raise store_error(self._path, "write to", exc) from None

    def _rollback(self) -> None:
        # SQLite may have rolled back already (a full disk does): a second ROLLBACK would raise "no transaction
        # is active" and hide the error that matters.
        if self._db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
