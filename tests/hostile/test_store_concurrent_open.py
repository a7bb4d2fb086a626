"""Several processes opening one new database at once (issue 10, item 5): each must find the schema whole,
never "table runs already exists", "duplicate column name" or "database is locked"."""

from __future__ import annotations

import multiprocessing
import sqlite3
from multiprocessing.synchronize import Barrier
from pathlib import Path

from mendoza.store import Store
from mendoza.store.migrations import MIGRATIONS
from tests.store.factories import make_suite

PROCESSES = 6
ROUNDS = 15


def _open_and_write(path: str, barrier: Barrier, results: multiprocessing.SimpleQueue[str], name: str) -> None:
    try:
        barrier.wait(timeout=30)
        with Store(path) as store:
            store.runs.create(make_suite(n_cases=1, variant_ids=("a",), repeats=1), name)
        results.put("ok")
    except Exception as exc:  # every failure is reported to the parent, by its message
        results.put(f"{type(exc).__name__}: {exc}")


def open_at_once(path: Path, processes: int = PROCESSES) -> list[str]:
    """Start ``processes`` processes that open (and write to) the new file ``path`` at the same moment; what
    each reported: "ok" or its error."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(processes)
    results: multiprocessing.SimpleQueue[str] = context.SimpleQueue()
    workers = [
        context.Process(target=_open_and_write, args=(str(path), barrier, results, f"run-{index}"))
        for index in range(processes)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return [results.get() for _ in workers]


def test_processes_opening_a_new_database_at_once_all_succeed(tmp_path: Path) -> None:
    # The old code failed 24-29 of these 90 opens ("table runs already exists", "duplicate column name").
    failures: list[str] = []
    for round_ in range(ROUNDS):
        path = tmp_path / f"round-{round_}.db"
        failed = [outcome for outcome in open_at_once(path) if outcome != "ok"]
        failures += failed
        with sqlite3.connect(path) as raw:
            names = [row[0] for row in raw.execute("SELECT name FROM _migrations ORDER BY rowid")]
            runs = raw.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        assert names == [migration.__name__ for migration in MIGRATIONS]  # each migration once
        assert runs == PROCESSES - len(failed)  # every process that succeeded could write
    assert failures == [], f"{len(failures)} of {PROCESSES * ROUNDS} opens failed: {sorted(set(failures))[:3]}"
