"""What every part of the store shares: the database connection and its ``Dialect`` (SQLite or PostgreSQL),
reading rows, writing in a transaction, the clock, and the database's errors turned into mendoza's
(``Dialect.store_error``: a full disk is a ``DiskError``).

``Store`` opens one ``Connection`` and hands it to each of its parts (``runs``, ``samples``, ``cache``,
``grades``, ``labels``, ``pairwise``, ``outcomes``, ``browse``), each a ``StorePart``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mendoza.errors import StoreError
from mendoza.store.dialect import SQLITE, Dialect
from mendoza.store.text import safe_text

__all__ = ["Connection", "Row", "StorePart", "utc_now"]

#: A row of a query: its values by position, or by column name (``sqlite3.Row``, or the PostgreSQL store's).
Row = Any


def utc_now() -> str:
    """The store's clock: UTC, ISO 8601 to the millisecond (every ``created_at`` and ``finished_at``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class Connection:
    """An open connection to a store's database, whether it was opened read-only, and its dialect. ``path`` is
    the SQLite file, or the PostgreSQL address (its password hidden) that messages name."""

    path: Path | str
    readonly: bool
    #: ``sqlite3.Connection``, or ``postgres.PostgresDatabase`` (the same methods).
    db: Any
    dialect: Dialect = SQLITE


class StorePart:
    """A part of ``Store``: the shared connection, with the three ways the parts use it."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.path = connection.path
        self.readonly = connection.readonly
        self._db = connection.db
        self._sql = connection.dialect

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """All rows of one read query; a failing read is a ``StoreError``."""
        try:
            rows: list[Row] = self._db.execute(sql, args).fetchall()
        except self._sql.error as exc:
            raise self._sql.store_error(self.path, "read", exc) from None
        return rows

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

    def _transaction(self, passing: tuple[type[Exception], ...] = (), *, shared: bool = False) -> _Transaction:
        """``with self._transaction():`` writes all or nothing (see ``_Transaction``); ``shared``: beside other
        shared writers (writes that cannot conflict, see ``Dialect.begin_shared``)."""
        if self.readonly:
            raise StoreError(f"{self.path}: opened read-only")
        return _Transaction(self._db, self.path, self._sql, passing, shared)


class _Transaction:
    """``BEGIN`` with the write lock ... ``COMMIT``, or ``ROLLBACK`` on error; the database's errors become
    ``StoreError`` (a ``DiskError`` when the disk is full or failing), except those in ``passing``, raised as they
    are."""

    def __init__(
        self, db: Any, path: Path | str, dialect: Dialect, passing: tuple[type[Exception], ...], shared: bool
    ) -> None:
        self._db = db
        self._path = path
        self._sql = dialect
        self._passing = passing
        self._begin = dialect.begin_shared if shared else dialect.begin_write

    def __enter__(self) -> None:
        try:
            self._db.execute(self._begin)
        except self._sql.error as exc:
            self._rollback()
            raise self._sql.store_error(self._path, "write to", exc) from None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
                return
            except self._sql.error as error:
                self._rollback()
                raise self._sql.store_error(self._path, "write to", error) from None
        self._rollback()
        if isinstance(exc, self._sql.error) and not isinstance(exc, self._passing):
            raise self._sql.store_error(self._path, "write to", exc) from None

    def _rollback(self) -> None:
        # SQLite may have rolled back already (a full disk does): a second ROLLBACK would raise "no transaction
        # is active" and hide the error that matters.
        if self._db.in_transaction:
            with contextlib.suppress(self._sql.error):
                self._db.execute("ROLLBACK")
