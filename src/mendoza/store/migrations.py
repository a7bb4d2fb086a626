"""The store's schema, as an ordered list of migrations recorded in the ``_migrations`` table.

Add a migration by appending a function ``mNNN_what()`` that returns its SQL; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["MIGRATIONS", "apply_migrations"]


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


MIGRATIONS: list[Callable[[], str]] = [m001_initial]


def apply_migrations(db: sqlite3.Connection) -> list[str]:
    """Apply every migration not yet recorded, each in its own transaction; returns the names applied."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    applied = []
    for migration in MIGRATIONS:
        if migration.__name__ in done:
            continue
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        # One script, one transaction: a migration is applied whole or not at all.
        try:
            record = f"INSERT INTO _migrations (name, applied_at) VALUES ('{migration.__name__}', '{stamp}');"
            db.executescript(f"BEGIN;\n{migration()}\n{record}\nCOMMIT;")
        except sqlite3.Error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        applied.append(migration.__name__)
    return applied
