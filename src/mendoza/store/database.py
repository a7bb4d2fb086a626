"""``Store``: the only code that speaks SQL. One SQLite file in WAL mode, or a PostgreSQL database a team
shares (``Store("postgresql://user@host/db")``, see ``postgres``); samples stream in and out.

One writer connection (the runner's) and any number of read connections (``Store(path, readonly=True)``,
e.g. the viewer's) can be open on the same file at once: WAL lets readers see committed samples while a run
is writing.

A store is made of parts, one module each, sharing one connection (``connection.StorePart``):

- ``store.runs`` (``runs.RunRecords``): create, find (``get("latest")``), status, suite snapshot, cases, tags;
- ``store.samples`` (``samples.SampleRows``): write a batch, stream back (``iterate``), per variant sums;
- ``store.cache`` (``cache.ResponseCache``): model responses by request key;
- ``store.grades`` (``grading.Grades``): grader sets, regrades, the grades that count;
- ``store.labels`` (``labels.HumanLabels``): people's verdicts;
- ``store.pairwise`` (``pairwise.PairwiseJudgements``): a judge's preferences between two variants;
- ``store.outcomes`` (``outcomes.Outcomes``): how samples ended, counted per cell, grader, error;
- ``store.browse`` (``browse.Browse``): a sample, a case's repeats, the grid's pages, for the viewer;
- ``store.steps`` (``steps.StepRecords``): each sample's steps, summed per step name.

Not a part, because it works on two files at once: ``transfer.export_run`` and ``transfer.import_run`` copy one
run out of a store into a portable run file (``.mdz``) and back into a store (docs/run-file.md).

Nothing is lost to one bad value: text UTF-8 cannot hold (a lone UTF-16 surrogate from a model, an app or a
JSON escape in a dataset) is stored as U+FFFD, and the sample or run records a note saying which fields
(``SampleRecord.notes``, ``store.runs.notes``); a sample SQLite refuses outright is stored as an errored sample
saying why. A full or failing disk is a ``DiskError``: the batch being written is rolled back, everything
committed before stays, and the run can be resumed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mendoza.errors import ConfigError, StoreError
from mendoza.store.browse import Browse
from mendoza.store.cache import ResponseCache
from mendoza.store.connection import Connection
from mendoza.store.dialect import SQLITE, Dialect
from mendoza.store.grading import Grades
from mendoza.store.labels import HumanLabels
from mendoza.store.migrations import MIGRATIONS, apply_migrations, check_schema_is_ours, use_wal
from mendoza.store.outcomes import Outcomes
from mendoza.store.pairwise import PairwiseJudgements
from mendoza.store.runs import RunRecords
from mendoza.store.samples import SampleRows
from mendoza.store.steps import StepRecords
from mendoza.store.text import store_error

__all__ = ["DEFAULT_DB_PATH", "Store", "is_database_url", "shown_database"]

DEFAULT_DB_PATH = Path(".mendoza") / "mendoza.db"

_URL_SCHEMES = ("postgresql://", "postgres://")


def is_database_url(db: object) -> bool:
    """Whether ``db`` (``--db``, ``MENDOZA_DB``) names a database server (``postgresql://...``), not a file."""
    return isinstance(db, str) and db.startswith(_URL_SCHEMES)


def shown_database(db: str | Path) -> str:
    """The database as messages show it: a file's path, or a server's address with its password as ``***``."""
    if not is_database_url(db):
        return str(db)
    parts = urlsplit(str(db))
    if parts.password is None:
        return str(db)
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port is not None else "")
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


class Store:
    """A mendoza database, made of parts (see the module). Open with ``Store(path)`` (an SQLite file) or
    ``Store("postgresql://user@host/db")``; close with ``close()`` or a ``with`` block."""

    def __init__(self, path: str | Path = DEFAULT_DB_PATH, *, readonly: bool = False) -> None:
        self.readonly = readonly
        #: The SQLite file; for PostgreSQL, its address as messages show it (the password hidden).
        self.path: Path | str
        #: The PostgreSQL address as given (None: an SQLite file).
        self.url: str | None = None
        if is_database_url(path):
            assert isinstance(path, str)
            self._open_postgres(path)
            return
        self.path = file = Path(path)
        self.dialect: Dialect = SQLITE
        if readonly and not file.is_file():
            raise StoreError(f"{file}: no mendoza database here (run a suite first)")
        try:
            if readonly:
                uri = f"{file.resolve().as_uri()}?mode=ro"
                db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            else:
                file.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(file, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{file}: cannot open the database: {exc}") from None
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA busy_timeout = 10000")
            db.execute("PRAGMA foreign_keys = ON")
            if readonly:
                self._check_schema(db)
            else:
                # Before anything writes: a file of another program, or of a newer mendoza, is left as it was.
                check_schema_is_ours(db, self.path)
                use_wal(db)
                db.execute("PRAGMA synchronous = NORMAL")
                apply_migrations(db, self.path)
        except (StoreError, sqlite3.Error) as exc:
            db.close()
            if isinstance(exc, StoreError):
                raise
            raise store_error(self.path, "open", exc) from None
        self._compose(db)

    def _open_postgres(self, url: str) -> None:
        """Connect to a PostgreSQL database and bring its schema up to date (``mendoza[postgres]``)."""
        try:
            from mendoza.store.postgres import POSTGRES, PostgresDatabase
        except ImportError:
            raise ConfigError(
                f"{url.split('://')[0]}:// needs PostgreSQL's driver: pip install 'mendoza[postgres]'"
            ) from None
        db = PostgresDatabase(url, readonly=self.readonly)
        self.url = url
        self.path = db.where
        self.dialect = POSTGRES
        try:
            if self.readonly:
                self._check_schema(db)
            else:
                check_schema_is_ours(db, db.where, POSTGRES)
                apply_migrations(db, db.where, POSTGRES)
        except (StoreError, POSTGRES.error) as exc:
            db.close()
            if isinstance(exc, StoreError):
                raise
            raise POSTGRES.store_error(db.where, "open", exc) from None
        self._compose(db)

    def _compose(self, db: Any) -> None:
        self._db = db
        connection = Connection(self.path, self.readonly, db, self.dialect)
        self.runs = RunRecords(connection)
        self.samples = SampleRows(connection)
        self.cache = ResponseCache(connection)
        self.grades = Grades(connection)
        self.labels = HumanLabels(connection)
        self.pairwise = PairwiseJudgements(connection)
        self.outcomes = Outcomes(connection)
        self.browse = Browse(connection, self.outcomes)
        self.steps = StepRecords(connection)

    def _check_schema(self, db: Any) -> None:
        """A read-only store cannot migrate: the file must already hold every migration this code knows."""
        if self.dialect is not SQLITE and check_schema_is_ours(db, self.path, self.dialect) is None:
            raise StoreError(f"{self.path}: not a mendoza database (no _migrations table)")
        try:
            applied = {row[0] for row in db.execute("SELECT name FROM _migrations")}
        except sqlite3.OperationalError:
            raise StoreError(f"{self.path}: not a mendoza database (no _migrations table)") from None
        if any(migration.__name__ not in applied for migration in MIGRATIONS):
            raise StoreError(
                f"{self.path}: written by an older mendoza; open it for writing once (run a suite) to upgrade it"
            )

    def close(self) -> None:
        """Close the connection (committed data is already on disk)."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def applied_migrations(self) -> list[str]:
        """Names of the migrations recorded in this database, oldest first."""
        order = self.dialect.insertion_order
        return [row[0] for row in self._db.execute(f"SELECT name FROM _migrations ORDER BY {order}")]
