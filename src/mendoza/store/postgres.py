"""A store on a PostgreSQL server (``--db postgresql://user@host/db``), through psycopg 3 and its pool.

``PostgresDatabase`` gives the store's parts the same narrow interface they use of ``sqlite3.Connection``
(``execute``, ``executemany``, ``cursor``, ``in_transaction``): queries keep SQLite's ``?`` placeholders (turned
into psycopg's ``%s`` here, once per query text), rows are read by position or by column name, and numbers come
back as SQLite gives them (an integer sum is an ``int``, an average a ``float``: never a ``Decimal``). Each
statement borrows a connection of the pool; a transaction keeps its connection, for its thread, from ``BEGIN``
to ``COMMIT`` or ``ROLLBACK``, so the viewer's threads each read and write on their own.

The write lock: every write transaction takes a transaction-level advisory lock (released at its end, also when a
client dies). Writers that could conflict (a new run's id, a regrade's revision, labels) take it exclusively, as
SQLite's ``BEGIN IMMEDIATE`` does; sample and cache writes take it shared, so several machines write samples at
once: the unique key (run, variant, case, repeat) with ``ON CONFLICT DO NOTHING`` keeps each sample once, and
each batch inserts in key order, so two writers of the same samples never wait on each other in a cycle.
Migrations run under the exclusive lock, once.

This module imports psycopg; ``Store`` imports it only for a ``postgresql://`` address (``mendoza[postgres]``).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg import pq
from psycopg.adapt import Buffer, Loader
from psycopg_pool import ConnectionPool, PoolTimeout

from mendoza.errors import DiskError, StoreError
from mendoza.store.database import shown_database
from mendoza.store.dialect import Dialect, postgres_ddl

__all__ = ["POSTGRES", "PostgresDatabase"]

# An advisory lock key of mendoza's own (the bytes of "mendoza"), so other programs sharing the database are not
# held up by it.
_WRITE_LOCK = int.from_bytes(b"mendoza", "big")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def postgres_error(where: object, action: str, exc: Exception) -> StoreError:
    """The project's error for a failed PostgreSQL call: a ``DiskError`` when the server's disk is full or
    failing (SQLSTATE 53100, class 58)."""
    state = getattr(exc, "sqlstate", None) or ""
    if state == "53100":
        return DiskError(f"{where}: the database server's disk is full ({_first_line(exc)}); free some space there")
    if state.startswith("58"):
        return DiskError(f"{where}: the database server failed a write ({_first_line(exc)})")
    return StoreError(f"{where}: cannot {action} the database: {_first_line(exc)}")


def _postgres_insert_ids(db: Any, sql: str, rows: Sequence[Sequence[Any]]) -> list[int | None]:
    database: PostgresDatabase = db
    return database.insert_ids(sql, rows)


POSTGRES = Dialect(
    name="postgres",
    error=psycopg.Error,
    data_errors=(
        ValueError,
        TypeError,
        OverflowError,
        RecursionError,
        psycopg.DataError,
        psycopg.IntegrityError,
        psycopg.ProgrammingError,
    ),
    store_error=postgres_error,
    begin_write=f"BEGIN; SELECT pg_advisory_xact_lock({_WRITE_LOCK})",
    begin_shared=f"BEGIN; SELECT pg_advisory_xact_lock_shared({_WRITE_LOCK})",
    concurrent_writers=True,
    insertion_order="seq",
    insert_ids=_postgres_insert_ids,
    holds_nul=False,
    like="ILIKE",
    is_=lambda a, b: f"{a} IS NOT DISTINCT FROM {b}",
    is_not=lambda a, b: f"{a} IS DISTINCT FROM {b}",
    count=lambda condition: f"COUNT(*) FILTER (WHERE {condition})",
    least=lambda a, b: f"LEAST({a}, {b})",
    greatest=lambda a, b: f"GREATEST({a}, {b})",
    json_items=lambda expression, alias: f"json_array_elements_text(({expression})::json) AS {alias}(value)",
    json_field=lambda expression: f"(({expression})::json ->> ?)",
    json_key=lambda key: key,
    first_line=lambda column: f"LEFT(SPLIT_PART({column}, CHR(10), 1), 200)",
    ddl=postgres_ddl,
)


# -- queries and rows -------------------------------------------------------------------------------------------

_LITERALS = re.compile(r"('(?:[^']|'')*')")
#: A plain ``INSERT ... VALUES (?, ...)``: ``executemany`` sends many rows of it as one statement.
_INSERT_VALUES = re.compile(r"(INSERT INTO .+? VALUES )(\((?:\?, )*\?\))(.*)", re.DOTALL)
#: At most this many parameters in one statement (the protocol's limit is 65,535).
_MAX_PARAMETERS = 30_000


@functools.lru_cache(maxsize=2048)
def psycopg_query(sql: str) -> str:
    """``sql`` with SQLite's ``?`` placeholders as psycopg's ``%s`` (and a literal ``%`` as ``%%``)."""
    pieces = _LITERALS.split(sql)
    return "".join(
        piece.replace("%", "%%") if index % 2 else piece.replace("%", "%%").replace("?", "%s")
        for index, piece in enumerate(pieces)
    )


@functools.lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type[tuple[Any, ...]]:
    """A tuple whose items are also found by column name, as ``sqlite3.Row``'s are."""
    index: dict[str, int] = {}
    for position, name in enumerate(names):
        index.setdefault(name, position)

    class Row(tuple[Any, ...]):
        __slots__ = ()

        def __getitem__(self, key: Any) -> Any:
            return tuple.__getitem__(self, index[key] if isinstance(key, str) else key)

        def keys(self) -> list[str]:
            return list(names)

    return Row


def _named_rows(cursor: Any) -> Any:
    description = cursor.description
    return _row_class(tuple(column.name for column in description)) if description else tuple


class _NumberLoader(Loader):
    """``numeric`` as SQLite gives it: an integer (a sum of integers) as ``int``, anything else as ``float``."""

    def load(self, data: Buffer) -> int | float:
        text = bytes(data)
        return int(text) if text.lstrip(b"-").isdigit() else float(text)


def _configure(connection: psycopg.Connection[Any]) -> None:
    connection.adapters.register_loader("numeric", _NumberLoader)


def _read_only(connection: psycopg.Connection[Any]) -> None:
    _configure(connection)
    connection.execute("SET default_transaction_read_only = on")


class _Result:
    """What a statement returned, read at once (its connection goes back to the pool): rows and a count."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return self._rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


class _Cursor:
    """``db.cursor()``: its ``execute`` returns the rows, and the cursor reads them too; rows are plain enough
    already, so ``row_factory`` is accepted and ignored."""

    row_factory: Any = None

    def __init__(self, database: PostgresDatabase) -> None:
        self._database = database
        self._result = _Result([], -1)

    def execute(self, sql: str, args: Sequence[Any] = ()) -> _Result:
        self._result = self._database.execute(sql, args)
        return self._result

    def __iter__(self) -> Iterator[Any]:
        return iter(self._result)


# -- the connection -------------------------------------------------------------------------------------------


class PostgresDatabase:
    """A pool of connections to one PostgreSQL database, used like one ``sqlite3.Connection`` (see the
    module)."""

    def __init__(self, url: str, *, readonly: bool = False, pool_size: int = 8) -> None:
        self.url = url
        self.where = shown_database(url)
        options = {"autocommit": True, "row_factory": _named_rows}
        try:
            # A first connection of our own: a wrong address or password is one line at once, not a pool's
            # retries until its timeout.
            psycopg.connect(url, connect_timeout=10, **options).close()  # type: ignore[arg-type]
        except psycopg.Error as exc:
            raise StoreError(f"{self.where}: cannot connect to the database: {_first_line(exc)}") from None
        self._pool: ConnectionPool[Any] = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs=options,
            configure=_read_only if readonly else _configure,
            open=False,
            name="mendoza",
        )
        try:
            self._pool.open(wait=True, timeout=30)
        except PoolTimeout as exc:
            raise StoreError(f"{self.where}: cannot connect to the database: {_first_line(exc)}") from None
        self._local = threading.local()

    # The statement's connection: the one this thread's transaction holds, else one of the pool's, given back
    # as soon as no transaction is open on it.
    def _take(self) -> psycopg.Connection[Any]:
        held: psycopg.Connection[Any] | None = getattr(self._local, "connection", None)
        return held if held is not None else self._pool.getconn()

    def _give(self, connection: psycopg.Connection[Any]) -> None:
        if connection.info.transaction_status in (pq.TransactionStatus.IDLE, pq.TransactionStatus.UNKNOWN):
            self._local.connection = None
            self._pool.putconn(connection)
        else:
            self._local.connection = connection

    @property
    def in_transaction(self) -> bool:
        """Whether this thread has a transaction open."""
        return getattr(self._local, "connection", None) is not None

    def execute(self, sql: str, args: Sequence[Any] = ()) -> _Result:
        """Run one statement (several, separated by ``;``, when there are no parameters)."""
        connection = self._take()
        try:
            with connection.cursor() as cursor:
                if args:
                    cursor.execute(psycopg_query(sql), args)
                else:  # no parameters: psycopg sends the text as it is
                    cursor.execute(sql)
                rows = cursor.fetchall() if cursor.description is not None else []
                return _Result(rows, cursor.rowcount)
        finally:
            self._give(connection)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> _Result:
        """Run one statement for each row: a plain ``INSERT ... VALUES`` as one statement of many rows (the
        server plans it once, and a statement trigger runs once), anything else pipelined (one round trip)."""
        if not rows:
            return _Result([], 0)
        insert = _INSERT_VALUES.fullmatch(sql)
        connection = self._take()
        try:
            with connection.cursor() as cursor:
                if insert is None or "DO UPDATE" in insert[3] or "RETURNING" in insert[3]:
                    cursor.executemany(psycopg_query(sql), rows)
                    return _Result([], cursor.rowcount)
                head, values, tail = insert[1], insert[2], insert[3]
                per_statement = max(1, _MAX_PARAMETERS // len(rows[0]))
                count = 0
                for start in range(0, len(rows), per_statement):
                    part = rows[start : start + per_statement]
                    cursor.execute(
                        psycopg_query(head + ", ".join([values] * len(part)) + tail),
                        [value for row in part for value in row],
                    )
                    count += max(cursor.rowcount, 0)
                return _Result([], count)
        finally:
            self._give(connection)

    def insert_ids(self, sql: str, rows: Sequence[Sequence[Any]]) -> list[int | None]:
        """Insert each row (``sql`` without RETURNING); the new ids in order, None for a row skipped."""
        if not rows:
            return []
        connection = self._take()
        try:
            with connection.cursor() as cursor:
                cursor.executemany(psycopg_query(sql + " RETURNING id"), rows, returning=True)
                ids: list[int | None] = []
                while True:
                    row = cursor.fetchone()
                    ids.append(None if row is None else int(row[0]))
                    if not cursor.nextset():
                        return ids
        finally:
            self._give(connection)

    def cursor(self) -> _Cursor:
        """A cursor, as ``sqlite3.Connection.cursor``: its ``execute`` returns the rows."""
        return _Cursor(self)

    def close(self) -> None:
        """Close every connection (a transaction still open is rolled back by the server)."""
        held: psycopg.Connection[Any] | None = getattr(self._local, "connection", None)
        if held is not None:
            self._local.connection = None
            self._pool.putconn(held)
        self._pool.close()
