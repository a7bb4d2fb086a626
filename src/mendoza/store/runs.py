"""Runs: recording a run with a snapshot of its suite, finding one by id or prefix, its status, its cases.

``RunRecords`` is the ``runs`` part of ``Store`` (``store.runs.get("latest")``).
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from mendoza.core import Run, RunStatus, Suite
from mendoza.errors import RunNotFound
from mendoza.store.connection import Row, StorePart, utc_now
from mendoza.store.records import CaseRecord
from mendoza.store.rows import case_from_row
from mendoza.store.text import Replacements, safe_text

__all__ = ["RunRecords", "new_run_id"]


def new_run_id() -> str:
    """A run id that sorts by time and is unique: ``20261126-233812-4f1a``."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)


def _run_from_row(row: Row) -> Run:
    return Run(
        id=row["id"],
        suite_name=row["suite_name"],
        suite_hash=row["suite_hash"],
        status=row["status"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        repeats=row["repeats"],
        variant_ids=tuple(json.loads(row["variant_ids"])),
        n_cases=row["n_cases"],
        expected_samples=row["expected_samples"],
        done_samples=row["done_samples"],
        options=json.loads(row["options_json"] or "{}"),
    )


# created_at has millisecond precision; insertion order (SQLite's rowid) breaks ties between runs made in one.
_NEWEST_FIRST = "created_at DESC, {order} DESC"
_RUN_COLUMNS = "runs.*, (SELECT COUNT(*) FROM samples WHERE samples.run_id = runs.id) AS done_samples"


class RunRecords(StorePart):
    """The store's runs: ``create``, ``get``, ``latest``, ``count``, status, suite snapshot, cases and tags."""

    @property
    def _newest_first(self) -> str:
        return _NEWEST_FIRST.format(order=self._sql.insertion_order)

    def create(self, suite: Suite, run_id: str | None = None, options: dict[str, Any] | None = None) -> Run:
        """Record a new run of ``suite`` with a snapshot of it, status ``running``; ``options`` say how it
        samples (``{"mode": "adaptive", "budget": N}`` for ``--until-decided``)."""
        chosen = run_id
        variant_ids = [variant.id for variant in suite.variants]
        expected = len(suite.cases) * len(variant_ids) * suite.repeats
        # A case's vars (or any text of the suite) may hold what UTF-8 cannot: stored replaced, and noted.
        fix = Replacements()
        snapshot = fix.json(suite.snapshot(), "suite snapshot")
        with self._transaction():
            # A new id is one no run has (two runs made in one second may draw the same random part); chosen
            # inside the write lock, so another writer cannot take it meanwhile.
            while chosen is None or (
                run_id is None and self._db.execute("SELECT 1 FROM runs WHERE id = ?", (chosen,)).fetchone()
            ):
                chosen = new_run_id()
            run_id = chosen
            self._db.execute(
                "INSERT INTO runs (id, suite_name, suite_hash, suite_json, status, created_at, finished_at, "
                "repeats, variant_ids, n_cases, expected_samples, options_json, notes) "
                "VALUES (?, ?, ?, ?, 'running', ?, NULL, ?, ?, ?, ?, ?, ?)",
                (
                    fix.text(run_id, "run id"),
                    fix.text(suite.name, "suite name"),
                    suite.content_hash(),
                    snapshot,
                    utc_now(),
                    suite.repeats,
                    fix.json(variant_ids, "variant ids"),
                    len(suite.cases),
                    expected,
                    fix.json(options or {"mode": "fixed"}, "options"),
                    fix.note(),
                ),
            )
        return self.get(safe_text(run_id)[0])

    def get(self, ref: str) -> Run:
        """The run with this id, unique id prefix, or ``latest``."""
        if ref == "latest":
            latest = self._rows(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY {self._newest_first} LIMIT 1")
            if not latest:
                raise RunNotFound(f"{self.path}: no runs yet")
            return _run_from_row(latest[0])
        if not ref.strip():
            raise RunNotFound("no run id given: give a run id, a unique prefix of one, or 'latest'")
        rows = self._rows(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ? OR id {self._sql.like} ? ESCAPE '\\' "
            f"ORDER BY created_at, {self._sql.insertion_order} LIMIT 3",
            (ref, ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"),
        )
        exact = [row for row in rows if row["id"] == ref]
        if exact:
            return _run_from_row(exact[0])
        if not rows:
            raise RunNotFound(f"no run '{ref}' in {self.path} (see `mendoza runs`)")
        if len(rows) > 1:
            raise RunNotFound(
                f"'{ref}' matches several runs ({rows[0]['id']}, {rows[1]['id']}, ...): give more of the id"
            )
        return _run_from_row(rows[0])

    def latest(self, limit: int = 50, offset: int = 0) -> list[Run]:
        """Runs, newest first."""
        rows = self._rows(
            f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY {self._newest_first} LIMIT ? OFFSET ?", (limit, offset)
        )
        return [_run_from_row(row) for row in rows]

    def of_suite(self, suite_name: str) -> list[Run]:
        """Every run of the suite named ``suite_name`` (exactly), newest first."""
        rows = self._rows(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE suite_name = ? ORDER BY {self._newest_first}", (suite_name,)
        )
        return [_run_from_row(row) for row in rows]

    def count(self) -> int:
        """How many runs the store holds."""
        return int(self._rows("SELECT COUNT(*) FROM runs")[0][0])

    def set_status(self, run_id: str, status: RunStatus) -> None:
        """Mark a run running / interrupted / complete / failed (finished_at is set unless running)."""
        finished = None if status == "running" else utc_now()
        with self._transaction():
            self._db.execute("UPDATE runs SET status = ?, finished_at = ? WHERE id = ?", (status, finished, run_id))

    def set_expected_samples(self, run_id: str, expected: int) -> None:
        """Change how many samples a run is meant to have (an adaptive run knows only when it stops)."""
        with self._transaction():
            self._db.execute("UPDATE runs SET expected_samples = ? WHERE id = ?", (expected, run_id))

    def suite(self, run_id: str) -> Suite:
        """The suite exactly as the run ran it (from its snapshot)."""
        rows = self._rows("SELECT suite_json FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise RunNotFound(f"no run '{run_id}' in {self.path}")
        return Suite.model_validate(json.loads(rows[0][0]))

    def notes(self, run_id: str) -> str | None:
        """What was not stored exactly as given when the run was created (None: nothing)."""
        rows = self._rows("SELECT notes FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise RunNotFound(f"no run '{run_id}' in {self.path}")
        notes: str | None = rows[0][0]
        return notes

    def case(self, run_id: str, case_id: str) -> CaseRecord | None:
        """One case of a run (vars, expected, tags, place in the suite), or None."""
        rows = self._rows(
            "SELECT * FROM run_cases WHERE run_id = ? AND case_id = ? ORDER BY position LIMIT 1",
            (run_id, case_id),
        )
        return case_from_row(rows[0]) if rows else None

    def tags(self, run_id: str) -> list[str]:
        """The tags used by a run's cases, sorted."""
        rows = self._rows(
            f"SELECT DISTINCT tag.value FROM run_cases, {self._sql.json_items('run_cases.tags', 'tag')} "
            "WHERE run_cases.run_id = ? ORDER BY 1",
            (run_id,),
        )
        return [str(row[0]) for row in rows]
