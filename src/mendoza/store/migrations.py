"""The store's schema, as an ordered list of migrations recorded in the ``_migrations`` table.

Add a migration by appending a function ``mNNN_what()`` that returns its SQL; never edit one that has shipped.
The same SQL makes a PostgreSQL store: its column types as ``Dialect.ddl`` writes them there, and where the two
databases differ (triggers, JSON) a twin in ``POSTGRES_TWINS`` under the migration's name.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from mendoza.errors import StoreError
from mendoza.store.dialect import SQLITE, Dialect

__all__ = ["MIGRATIONS", "POSTGRES_TWINS", "apply_migrations", "check_schema_is_ours", "use_wal"]


def m001_initial() -> str:
    """Runs, samples, grades (automatic and human, side by side) and the cache of model calls."""
    return """
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            suite_name TEXT NOT NULL,
            suite_hash TEXT NOT NULL,
            suite_json TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            finished_at TEXT,
            repeats INTEGER NOT NULL,
            variant_ids TEXT NOT NULL,
            n_cases INTEGER NOT NULL,
            expected_samples INTEGER NOT NULL
        );
        CREATE INDEX runs_created ON runs (created_at);

        CREATE TABLE samples (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            case_id TEXT NOT NULL,
            variant_id TEXT NOT NULL,
            repeat INTEGER NOT NULL,
            prompt TEXT,
            output TEXT,
            error TEXT,
            passed INTEGER,
            tokens_in INTEGER,
            tokens_out INTEGER,
            cost REAL,
            latency_ms REAL NOT NULL,
            cached INTEGER NOT NULL,
            seed INTEGER NOT NULL,
            attempts INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (run_id, variant_id, case_id, repeat)
        );

        CREATE TABLE grades (
            id INTEGER PRIMARY KEY,
            sample_id INTEGER NOT NULL REFERENCES samples (id) ON DELETE CASCADE,
            grader TEXT NOT NULL,
            grader_hash TEXT NOT NULL,
            source TEXT NOT NULL,
            passed INTEGER,
            score REAL,
            explanation TEXT NOT NULL,
            error TEXT,
            author TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX grades_sample ON grades (sample_id);

        CREATE TABLE model_cache (
            key TEXT PRIMARY KEY,
            text TEXT NOT NULL,
            tokens_in INTEGER,
            tokens_out INTEGER,
            cost REAL,
            finish_reason TEXT,
            created_at TEXT NOT NULL
        );
    """


def m002_run_options() -> str:
    """How a run samples: ``{"mode": "fixed"}`` or ``{"mode": "adaptive", "budget": N}`` (JSON)."""
    return "ALTER TABLE runs ADD COLUMN options_json TEXT NOT NULL DEFAULT '{}';"


_RUN_CASES = """
        CREATE TABLE run_cases (
            run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            case_id TEXT NOT NULL,
            vars TEXT NOT NULL,
            expected TEXT,
            tags TEXT NOT NULL,
            PRIMARY KEY (run_id, position)
        );
        CREATE INDEX run_cases_case ON run_cases (run_id, case_id);"""

_SAMPLE_FLAGS = """
        ALTER TABLE samples ADD COLUMN human_passed INTEGER;
        ALTER TABLE samples ADD COLUMN graders_disagree INTEGER NOT NULL DEFAULT 0;
        -- Covers the per cell counts, so the grid's filters and sorts read this index, not the texts
        -- (error is NULL but for the few samples that failed: one-line messages).
        CREATE INDEX samples_verdicts ON samples (
            run_id, variant_id, case_id, passed, human_passed, graders_disagree, error
        );"""


def m003_viewer() -> str:
    """What the viewer reads fast: each run's cases, per sample flags, and human verdicts beside automatic ones.

    - ``run_cases``: a run's cases in suite order (id, vars, expected, tags), filled from the suite snapshot by
      a trigger when a run is created, so cases can be paged, searched and filtered by tag in SQL.
    - ``samples.human_passed``: the verdict of the latest human grade of a sample (NULL: none, or cleared),
      kept by a trigger on ``grades``: human grades are added beside automatic ones, never over them.
    - ``samples.graders_disagree``: 1 when the automatic graders of a sample disagree (one passed, another
      failed), kept by a trigger on ``grades``.
    - ``samples_verdicts``: an index that covers the per cell counts of a run (the grid, the overview).

    PostgreSQL writes the triggers and the JSON its own way: ``m003_viewer_postgres``.
    """
    cases_of_new_run = """
        SELECT {run}, item.key, json_extract(item.value, '$.id'),
               COALESCE(json_extract(item.value, '$.vars'), '{{}}'), item.value -> '$.expected',
               COALESCE(json_extract(item.value, '$.tags'), '[]')
        FROM {source}json_each({run_json}, '$.cases') AS item"""
    return f"""{_RUN_CASES}
        INSERT INTO run_cases (run_id, position, case_id, vars, expected, tags)
        {cases_of_new_run.format(run="runs.id", source="runs, ", run_json="runs.suite_json")};
        CREATE TRIGGER runs_cases AFTER INSERT ON runs
        BEGIN
            INSERT INTO run_cases (run_id, position, case_id, vars, expected, tags)
            {cases_of_new_run.format(run="NEW.id", source="", run_json="NEW.suite_json")};
        END;
{_SAMPLE_FLAGS}
        UPDATE samples SET graders_disagree = 1 WHERE id IN (
            SELECT sample_id FROM grades WHERE source = 'auto' AND passed IS NOT NULL
            GROUP BY sample_id HAVING MIN(passed) <> MAX(passed)
        );
        UPDATE samples SET human_passed = (
            SELECT passed FROM grades
            WHERE grades.sample_id = samples.id AND source = 'human' ORDER BY id DESC LIMIT 1
        ) WHERE id IN (SELECT sample_id FROM grades WHERE source = 'human');

        CREATE TRIGGER grades_human_verdict AFTER INSERT ON grades WHEN NEW.source = 'human'
        BEGIN
            UPDATE samples SET human_passed = NEW.passed WHERE id = NEW.sample_id;
        END;
        CREATE TRIGGER grades_auto_disagree AFTER INSERT ON grades
        WHEN NEW.source = 'auto' AND NEW.passed IS NOT NULL
        BEGIN
            UPDATE samples SET graders_disagree = 1
            WHERE id = NEW.sample_id AND graders_disagree = 0 AND EXISTS (
                SELECT 1 FROM grades
                WHERE sample_id = NEW.sample_id AND source = 'auto' AND passed = 1 - NEW.passed
            );
        END;
    """


def m003_viewer_postgres() -> str:
    """``m003_viewer`` on PostgreSQL: the same tables, columns and index, and the same triggers as PL/pgSQL
    functions over ``json`` (the grades' two as one, run once per statement). A PostgreSQL store runs m001 to
    m007 together, on empty tables: there is nothing to fill in from earlier rows. ``json``, not ``jsonb``: a
    case's vars keep their text and order."""
    return f"""{_RUN_CASES}
        CREATE FUNCTION mendoza_run_cases() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO run_cases (run_id, position, case_id, vars, expected, tags)
            SELECT NEW.id, item.position - 1, item.value ->> 'id',
                   COALESCE(NULLIF((item.value -> 'vars')::text, 'null'), '{{}}'), (item.value -> 'expected')::text,
                   COALESCE(NULLIF((item.value -> 'tags')::text, 'null'), '[]')
            FROM json_array_elements(NEW.suite_json::json -> 'cases') WITH ORDINALITY AS item(value, position);
            RETURN NULL;
        END $$;
        CREATE TRIGGER runs_cases AFTER INSERT ON runs FOR EACH ROW EXECUTE FUNCTION mendoza_run_cases();
{_SAMPLE_FLAGS}
        -- Once per statement, over the grades it added (a batch of samples' grades is one statement): the
        -- latest human grade of each sample is its human verdict; an automatic grade that disagrees with
        -- another of its sample's sets the flag. The same end state as SQLite's triggers, row by row. Each
        -- row is looked up by its sample's id (an index), never by a join the planner might scan the run for.
        CREATE FUNCTION mendoza_grade_verdicts() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            grade record;
        BEGIN
            FOR grade IN
                SELECT DISTINCT ON (sample_id) sample_id, passed FROM added
                WHERE source = 'human' ORDER BY sample_id, id DESC
            LOOP
                UPDATE samples SET human_passed = grade.passed WHERE id = grade.sample_id;
            END LOOP;
            FOR grade IN SELECT sample_id, passed FROM added WHERE source = 'auto' AND passed IS NOT NULL LOOP
                IF EXISTS (
                    SELECT 1 FROM grades
                    WHERE sample_id = grade.sample_id AND source = 'auto' AND passed = 1 - grade.passed
                ) THEN
                    UPDATE samples SET graders_disagree = 1 WHERE id = grade.sample_id AND graders_disagree = 0;
                END IF;
            END LOOP;
            RETURN NULL;
        END $$;
        CREATE TRIGGER grades_verdicts AFTER INSERT ON grades REFERENCING NEW TABLE AS added
        FOR EACH STATEMENT EXECUTE FUNCTION mendoza_grade_verdicts();
    """


def m004_soft_evals() -> str:
    """What soft evals need: judges' structured verdicts, regrading, and pairwise preferences.

    - ``grades.detail``: a grader's structured detail as JSON (a judge's votes, reasons, agreement).
    - ``grader_sets``: the grader definitions that count for a run, by revision. A run starts with its suite's
      graders (no row); each ``mendoza regrade`` records a new revision, and the latest one is the run's
      current set: a sample's verdict is then that of the latest grade of each current (name, hash).
    - ``pairwise_judgements``: a judge's preference between two variants' outputs for the same case and
      repeat, asked in both orders; ``winner`` is ``a``, ``b`` or ``tie`` (an inconsistent pair is a tie),
      NULL when the judge could not decide (``error``).
    """
    return """
        ALTER TABLE grades ADD COLUMN detail TEXT;
        CREATE INDEX grades_sample_grader ON grades (sample_id, grader, grader_hash);

        CREATE TABLE grader_sets (
            run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            revision INTEGER NOT NULL,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            grader_hash TEXT NOT NULL,
            spec_json TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (run_id, revision, position)
        );

        CREATE TABLE pairwise_judgements (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            grader TEXT NOT NULL,
            grader_hash TEXT NOT NULL,
            case_id TEXT NOT NULL,
            repeat INTEGER NOT NULL,
            variant_a TEXT NOT NULL,
            variant_b TEXT NOT NULL,
            sample_a INTEGER REFERENCES samples (id) ON DELETE CASCADE,
            sample_b INTEGER REFERENCES samples (id) ON DELETE CASCADE,
            winner TEXT,
            first_order TEXT,
            second_order TEXT,
            explanation TEXT NOT NULL,
            error TEXT,
            detail TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (run_id, grader_hash, variant_a, variant_b, case_id, repeat)
        );
    """


def m005_notes() -> str:
    """A note beside a sample or a run when it was not stored exactly as given: characters UTF-8 cannot hold
    replaced by U+FFFD (NULL: stored as given)."""
    return """
        ALTER TABLE samples ADD COLUMN notes TEXT;
        ALTER TABLE runs ADD COLUMN notes TEXT;
    """


def m006_grading_time() -> str:
    """How long grading a sample took, apart from the model call's latency, and what an app returned beside its
    output (``python:`` apps' extra keys, as JSON) (NULL before this migration, or when none)."""
    return """
        ALTER TABLE samples ADD COLUMN grading_ms REAL;
        ALTER TABLE samples ADD COLUMN metadata_json TEXT;
    """


def m007_steps() -> str:
    """The steps of each sample (an app's spans, tool calls, a conversation's turns), in start order; which step
    a failed sample first failed at (``core.first_failing_step``, NULL: none did); and a cached response's
    steps and metadata (a model's tool calls), so a cached sample keeps them."""
    return """
        CREATE TABLE steps (
            id INTEGER PRIMARY KEY,
            sample_id INTEGER NOT NULL REFERENCES samples (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            span_id TEXT NOT NULL,
            parent_id TEXT,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            start_ms REAL NOT NULL,
            duration_ms REAL NOT NULL,
            input TEXT,
            output TEXT,
            attributes_json TEXT,
            tokens_in INTEGER,
            tokens_out INTEGER,
            cost REAL,
            error TEXT
        );
        CREATE INDEX steps_by_sample ON steps (sample_id, position);
        ALTER TABLE samples ADD COLUMN failed_step TEXT;
        ALTER TABLE model_cache ADD COLUMN steps_json TEXT;
        ALTER TABLE model_cache ADD COLUMN metadata_json TEXT;
    """


MIGRATIONS: list[Callable[[], str]] = [
    m001_initial,
    m002_run_options,
    m003_viewer,
    m004_soft_evals,
    m005_notes,
    m006_grading_time,
    m007_steps,
]

def m001_initial_postgres() -> str:
    """``m001_initial`` on PostgreSQL, with a column that orders runs as they were inserted (SQLite's rowid),
    which breaks ties between runs created in one millisecond."""
    return m001_initial() + "ALTER TABLE runs ADD COLUMN seq INTEGER GENERATED ALWAYS AS IDENTITY;"


#: The migrations PostgreSQL writes its own way, by name (the name recorded is the migration's).
POSTGRES_TWINS: dict[str, Callable[[], str]] = {
    "m001_initial": m001_initial_postgres,
    "m003_viewer": m003_viewer_postgres,
}

_CREATE_RECORD = "CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
# PostgreSQL has no rowid: the order migrations were applied in is a column of its own.
_CREATE_RECORD_POSTGRES = (
    "CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL, "
    "seq BIGINT GENERATED ALWAYS AS IDENTITY)"
)
_TABLES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' "
    "ORDER BY name",
    "postgres": "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
    "ORDER BY table_name",
}


def _version(names: set[str] | list[str]) -> int:
    """The schema version a set of migration names stands for: the highest ``mNNN`` among them."""
    numbers = [int(name[1:4]) for name in names if name[:1] == "m" and name[1:4].isdigit()]
    return max(numbers, default=len(names))


def check_schema_is_ours(db: Any, where: object, dialect: Dialect = SQLITE) -> set[str] | None:
    """Refuse, with one line, a file this mendoza must not write: an SQLite file of another program (tables
    but no ``_migrations``) or one written by a newer mendoza. Returns the migrations recorded (None: none
    yet, a new or empty file). Reads only: a refused file is left exactly as it was."""
    # From sqlite_master, not by trying the table: a statement is prepared against the schema this connection
    # last read, so "no such table" may only mean that another process has just created it.
    tables = [row[0] for row in db.execute(_TABLES[dialect.name])]
    if "_migrations" not in tables:
        if tables:
            shown = ", ".join(tables[:3]) + (", ..." if len(tables) > 3 else "")
            raise StoreError(
                f"{where}: not a mendoza database (it holds other tables: {shown}); "
                "give mendoza a file of its own with --db"
            )
        return None
    recorded = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    unknown = recorded - {migration.__name__ for migration in MIGRATIONS}
    if unknown:
        raise StoreError(
            f"{where}: written by a newer mendoza (schema version {_version(recorded)}; this mendoza knows up to "
            f"{_version([m.__name__ for m in MIGRATIONS])}); upgrade mendoza to write to it"
        )
    return recorded


def _statements(script: str) -> list[str]:
    """The SQL statements of a script, one by one (a trigger's body stays whole)."""
    statements, buffer = [], ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \t\n;"):
                statements.append(buffer)
            buffer = ""
    return statements


_SQLITE_BUSY = 5


def use_wal(db: sqlite3.Connection, patience: float = 10.0) -> None:
    """Put the file in WAL mode. Several processes opening a new file at once may each be refused ("database
    is locked") without the busy timeout's wait while another switches the mode: try again for a while."""
    deadline = time.monotonic() + patience
    delay = 0.002
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF != _SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(2 * delay, 0.1)


def _apply(db: Any, migration: Callable[[], str], dialect: Dialect) -> None:
    """Run one migration's statements (PostgreSQL takes a script whole: its functions' bodies hold ``;``)."""
    if dialect.name == "postgres":
        db.execute(dialect.ddl(POSTGRES_TWINS.get(migration.__name__, migration)()))
        return
    for statement in _statements(migration()):
        db.execute(statement)


def apply_migrations(db: Any, where: object = "the database", dialect: Dialect = SQLITE) -> list[str]:
    """Apply every migration not yet recorded; returns the names applied.

    The check and the migrations run in one transaction holding the write lock (SQLite's ``BEGIN IMMEDIATE``,
    PostgreSQL's advisory lock): several processes opening a new database at once take turns (each waits up
    to the connection's busy timeout), and the ones after the first find the work done. A database refused by
    ``check_schema_is_ours`` is left untouched. ``db`` must be in autocommit mode (``isolation_level=None``).
    """
    recorded = check_schema_is_ours(db, where, dialect)
    if recorded is not None and all(migration.__name__ in recorded for migration in MIGRATIONS):
        return []  # the usual open: nothing to do, and no write lock taken
    applied: list[str] = []
    db.execute(dialect.begin_write)
    try:
        # Again, under the lock: another process may have migrated meanwhile.
        recorded = check_schema_is_ours(db, where, dialect)
        if recorded is None:
            db.execute(_CREATE_RECORD_POSTGRES if dialect.name == "postgres" else _CREATE_RECORD)
            recorded = set()
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        for migration in MIGRATIONS:
            if migration.__name__ in recorded:
                continue
            _apply(db, migration, dialect)
            db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (migration.__name__, stamp))
            applied.append(migration.__name__)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            with contextlib.suppress(dialect.error):
                db.execute("ROLLBACK")
        raise
    return applied
