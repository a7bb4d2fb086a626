"""What differs between the store's two databases, SQLite (the default: one file) and PostgreSQL (a server a team
shares), in one small object; every query is written once, in the SQL the two agree on, and asks its
``Dialect`` only for what they do not: a comparison that treats NULL as a value (``IS 1``), counting the rows
where a condition holds, the smaller of two numbers, a JSON array's items, an error's first line, column types,
the statement that takes the write lock, and how a database's errors are told apart.

Placeholders are ``?`` everywhere: the PostgreSQL connection (``store.postgres``) turns them into psycopg's
``%s``. ``SQLITE`` is the dialect of every file store; ``store.postgres.POSTGRES`` that of a server.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mendoza.errors import StoreError
from mendoza.store.text import DATA_ERRORS, store_error

__all__ = ["SQLITE", "Dialect", "sqlite_insert_ids"]


def sqlite_insert_ids(db: Any, sql: str, rows: Sequence[Sequence[Any]]) -> list[int | None]:
    """Each row inserted in turn; the new row's id, or None where the insert did nothing (a conflict)."""
    ids: list[int | None] = []
    execute = db.execute
    for row in rows:
        cursor = execute(sql, row)
        ids.append(cursor.lastrowid if cursor.rowcount else None)
    return ids


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one database spells what the two do not share (see the module)."""

    name: str
    #: Every error the database's driver raises (the base class).
    error: type[Exception]
    #: What one value (not the database) can raise when it is written: see ``text.DATA_ERRORS``.
    data_errors: tuple[type[Exception], ...]
    #: Turns a driver error into mendoza's (``StoreError``; ``DiskError`` for a full or failing disk).
    store_error: Callable[[object, str, Exception], StoreError]
    #: Starts a write transaction holding the store's write lock (writers take turns), and its shared form:
    #: writers that cannot conflict (samples, by their unique key) hold it together, and wait only for the
    #: exclusive writers.
    begin_write: str
    begin_shared: str
    #: Whether writers on other machines may write at once (batches are then written in key order).
    concurrent_writers: bool
    #: The column that orders rows of ``runs`` and ``_migrations`` by insertion (breaks ties of time).
    insertion_order: str
    #: Inserts rows one statement for all (``sql`` has no RETURNING); the new ids, None for a row skipped.
    insert_ids: Callable[[Any, str, Sequence[Sequence[Any]]], list[int | None]]
    #: Whether text may hold NUL characters (PostgreSQL's cannot: they are stored as U+FFFD, noted).
    holds_nul: bool
    #: ``LIKE`` as SQLite's: ASCII letters match either case.
    like: str
    #: ``a IS b`` where NULL is a value like any other.
    is_: Callable[[object, object], str]
    is_not: Callable[[object, object], str]
    #: How many rows of a group a condition (never NULL) holds for.
    count: Callable[[str], str]
    #: The smaller / larger of two numbers.
    least: Callable[[object, object], str]
    greatest: Callable[[object, object], str]
    #: A table of the items of a JSON array held as text, named ``alias``, its items in ``alias.value``.
    json_items: Callable[[str, str], str]
    #: The text of a top-level key of a JSON object held as text; ``json_key(name)`` is the parameter to bind.
    json_field: Callable[[str], str]
    json_key: Callable[[str], str]
    #: The first line of a text column, at most 200 characters.
    first_line: Callable[[str], str]
    #: A migration's DDL as this database writes its column types.
    ddl: Callable[[str], str]


def _sqlite_first_line(column: str) -> str:
    return f"SUBSTR(SUBSTR({column}, 1, INSTR({column} || CHAR(10), CHAR(10)) - 1), 1, 200)"


SQLITE = Dialect(
    name="sqlite",
    error=sqlite3.Error,
    data_errors=DATA_ERRORS,
    store_error=store_error,
    begin_write="BEGIN IMMEDIATE",
    begin_shared="BEGIN IMMEDIATE",
    concurrent_writers=False,
    insertion_order="rowid",
    insert_ids=sqlite_insert_ids,
    holds_nul=True,
    like="LIKE",
    is_=lambda a, b: f"{a} IS {b}",
    is_not=lambda a, b: f"{a} IS NOT {b}",
    count=lambda condition: f"SUM({condition})",
    least=lambda a, b: f"MIN({a}, {b})",
    greatest=lambda a, b: f"MAX({a}, {b})",
    json_items=lambda expression, alias: f"json_each({expression}) AS {alias}",
    json_field=lambda expression: f"json_extract({expression}, ?)",
    json_key=lambda key: f"$.{key}",
    first_line=_sqlite_first_line,
    ddl=lambda script: script,
)

_INTEGER_KEY = re.compile(r"\bINTEGER PRIMARY KEY\b")
_INTEGER = re.compile(r"\bINTEGER\b")
_REAL = re.compile(r"\bREAL\b")
_BLOB = re.compile(r"\bBLOB\b")


def postgres_ddl(script: str) -> str:
    """SQLite's column types as PostgreSQL writes them: an ``INTEGER PRIMARY KEY`` is an identity column,
    integers are 64-bit (as SQLite's are), ``REAL`` is double precision (as SQLite's is), ``BLOB`` is
    ``BYTEA``."""
    script = _INTEGER_KEY.sub("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", script)
    script = _INTEGER.sub("BIGINT", script)
    script = _REAL.sub("DOUBLE PRECISION", script)
    return _BLOB.sub("BYTEA", script)
