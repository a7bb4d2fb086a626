"""Run files (``.mdz``) to and from a store on a database server (PostgreSQL).

A run file is an SQLite database; ``transfer`` copies runs between two SQLite files in SQL (one attached to the
other). A server cannot be attached, so its runs go through an SQLite *staging* file, rows and ids as they are:

- export: the run is copied from the server into a new staging store (read in one transaction, so a run being
  written is read in one snapshot), and ``transfer.export_run`` writes the run file from there;
- import: the file is checked (``read_run_file``), then its rows are copied into the server under new ids in one
  transaction holding the write lock, samples first (the new id of each is kept to point its grades, steps and
  judgements at), and the run as the server now holds it is staged and its digest compared with the file's
  before anything is committed. A run the server already holds with the same content is left as it is.
"""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from mendoza.errors import StoreError
from mendoza.store.connection import Row
from mendoza.store.database import Store

__all__ = ["export_server_run", "import_server_run", "stage_run"]

_PAGE = 5_000
# The staging file keeps the server's own values: its triggers (the cases of a new run, a sample's human
# verdict and disagreement flag as grades go in) would recompute them.
_TRIGGERS = ("runs_cases", "grades_human_verdict", "grades_auto_disagree")


def _pages(store: Store, sql: str, args: Sequence[Any]) -> Iterator[list[Row]]:
    """The rows of ``sql`` (a query over alias ``x`` with ``x.id > ?`` and ``LIMIT ?`` as its last parameters),
    a page at a time, by id."""
    after = -1
    while True:
        rows = store._db.execute(sql, (*args, after, _PAGE)).fetchall()
        if not rows:
            return
        yield rows
        after = int(rows[-1]["id"])


def _insert(db: sqlite3.Connection, table: str, rows: Sequence[Row], columns: set[str]) -> None:
    if not rows:
        return
    names = [name for name in list(rows[0].keys()) if name in columns]  # a row's `in` looks at its values
    marks = ", ".join("?" * len(names))
    db.executemany(
        f'INSERT INTO "{table}" ({", ".join(names)}) VALUES ({marks})', [[row[name] for name in names] for row in rows]
    )


def stage_run(store: Store, run_id: str, staging: Path) -> None:
    """Copy run ``run_id`` of a server store into a new SQLite store file ``staging``: every row of the run that
    a run file holds, with its ids and values as they are on the server."""
    Store(staging).close()  # the schema
    db = sqlite3.connect(staging, isolation_level=None)
    try:
        for trigger in _TRIGGERS:
            db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        columns = {
            table: {str(row[1]) for row in db.execute(f'PRAGMA table_info("{table}")')}
            for table in ("runs", "run_cases", "samples", "grades", "steps", "grader_sets", "pairwise_judgements")
        }
        db.execute("BEGIN")
        read = store._db.execute
        _insert(db, "runs", read("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchall(), columns["runs"])
        for table, order in (("run_cases", "position"), ("grader_sets", "revision, position")):
            rows = read(f"SELECT * FROM {table} WHERE run_id = ? ORDER BY {order}", (run_id,)).fetchall()
            _insert(db, table, rows, columns[table])
        for page in _pages(store, "SELECT x.* FROM samples AS x WHERE x.run_id = ? AND x.id > ? ORDER BY x.id LIMIT ?",
                           (run_id,)):
            _insert(db, "samples", page, columns["samples"])
        for table in ("grades", "steps"):
            sql = (f"SELECT x.* FROM {table} AS x JOIN samples AS s ON s.id = x.sample_id "
                   "WHERE s.run_id = ? AND x.id > ? ORDER BY x.id LIMIT ?")
            for page in _pages(store, sql, (run_id,)):
                _insert(db, table, page, columns[table])
        sql = "SELECT x.* FROM pairwise_judgements AS x WHERE x.run_id = ? AND x.id > ? ORDER BY x.id LIMIT ?"
        for page in _pages(store, sql, (run_id,)):
            _insert(db, "pairwise_judgements", page, columns["pairwise_judgements"])
        db.execute("COMMIT")
    finally:
        db.close()


def export_server_run(store: Store, run_id: str, path: Path) -> Any:
    """``transfer.export_run`` of a server store's run (``RunFileInfo``), through a staging file."""
    from mendoza.store.transfer import export_run

    with tempfile.TemporaryDirectory(prefix="mendoza-export-") as folder:
        staging = Path(folder) / "staging.db"
        try:
            with _snapshot(store):
                stage_run(store, run_id, staging)
        except store.dialect.error as exc:
            raise store.dialect.store_error(store.path, "read", exc) from None
        with Store(staging, readonly=True) as staged:
            return export_run(staged, run_id, path)


@contextlib.contextmanager
def _snapshot(store: Store) -> Iterator[None]:
    """One read-only transaction that sees one snapshot of the server (a run being written is read whole)."""
    store._db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        yield
    finally:
        with contextlib.suppress(store.dialect.error):
            store._db.execute("ROLLBACK")


def _server_digest(store: Store, run_id: str, file_columns: dict[str, list[str]], folder: Path) -> str:
    """The digest of run ``run_id`` as the server holds it, over the columns the run file has."""
    from mendoza.store.transfer import run_digest

    staging = folder / f"check-{run_id.encode().hex()[:32]}.db"
    staging.unlink(missing_ok=True)
    stage_run(store, run_id, staging)
    db = sqlite3.connect(staging)
    try:
        return run_digest(db, run_id, file_columns)
    finally:
        db.close()


def import_server_run(store: Store, path: Path, info: Any, new_id: str) -> bool:
    """Copy the checked run file ``path`` (its ``RunFileInfo``) into a server store as ``new_id``; returns
    whether the store held that run already (then nothing is done). See the module."""
    from mendoza.store.transfer import file_columns

    source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    source.row_factory = sqlite3.Row
    db, dialect = store._db, store.dialect
    try:
        columns = file_columns(source)
        with tempfile.TemporaryDirectory(prefix="mendoza-import-") as folder:
            db.execute(dialect.begin_write)
            try:
                if db.execute("SELECT 1 FROM runs WHERE id = ?", (new_id,)).fetchone() is not None:
                    if _server_digest(store, new_id, columns, Path(folder)) != info.digest:
                        raise StoreError(
                            f"{path}: {store.path} already holds a different run {new_id} (its samples, grades or "
                            "labels differ); not imported: import it under another id with --as ID"
                        )
                    db.execute("ROLLBACK")
                    return True
                _copy_into(store, source, info.run_id, new_id)
                if _server_digest(store, new_id, columns, Path(folder)) != info.digest:
                    raise StoreError(
                        f"{path}: a damaged run file (its rows read differently when copied); not imported"
                    )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    with contextlib.suppress(dialect.error):
                        db.execute("ROLLBACK")
                raise
    except dialect.error as exc:
        raise dialect.store_error(store.path, "import into", exc) from None
    finally:
        source.close()
    return False


def _server_columns(store: Store, table: str) -> set[str]:
    rows = store._db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?",
        (table,),
    ).fetchall()
    return {str(row[0]) for row in rows} - {"seq"}


def _copy_into(store: Store, source: sqlite3.Connection, run_id: str, new_id: str) -> None:
    """Every row of run ``run_id`` of the file ``source`` into the server as ``new_id``, inside the caller's
    transaction; sample, grade, step and judgement ids are the server's own."""
    db, dialect = store._db, store.dialect
    present = {str(row[0]) for row in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def copy(table: str, rows: Sequence[sqlite3.Row], replaced: dict[str, Any], ids: bool = False) -> list[int | None]:
        if not rows:
            return []
        server = _server_columns(store, table)
        names = [name for name in list(rows[0].keys()) if name in server and name != "id"]
        names += [name for name in replaced if name not in names]
        values = [[replaced[name](row) if name in replaced else row[name] for name in names] for row in rows]
        sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        if ids:
            return dialect.insert_ids(db, sql, values)
        db.executemany(sql, values)
        return []

    def where(table: str, order: str) -> list[sqlite3.Row]:
        return source.execute(f"SELECT * FROM {table} WHERE run_id = ? ORDER BY {order}", (run_id,)).fetchall()

    copy("runs", source.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchall(), {"id": lambda _: new_id})
    if "run_cases" in present:  # the trigger filled them from the snapshot: take the file's own rows
        db.execute("DELETE FROM run_cases WHERE run_id = ?", (new_id,))
        copy("run_cases", where("run_cases", "position"), {"run_id": lambda _: new_id})
    new_ids: dict[int, int] = {}
    flags: list[tuple[Any, Any, int]] = []
    cursor = source.execute("SELECT * FROM samples WHERE run_id = ? ORDER BY id", (run_id,))
    while page := cursor.fetchmany(_PAGE):
        made = copy("samples", page, {"run_id": lambda _: new_id}, ids=True)
        has_flags = {"human_passed", "graders_disagree"} <= set(page[0].keys())
        for row, new in zip(page, made, strict=True):
            assert new is not None
            new_ids[int(row["id"])] = new
            if has_flags:  # a file written before m003 has none: the trigger's values stand
                flags.append((row["human_passed"], row["graders_disagree"], new))
    for table in ("grades", "steps"):
        if table in present:
            cursor = source.execute(
                f"SELECT g.* FROM {table} AS g JOIN samples AS s ON s.id = g.sample_id WHERE s.run_id = ? "
                "ORDER BY g.id",
                (run_id,),
            )
            while page := cursor.fetchmany(_PAGE):
                copy(table, page, {"sample_id": lambda row: new_ids[int(row["sample_id"])]})
    if "grader_sets" in present:
        copy("grader_sets", where("grader_sets", "revision, position"), {"run_id": lambda _: new_id})
    if "pairwise_judgements" in present:
        def mapped(name: str) -> Any:
            return lambda row: None if row[name] is None else new_ids.get(int(row[name]))

        copy("pairwise_judgements", where("pairwise_judgements", "id"),
             {"run_id": lambda _: new_id, "sample_a": mapped("sample_a"), "sample_b": mapped("sample_b")})
    # The grades' trigger recomputed each sample's human verdict and disagreement flag: keep the file's values.
    if flags:
        db.executemany("UPDATE samples SET human_passed = ?, graders_disagree = ? WHERE id = ?", flags)
