"""Portable runs: one run copied out of a store into a run file (``.mdz``), and from a run file into a store.

A run file is an SQLite database with the store's own schema (the same migrations, recorded in ``_migrations``),
holding exactly one run with everything recorded about it: the run and its suite snapshot, ``run_cases``,
``samples``, ``grades`` (the graders' and people's labels), ``steps``, ``grader_sets`` (regrades) and
``pairwise_judgements``. Not the model cache. A table ``mdz_meta`` (key, value) says what the file is: the
format (``mendoza.run-file/1``), the run's id, the mendoza version and the time it was exported, the rows of
each table and a digest of the run's content. ``docs/run-file.md`` is the format's description; the store
code reads a run file as it is (``Store(path, readonly=True)``).

Copying is SQL: the source is attached read-only to a connection on the destination, and each table is one
``INSERT ... SELECT`` in one transaction (all or nothing). Sample, grade, step and judgement ids are the
destination's own: samples are inserted in their source order, a temporary table maps each source sample id to
the new one by the sample's key (run, variant, case, repeat), and grades, steps and judgements follow through
it, each in source order, so "the latest grade" stays the latest. The columns copied are those both sides
have, so a file written before a migration reads into a newer store.

The digest (sha-256) is over the run's content without any id (``_content``: each table's rows in a fixed
order, samples named by their key): it finds a damaged file (SQLite keeps no checksum of its own) and tells
whether a store already holds the run a file carries (importing it again is then a no-op).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from mendoza.core import Run
from mendoza.errors import DiskError, StoreError
from mendoza.store.connection import utc_now
from mendoza.store.database import Store
from mendoza.store.migrations import MIGRATIONS, apply_migrations
from mendoza.store.text import store_error

__all__ = [
    "RUN_FILE_FORMAT",
    "RUN_FILE_SUFFIX",
    "TRANSFERRED_TABLES",
    "ImportedRun",
    "RunFileInfo",
    "export_run",
    "import_run",
    "read_run_file",
]

#: What ``mdz_meta.format`` says: the name of the format and its major version. A reader refuses a higher one.
RUN_FILE_FORMAT = "mendoza.run-file/1"
RUN_FILE_SUFFIX = ".mdz"
_FORMAT_NAME, _FORMAT_VERSION = RUN_FILE_FORMAT.rsplit("/", 1)

#: The tables a run file holds, in the order they are copied. The store's other tables stay out: the model
#: cache (``model_cache``) and the migrations' record (the file has its own). A migration's new table that
#: belongs to a run goes here, into ``_copy_run`` and ``_content``, and into docs/run-file.md (a test fails
#: until the table is here or named as left out).
TRANSFERRED_TABLES = (
    "runs",
    "run_cases",
    "samples",
    "grades",
    "steps",
    "grader_sets",
    "pairwise_judgements",
)

_META = "CREATE TABLE mdz_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
_SAMPLE_KEY = ("variant_id", "case_id", "repeat")


@dataclass(frozen=True, slots=True)
class RunFileInfo:
    """What a run file's header says: its format, run, who wrote it and when, its rows per table."""

    path: Path
    format: str
    run_id: str
    suite_name: str
    mendoza_version: str
    exported_at: str
    rows: dict[str, int]
    digest: str

    @property
    def samples(self) -> int:
        """How many samples the run file holds."""
        return self.rows.get("samples", 0)


@dataclass(frozen=True, slots=True)
class ImportedRun:
    """The run a run file was imported as; ``already_there``: the store held it already (nothing was done)."""

    run: Run
    file: RunFileInfo
    already_there: bool


def _one_line(exc: BaseException, limit: int = 200) -> str:
    """An error's message on one line, cut to ``limit`` characters (SQLite quotes a damaged schema whole)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _uri(path: Path, mode: str) -> str:
    return f"{path.resolve().as_uri()}?mode={mode}"


def _columns(db: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [str(row[1]) for row in db.execute(f'PRAGMA "{schema}".table_info("{table}")')]


def _tables(db: sqlite3.Connection, schema: str) -> set[str]:
    rows = db.execute(f"SELECT name FROM \"{schema}\".sqlite_master WHERE type = 'table'")
    return {str(row[0]) for row in rows}


# -- the content of a run, without ids ------------------------------------------------------------------------


def _content(db: sqlite3.Connection, schema: str, run_id: str, columns: dict[str, list[str]]) -> Iterator[str]:
    """The queries whose rows, in order, are the content of ``run_id`` in ``schema``: no sample, grade, step or
    judgement id and no run id, so a copy under new ids (or another run id) has the same content. ``columns``:
    the columns to read per table (those of the run file; a table it lacks is left out)."""
    s = f'"{schema}"'

    def listed(alias: str, table: str, leave_out: tuple[str, ...]) -> str:
        return ", ".join(f'{alias}."{c}"' for c in columns[table] if c not in leave_out)

    key = ", ".join(f"s.{c}" for c in _SAMPLE_KEY)
    if "runs" in columns:
        yield f"SELECT {listed('r', 'runs', ('id',))} FROM {s}.runs r WHERE r.id = :run"
    if "run_cases" in columns:
        yield (f"SELECT {listed('c', 'run_cases', ('run_id',))} FROM {s}.run_cases c WHERE c.run_id = :run "
               "ORDER BY c.position")
    if "samples" in columns:
        yield (f"SELECT {listed('s', 'samples', ('id', 'run_id'))} FROM {s}.samples s WHERE s.run_id = :run "
               f"ORDER BY {key}")
    for table, order in (("grades", "g.id"), ("steps", "g.position, g.id")):
        if table in columns:
            yield (f"SELECT {key}, {listed('g', table, ('id', 'sample_id'))} FROM {s}.samples s "
                   f"JOIN {s}.{table} g ON g.sample_id = s.id WHERE s.run_id = :run ORDER BY {key}, {order}")
    if "grader_sets" in columns:
        yield (f"SELECT {listed('g', 'grader_sets', ('run_id',))} FROM {s}.grader_sets g WHERE g.run_id = :run "
               "ORDER BY g.revision, g.position")
    if "pairwise_judgements" in columns:
        listed_p = listed("p", "pairwise_judgements", ("id", "run_id", "sample_a", "sample_b"))
        yield (f"SELECT {listed_p}, p.sample_a IS NULL, p.sample_b IS NULL FROM {s}.pairwise_judgements p "
               "WHERE p.run_id = :run ORDER BY p.grader_hash, p.variant_a, p.variant_b, p.case_id, p.repeat, p.id")


def _digest(db: sqlite3.Connection, schema: str, run_id: str, columns: dict[str, list[str]]) -> str:
    """sha-256 of the content of ``run_id`` in ``schema`` (see ``_content``)."""
    digest = hashlib.sha256()
    for query in _content(db, schema, run_id, columns):
        digest.update(b"\x00table\x00")
        for row in db.execute(query, {"run": run_id}):
            digest.update(repr(tuple(row)).encode("utf-8", "surrogatepass"))
            digest.update(b"\n")
    return digest.hexdigest()


def _file_columns(db: sqlite3.Connection, schema: str) -> dict[str, list[str]]:
    """The columns of each transferred table a run file (or a store) has."""
    present = _tables(db, schema)
    return {table: _columns(db, schema, table) for table in TRANSFERRED_TABLES if table in present}


def file_columns(db: sqlite3.Connection) -> dict[str, list[str]]:
    """The columns of each transferred table the SQLite database ``db`` has."""
    return _file_columns(db, "main")


def run_digest(db: sqlite3.Connection, run_id: str, columns: dict[str, list[str]]) -> str:
    """The digest of run ``run_id`` of the SQLite database ``db``, over ``columns`` (see ``_content``)."""
    return _digest(db, "main", run_id, columns)


# -- copying ---------------------------------------------------------------------------------------------------


def _copy_run(db: sqlite3.Connection, source: str, run_id: str, new_id: str) -> None:
    """Copy run ``run_id`` of schema ``source`` into ``main`` as ``new_id``, inside the caller's transaction."""
    src = f'"{source}"'
    present = _tables(db, source)
    params = {"run": run_id, "new": new_id}

    def common(table: str, replaced: dict[str, str], alias: str) -> tuple[str, str]:
        """The destination's column list and the matching select list (``replaced``: expressions by column)."""
        have = set(_columns(db, source, table))
        names = [c for c in _columns(db, "main", table) if c in have or c in replaced]
        picks = [replaced.get(c, f'{alias}."{c}"') for c in names]
        return ", ".join(f'"{c}"' for c in names), ", ".join(picks)

    into, pick = common("runs", {"id": ":new"}, "r")
    db.execute(f"INSERT INTO main.runs ({into}) SELECT {pick} FROM {src}.runs r WHERE r.id = :run", params)
    if "run_cases" in present:  # the trigger of m003 filled them from the snapshot: take the file's own rows
        db.execute("DELETE FROM main.run_cases WHERE run_id = :new", params)
        into, pick = common("run_cases", {"run_id": ":new"}, "c")
        db.execute(
            f"INSERT INTO main.run_cases ({into}) SELECT {pick} FROM {src}.run_cases c WHERE c.run_id = :run "
            "ORDER BY c.position",
            params,
        )
    into, pick = common("samples", {"id": "NULL", "run_id": ":new"}, "s")
    db.execute(
        f"INSERT INTO main.samples ({into}) SELECT {pick} FROM {src}.samples s WHERE s.run_id = :run ORDER BY s.id",
        params,
    )
    db.execute("CREATE TEMP TABLE IF NOT EXISTS transfer_ids (old_id INTEGER PRIMARY KEY, new_id INTEGER NOT NULL)")
    db.execute("CREATE UNIQUE INDEX IF NOT EXISTS temp.transfer_ids_new ON transfer_ids (new_id)")
    db.execute("DELETE FROM temp.transfer_ids")
    db.execute(
        f"INSERT INTO temp.transfer_ids (old_id, new_id) SELECT s.id, d.id FROM {src}.samples s JOIN main.samples d "
        "ON d.run_id = :new AND d.variant_id = s.variant_id AND d.case_id = s.case_id AND d.repeat = s.repeat "
        "WHERE s.run_id = :run",
        params,
    )
    for table in ("grades", "steps"):
        if table in present:
            into, pick = common(table, {"id": "NULL", "sample_id": "m.new_id"}, "g")
            db.execute(
                f"INSERT INTO main.{table} ({into}) SELECT {pick} FROM temp.transfer_ids m "
                f"JOIN {src}.{table} g ON g.sample_id = m.old_id ORDER BY g.id"
            )
    if "grader_sets" in present:
        into, pick = common("grader_sets", {"run_id": ":new"}, "g")
        db.execute(
            f"INSERT INTO main.grader_sets ({into}) SELECT {pick} FROM {src}.grader_sets g WHERE g.run_id = :run "
            "ORDER BY g.revision, g.position",
            params,
        )
    if "pairwise_judgements" in present:
        replaced = {"id": "NULL", "run_id": ":new", "sample_a": "ma.new_id", "sample_b": "mb.new_id"}
        into, pick = common("pairwise_judgements", replaced, "p")
        db.execute(
            f"INSERT INTO main.pairwise_judgements ({into}) SELECT {pick} FROM {src}.pairwise_judgements p "
            "LEFT JOIN temp.transfer_ids ma ON ma.old_id = p.sample_a "
            "LEFT JOIN temp.transfer_ids mb ON mb.old_id = p.sample_b "
            "WHERE p.run_id = :run ORDER BY p.id",
            params,
        )
    # The triggers of m003 recomputed each sample's human verdict and disagreement flag as the grades went in;
    # the source's own values are the ones to keep.
    kept = [c for c in ("human_passed", "graders_disagree") if c in _columns(db, source, "samples")]
    if kept:
        targets = ", ".join(kept)
        values = ", ".join(f"s.{c}" for c in kept)
        db.execute(
            f"UPDATE main.samples SET ({targets}) = (SELECT {values} FROM temp.transfer_ids m "
            f"JOIN {src}.samples s ON s.id = m.old_id WHERE m.new_id = main.samples.id) WHERE run_id = :new",
            params,
        )
    db.execute("DELETE FROM temp.transfer_ids")


# -- export ----------------------------------------------------------------------------------------------------


def _mendoza_version() -> str:
    try:
        return version("mendoza")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def export_run(store: Store, run_ref: str, path: str | Path) -> RunFileInfo:
    """Write run ``run_ref`` (an id, a unique prefix, or ``latest``) of ``store`` to the run file ``path``
    (replaced if it exists; written beside it first and renamed, so a failed export leaves no half file)."""
    path = Path(path)
    run = store.runs.get(run_ref)
    if not isinstance(store.path, Path):  # a database server: through an SQLite staging file
        from mendoza.store.transfer_server import export_server_run

        info: RunFileInfo = export_server_run(store, run.id, path)
        return info
    if path.exists() and path.resolve() == store.path.resolve():
        raise StoreError(f"{path}: is the store itself; give the run file another name")
    if path.is_dir():
        raise StoreError(f"{path}: is a folder; give the run file's name (e.g. {run.id}{RUN_FILE_SUFFIX})")
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        db = sqlite3.connect(_uri(partial, "rwc"), uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot write the run file: {_one_line(exc)}") from None
    try:
        try:
            apply_migrations(db, path)
            db.execute(_META)
            db.execute("ATTACH DATABASE ? AS source", (_uri(store.path, "ro"),))
            db.execute("BEGIN")  # the source is read in one snapshot, whatever a run writes meanwhile
            _copy_run(db, "source", run.id, run.id)
            columns = _file_columns(db, "main")
            rows = {table: _count(db, table) for table in columns}
            meta = {
                "format": RUN_FILE_FORMAT,
                "run_id": run.id,
                "suite_name": run.suite_name,
                "mendoza_version": _mendoza_version(),
                "exported_at": utc_now(),
                "digest": _digest(db, "main", run.id, columns),
            } | {f"rows.{table}": str(count) for table, count in rows.items()}
            db.executemany("INSERT INTO mdz_meta (key, value) VALUES (?, ?)", meta.items())
            db.execute("COMMIT")
            db.execute("DETACH DATABASE source")
        except sqlite3.Error as exc:
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            failure = store_error(path, "write", exc)
            if not isinstance(failure, DiskError):
                failure = StoreError(f"{path}: cannot write the run file: {_one_line(exc)}")
            raise failure from None
        finally:
            db.close()
        os.replace(partial, path)
    except OSError as exc:
        raise StoreError(f"{path}: cannot write the run file: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
    return _info(path, meta, rows)


def _count(db: sqlite3.Connection, table: str) -> int:
    return int(db.execute(f'SELECT COUNT(*) FROM main."{table}"').fetchone()[0])


def _info(path: Path, meta: dict[str, str], rows: dict[str, int]) -> RunFileInfo:
    return RunFileInfo(
        path=path,
        format=meta["format"],
        run_id=meta["run_id"],
        suite_name=meta.get("suite_name", ""),
        mendoza_version=meta.get("mendoza_version", ""),
        exported_at=meta.get("exported_at", ""),
        rows=rows,
        digest=meta.get("digest", ""),
    )


# -- reading and checking a run file --------------------------------------------------------------------------

_SQLITE_HEADER = b"SQLite format 3\x00"


def read_run_file(path: str | Path) -> RunFileInfo:
    """The header of the run file ``path``, after checking the whole file: an SQLite database, a run file of a
    format and schema this mendoza reads, undamaged (SQLite's own check, the rows and the digest of the header),
    holding one run. Anything else is a ``StoreError`` of one line naming the file."""
    path = Path(path)
    if not path.exists():
        raise StoreError(f"{path}: no such run file")
    if not path.is_file():
        raise StoreError(f"{path}: not a run file (not a regular file)")
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the run file: {exc.strerror or exc}") from None
    if head != _SQLITE_HEADER:
        raise StoreError(f"{path}: not a mendoza run file (not an SQLite database)")
    try:
        db = sqlite3.connect(_uri(path, "ro"), uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the run file: {_one_line(exc)}") from None
    try:
        return _checked(db, path)
    except (sqlite3.Error, ValueError) as exc:  # ValueError: text that is not UTF-8, a number out of range
        raise StoreError(f"{path}: a damaged run file ({_one_line(exc)})") from None
    finally:
        db.close()


def _checked(db: sqlite3.Connection, path: Path) -> RunFileInfo:
    tables = sorted(_tables(db, "main") - {"sqlite_sequence"})
    if "mdz_meta" not in tables:
        if "_migrations" in tables:
            raise StoreError(
                f"{path}: a mendoza database, not a run file (write one from it with: "
                f"mendoza export RUN --db {path} -o run{RUN_FILE_SUFFIX})"
            )
        held = f"it holds other tables: {', '.join(tables[:3])}{', ...' if len(tables) > 3 else ''}" if tables \
            else "it holds no tables"
        raise StoreError(f"{path}: not a mendoza run file ({held})")
    meta = {str(key): str(value) for key, value in db.execute("SELECT key, value FROM mdz_meta")}
    written = meta.get("format", "")
    name, _, version = written.rpartition("/")
    if name != _FORMAT_NAME:
        raise StoreError(f"{path}: not a mendoza run file (format {written!r}, expected {RUN_FILE_FORMAT})")
    if not version.isdigit():
        raise StoreError(f"{path}: a damaged run file (format {written!r})")
    if int(version) > int(_FORMAT_VERSION):
        raise StoreError(
            f"{path}: written by a newer mendoza (format {written}; this mendoza reads {RUN_FILE_FORMAT}): "
            "upgrade mendoza to read it"
        )
    if "_migrations" not in tables:
        raise StoreError(f"{path}: a damaged run file (no _migrations table)")
    known = {migration.__name__ for migration in MIGRATIONS}
    unknown = sorted({str(row[0]) for row in db.execute("SELECT name FROM _migrations")} - known)
    if unknown:
        raise StoreError(
            f"{path}: written by a newer mendoza (its schema has {unknown[-1]}, unknown here): upgrade mendoza to "
            "read it"
        )
    problems = [str(row[0]) for row in db.execute("PRAGMA quick_check(3)")]
    if problems != ["ok"]:
        said = " ".join(problems).replace("*** in database main ***", "")
        raise StoreError(f"{path}: a damaged run file ({_one_line(ValueError(said))})")
    for key in ("run_id", "digest"):
        if key not in meta:
            raise StoreError(f"{path}: a damaged run file (no {key} in its header)")
    run_ids = [str(row[0]) for row in db.execute("SELECT id FROM runs LIMIT 2")]
    if run_ids != [meta["run_id"]]:
        found = f"run {run_ids[0]!r}" if len(run_ids) == 1 else f"{_count(db, 'runs')} runs"
        raise StoreError(f"{path}: a damaged run file (its header names run {meta['run_id']!r}, it holds {found})")
    columns = _file_columns(db, "main")
    rows = {table: _count(db, table) for table in columns}
    for table, count in rows.items():
        header_says = meta.get(f"rows.{table}")
        if header_says != str(count):
            raise StoreError(f"{path}: a damaged run file ({table}: {count} rows, its header says {header_says})")
    if _digest(db, "main", meta["run_id"], columns) != meta["digest"]:
        raise StoreError(f"{path}: a damaged run file (its content does not match the digest in its header)")
    return _info(path, meta, rows)


# -- import ----------------------------------------------------------------------------------------------------


def import_run(store: Store, path: str | Path, *, run_id: str | None = None) -> ImportedRun:
    """Import the run of the run file ``path`` into ``store`` (as ``run_id`` when given, else under its own id).

    A run already in the store with that id and the same content (everything the file holds, ids aside) is
    left as it is (``already_there``); a different run with that id is refused (``StoreError``: give another
    ``run_id``). The file is checked first (``read_run_file``); the copy is one transaction."""
    path = Path(path)
    if store.readonly:
        raise StoreError(f"{store.path}: opened read-only; cannot import {path} into it")
    info = read_run_file(path)
    new_id = info.run_id if run_id is None else run_id
    if not new_id.strip() or new_id == "latest" or new_id != new_id.strip():
        raise StoreError(f"{new_id!r}: not a usable run id (give one without surrounding spaces, not 'latest')")
    if not isinstance(store.path, Path):  # a database server: row by row, see ``transfer_server``
        from mendoza.store.transfer_server import import_server_run

        already = import_server_run(store, path, info, new_id)
        return ImportedRun(store.runs.get(new_id), info, already)
    try:
        db = sqlite3.connect(_uri(store.path, "rw"), uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise store_error(store.path, "open", exc) from None
    try:
        db.execute("PRAGMA busy_timeout = 10000")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("ATTACH DATABASE ? AS source", (_uri(path, "ro"),))
        db.execute("BEGIN IMMEDIATE")
        already = db.execute("SELECT 1 FROM main.runs WHERE id = ?", (new_id,)).fetchone() is not None
        if already:
            columns = _file_columns(db, "source")
            if _digest(db, "main", new_id, columns) != info.digest:
                raise StoreError(
                    f"{path}: {store.path} already holds a different run {new_id} (its samples, grades or labels "
                    f"differ); not imported: import it under another id with --as ID"
                )
        else:
            _copy_run(db, "source", info.run_id, new_id)
            # What went in is what was exported: the copy read the file through other queries (and indexes)
            # than the check did.
            if _digest(db, "main", new_id, _file_columns(db, "source")) != info.digest:
                raise StoreError(f"{path}: a damaged run file (its rows read differently when copied); not imported")
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        raise store_error(store.path, "import into", exc) from None
    except ValueError as exc:  # text of the store's run that is not UTF-8 (the file's was read once already)
        raise StoreError(f"{store.path}: cannot read run {new_id} beside {path}: {_one_line(exc)}") from None
    finally:
        if db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
        db.close()
    return ImportedRun(store.runs.get(new_id), info, already)
