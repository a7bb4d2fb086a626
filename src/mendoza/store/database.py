"""``Store``: the only code that speaks SQL. One SQLite file in WAL mode; samples stream in and out.

One writer connection (the runner's) and any number of read connections (``Store(path, readonly=True)``,
e.g. the viewer's) can be open on the same file at once: WAL lets readers see committed samples while a run
is writing.

Nothing is lost to one bad value: text UTF-8 cannot hold (a lone UTF-16 surrogate from a model, an app or a
JSON escape in a dataset) is stored as U+FFFD, and the sample or run records a note saying which fields
(``SampleRecord.notes``, ``Store.run_notes``); a sample SQLite refuses outright is stored as an errored sample
saying why. A full or failing disk is a ``DiskError``: the batch being written is rolled back, everything
committed before stays, and the run can be resumed.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from mendoza.core import Grade, ModelResponse, Run, RunStatus, Sample, Suite
from mendoza.errors import RunNotFound, StoreError
from mendoza.store.browse import BrowseQueries
from mendoza.store.connection import utc_now
from mendoza.store.grading import GradingQueries
from mendoza.store.labels import HumanLabels
from mendoza.store.migrations import MIGRATIONS, apply_migrations, check_schema_is_ours, use_wal
from mendoza.store.outcomes import OutcomeQueries
from mendoza.store.pairwise import PairwiseJudgements
from mendoza.store.rows import sample_fields
from mendoza.store.text import DATA_ERRORS, Replacements, safe_text, store_error

__all__ = ["DEFAULT_DB_PATH", "CaseCounts", "Store", "VariantCounts", "new_run_id"]

DEFAULT_DB_PATH = Path(".mendoza") / "mendoza.db"


class VariantCounts(NamedTuple):
    """Per variant totals of a run, straight from SQL."""

    variant_id: str
    samples: int
    passed: int
    failed: int
    undecided: int
    errors: int
    tokens_in: int
    tokens_out: int
    cost: float | None
    mean_latency_ms: float | None


class CaseCounts(NamedTuple):
    """One (variant, case) cell of a run: how many of its graded samples passed."""

    variant_id: str
    case_id: str
    samples: int
    passed: int
    failed: int
    errors: int


def new_run_id() -> str:
    """A run id that sorts by time and is unique: ``20261126-233812-4f1a``."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)


def _run_from_row(row: sqlite3.Row) -> Run:
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


# created_at has millisecond precision; rowid (insertion order) breaks ties between runs made in one.
_NEWEST_FIRST = "created_at DESC, rowid DESC"
_RUN_COLUMNS = "runs.*, (SELECT COUNT(*) FROM samples WHERE samples.run_id = runs.id) AS done_samples"

_SAMPLE_INSERT = (
    "INSERT INTO samples (run_id, case_id, variant_id, repeat, prompt, output, error, passed, "
    "tokens_in, tokens_out, cost, latency_ms, cached, seed, attempts, created_at, notes, grading_ms, "
    "metadata_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    # Only a sample already stored is skipped; any other constraint failing is an error, not a lost sample.
    "ON CONFLICT (run_id, variant_id, case_id, repeat) DO NOTHING"
)
_CACHE_INSERT = (
    "INSERT OR IGNORE INTO model_cache (key, text, tokens_in, tokens_out, cost, finish_reason, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_GRADE_INSERT = (
    "INSERT INTO grades (sample_id, grader, grader_hash, source, passed, score, explanation, error, author, "
    "created_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _detail_json(detail: Any) -> str | None:
    return None if detail is None else json.dumps(detail, ensure_ascii=False, default=str)


def _sample_row(run_id: str, sample: Sample, now: str) -> list[Any]:
    passed = sample.passed
    return [
        run_id,
        sample.case_id,
        sample.variant_id,
        sample.repeat,
        sample.prompt,
        sample.output,
        sample.error,
        None if passed is None else int(passed),
        sample.tokens_in,
        sample.tokens_out,
        sample.cost,
        sample.latency_ms,
        int(sample.cached),
        sample.seed,
        sample.attempts,
        now,
        sample.notes,
        sample.grading_ms,
        _detail_json(sample.metadata),
    ]


def _grade_row(sample_id: int | None, grade: Grade, now: str) -> list[Any]:
    return [
        sample_id,
        grade.grader,
        grade.grader_hash,
        grade.source,
        None if grade.passed is None else int(grade.passed),
        grade.score,
        grade.explanation,
        grade.error,
        grade.author,
        now,
        _detail_json(grade.detail),
    ]


# The text columns of a sample row and of a grade row (positions in the rows above), by the name a note uses.
_SAMPLE_TEXTS = {1: "case id", 2: "variant id", 4: "prompt", 5: "output", 6: "error", 18: "metadata"}
_GRADE_TEXTS = {1: "name", 2: "hash", 6: "explanation", 7: "error", 8: "author", 10: "detail"}
_SAMPLE_NOTES = 16


class Store(BrowseQueries, HumanLabels, GradingQueries, PairwiseJudgements, OutcomeQueries):
    """A mendoza database file. Open with ``Store(path)``; close with ``close()`` or a ``with`` block.

    Looking at runs (``BrowseQueries``), human labels (``HumanLabels``), regrading and judges' verdicts
    (``GradingQueries``) and pairwise preferences (``PairwiseJudgements``) live in their own modules.
    """

    def __init__(self, path: str | Path = DEFAULT_DB_PATH, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        if readonly and not self.path.is_file():
            raise StoreError(f"{self.path}: no mendoza database here (run a suite first)")
        try:
            if readonly:
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                self._db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self.path}: cannot open the database: {exc}") from None
        try:
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA busy_timeout = 10000")
            self._db.execute("PRAGMA foreign_keys = ON")
            if readonly:
                self._check_schema()
            else:
                # Before anything writes: a file of another program, or of a newer mendoza, is left as it was.
                check_schema_is_ours(self._db, self.path)
                use_wal(self._db)
                self._db.execute("PRAGMA synchronous = NORMAL")
                apply_migrations(self._db, self.path)
        except (StoreError, sqlite3.Error) as exc:
            self._db.close()
            if isinstance(exc, StoreError):
                raise
            raise store_error(self.path, "open", exc) from None

    def _check_schema(self) -> None:
        """A read-only store cannot migrate: the file must already hold every migration this code knows."""
        try:
            applied = {row[0] for row in self._db.execute("SELECT name FROM _migrations")}
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
        return [row[0] for row in self._rows("SELECT name FROM _migrations ORDER BY rowid")]

    # --- runs -------------------------------------------------------------------------------------------

    def create_run(self, suite: Suite, run_id: str | None = None, options: dict[str, Any] | None = None) -> Run:
        """Record a new run of ``suite`` with a snapshot of it, status ``running``; ``options`` say how it
        samples (``{"mode": "adaptive", "budget": N}`` for ``--until-decided``)."""
        run_id = run_id or new_run_id()
        variant_ids = [variant.id for variant in suite.variants]
        expected = len(suite.cases) * len(variant_ids) * suite.repeats
        # A case's vars (or any text of the suite) may hold what UTF-8 cannot: stored replaced, and noted.
        fix = Replacements()
        snapshot = fix.json(suite.snapshot(), "suite snapshot")
        with self._transaction():
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
        return self.get_run(safe_text(run_id)[0])

    def run_notes(self, run_id: str) -> str | None:
        """What was not stored exactly as given when the run was created (None: nothing)."""
        rows = self._rows("SELECT notes FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise RunNotFound(f"no run '{run_id}' in {self.path}")
        notes: str | None = rows[0][0]
        return notes

    def get_run(self, ref: str) -> Run:
        """The run with this id, unique id prefix, or ``latest``."""
        if ref == "latest":
            latest = self._rows(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY {_NEWEST_FIRST} LIMIT 1")
            if not latest:
                raise RunNotFound(f"{self.path}: no runs yet")
            return _run_from_row(latest[0])
        if not ref.strip():
            raise RunNotFound("no run id given: give a run id, a unique prefix of one, or 'latest'")
        rows = self._rows(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ? OR id LIKE ? ESCAPE '\\' ORDER BY created_at, rowid LIMIT 3",
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

    def list_runs(self, limit: int = 50, offset: int = 0) -> list[Run]:
        """Runs, newest first."""
        rows = self._rows(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY {_NEWEST_FIRST} LIMIT ? OFFSET ?", (limit, offset))
        return [_run_from_row(row) for row in rows]

    def set_run_status(self, run_id: str, status: RunStatus) -> None:
        """Mark a run running / interrupted / complete / failed (finished_at is set unless running)."""
        finished = None if status == "running" else utc_now()
        with self._transaction():
            self._db.execute("UPDATE runs SET status = ?, finished_at = ? WHERE id = ?", (status, finished, run_id))

    def set_expected_samples(self, run_id: str, expected: int) -> None:
        """Change how many samples a run is meant to have (an adaptive run knows only when it stops)."""
        with self._transaction():
            self._db.execute("UPDATE runs SET expected_samples = ? WHERE id = ?", (expected, run_id))

    def run_suite(self, run_id: str) -> Suite:
        """The suite exactly as the run ran it (from its snapshot)."""
        rows = self._rows("SELECT suite_json FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise RunNotFound(f"no run '{run_id}' in {self.path}")
        return Suite.model_validate(json.loads(rows[0][0]))

    # --- samples ----------------------------------------------------------------------------------------

    def done_keys(self, run_id: str) -> set[tuple[str, str, int]]:
        """The (variant, case, repeat) keys already stored for a run, to resume it."""
        rows = self._rows("SELECT variant_id, case_id, repeat FROM samples WHERE run_id = ?", (run_id,))
        return {(row[0], row[1], row[2]) for row in rows}

    def write_samples(self, run_id: str, samples: Sequence[Sample]) -> int:
        """Store samples with their grades in one transaction. A (case, variant, repeat) already stored is
        skipped, so a resumed run never duplicates a sample. Returns how many were new.

        One sample never costs the others: text UTF-8 cannot hold (a lone surrogate) is stored as U+FFFD with a
        note on the sample (``SampleRecord.notes``), and a sample that cannot be stored at all (a value SQLite
        refuses) is stored in its place as an errored sample saying why, so a resume with ``--retry-errors``
        samples it again. Only a failure of the database itself (a full disk) fails the batch."""
        now = utc_now()
        try:
            return self._write_batch(run_id, samples, now)
        except DATA_ERRORS:
            # The whole batch was rolled back; write it again sample by sample, each made storable.
            return self._write_one_by_one(run_id, samples, now)

    def _write_batch(self, run_id: str, samples: Sequence[Sample], now: str) -> int:
        """The usual path: every sample as given, the grades in one statement."""
        written = 0
        grade_rows: list[list[Any]] = []
        with self._transaction(passing=DATA_ERRORS):
            execute = self._db.execute
            for sample in samples:
                cursor = execute(_SAMPLE_INSERT, _sample_row(run_id, sample, now))
                if cursor.rowcount == 0:
                    continue
                written += 1
                grade_rows.extend(_grade_row(cursor.lastrowid, grade, now) for grade in sample.grades)
            if grade_rows:
                self._db.executemany(_GRADE_INSERT, grade_rows)
        return written

    def _write_one_by_one(self, run_id: str, samples: Sequence[Sample], now: str) -> int:
        """Each sample in a savepoint of its own, its text made storable; one SQLite refuses is replaced by an
        errored sample. Raises only when even that cannot be stored (a failure of the run, not the sample)."""
        written = 0
        execute = self._db.execute
        with self._transaction():
            for sample in samples:
                execute("SAVEPOINT one_sample")
                try:
                    written += self._insert_storable(run_id, sample, now)
                except DATA_ERRORS as exc:
                    execute("ROLLBACK TO one_sample")
                    try:
                        written += execute(_SAMPLE_INSERT, self._stand_in(run_id, sample, now, exc)).rowcount
                    except DATA_ERRORS as failure:
                        raise StoreError(f"{self.path}: cannot write to the database: {failure}") from None
                execute("RELEASE one_sample")
        return written

    def _insert_storable(self, run_id: str, sample: Sample, now: str) -> int:
        fix = Replacements()
        row = _sample_row(run_id, sample, now)
        for index, name in _SAMPLE_TEXTS.items():
            row[index] = fix.text(row[index], name)
        grade_rows = []
        for grade in sample.grades:
            grade_row = _grade_row(None, grade, now)
            for index, name in _GRADE_TEXTS.items():
                grade_row[index] = fix.text(grade_row[index], f"grade '{safe_text(grade.grader)[0]}' {name}")
            grade_rows.append(grade_row)
        row[_SAMPLE_NOTES] = "\n".join(note for note in (sample.notes, fix.note()) if note) or None
        cursor = self._db.execute(_SAMPLE_INSERT, row)
        if cursor.rowcount == 0:
            return 0
        for grade_row in grade_rows:
            grade_row[0] = cursor.lastrowid
        self._db.executemany(_GRADE_INSERT, grade_rows)
        return 1

    @staticmethod
    def _stand_in(run_id: str, sample: Sample, now: str, exc: BaseException) -> list[Any]:
        """An errored sample in place of one that cannot be stored: where it belongs, and why."""
        reason = safe_text(f"mendoza could not store this sample: {type(exc).__name__}: {exc}")[0]
        case_id, variant_id = (
            safe_text(key)[0] if isinstance(key, str) else key for key in (sample.case_id, sample.variant_id)
        )
        stand_in = Sample(case_id, variant_id, sample.repeat, None, None, error=reason, attempts=0)
        return _sample_row(run_id, stand_in, now)

    def delete_errored_samples(self, run_id: str) -> int:
        """Forget the samples of a run that ended in an error, so a resume samples them again."""
        with self._transaction():
            cursor = self._db.execute("DELETE FROM samples WHERE run_id = ? AND error IS NOT NULL", (run_id,))
        return cursor.rowcount

    def iter_samples(
        self, run_id: str, *, variant_id: str | None = None, case_id: str | None = None, batch: int = 500
    ) -> Iterator[Sample]:
        """Stream a run's samples with their grades, in (variant, case, repeat) order, ``batch`` at a time."""
        where = "run_id = ?"
        args: list[Any] = [run_id]
        if variant_id is not None:
            where += " AND variant_id = ?"
            args.append(variant_id)
        if case_id is not None:
            where += " AND case_id = ?"
            args.append(case_id)
        # Keyset pagination on the (run, variant, case, repeat) unique index: each batch is one short query,
        # and samples written between batches (a run in progress) are neither skipped before nor repeated.
        after: tuple[str, str, int] | None = None
        while True:
            page_where, page_args = where, list(args)
            if after is not None:
                page_where += " AND (variant_id, case_id, repeat) > (?, ?, ?)"
                page_args.extend(after)
            rows = self._rows(
                f"SELECT * FROM samples WHERE {page_where} ORDER BY variant_id, case_id, repeat LIMIT ?",
                (*page_args, batch),
            )
            if not rows:
                return
            last = rows[-1]
            after = (last["variant_id"], last["case_id"], last["repeat"])
            grades = self._grades_for([row["id"] for row in rows])
            for row in rows:
                yield Sample(
                    **sample_fields(row), grades=tuple(grades.get(row["id"], ())), grading_ms=row["grading_ms"]
                )

    def _grades_for(self, sample_ids: list[int]) -> dict[int, list[Grade]]:
        marks = ",".join("?" * len(sample_ids))
        found: dict[int, list[Grade]] = {}
        for row in self._rows(f"SELECT * FROM grades WHERE sample_id IN ({marks}) ORDER BY id", sample_ids):
            found.setdefault(row["sample_id"], []).append(
                Grade(
                    grader=row["grader"],
                    passed=None if row["passed"] is None else bool(row["passed"]),
                    score=row["score"],
                    explanation=row["explanation"],
                    source=row["source"],
                    grader_hash=row["grader_hash"],
                    error=row["error"],
                    author=row["author"],
                    detail=None if row["detail"] is None else json.loads(row["detail"]),
                )
            )
        return found

    # --- summaries --------------------------------------------------------------------------------------

    def variant_counts(self, run_id: str) -> list[VariantCounts]:
        """Per variant: samples, passed, failed, undecided (a grader could not decide), errors, tokens,
        cost."""
        rows = self._rows(
            "SELECT variant_id, COUNT(*), "
            "SUM(passed IS 1), SUM(passed IS 0), SUM(passed IS NULL AND error IS NULL), "
            "SUM(error IS NOT NULL), "
            "COALESCE(SUM(tokens_in), 0), COALESCE(SUM(tokens_out), 0), SUM(cost), AVG(latency_ms) "
            "FROM samples WHERE run_id = ? GROUP BY variant_id",
            (run_id,),
        )
        return [
            VariantCounts(r[0], r[1], r[2] or 0, r[3] or 0, r[4] or 0, r[5] or 0, r[6], r[7], r[8], r[9]) for r in rows
        ]

    def case_counts(self, run_id: str) -> list[CaseCounts]:
        """Per (variant, case): samples, passed, failed, errors."""
        rows = self._rows(
            "SELECT variant_id, case_id, COUNT(*), SUM(passed IS 1), SUM(passed IS 0), SUM(error IS NOT NULL) "
            "FROM samples WHERE run_id = ? GROUP BY variant_id, case_id ORDER BY variant_id, case_id",
            (run_id,),
        )
        return [CaseCounts(r[0], r[1], r[2], r[3] or 0, r[4] or 0, r[5] or 0) for r in rows]

    def latencies(self, run_id: str, variant_id: str) -> list[float]:
        """Latencies (ms) of a variant's samples that called the model and got an answer (not cached)."""
        return self._column(
            "SELECT latency_ms FROM samples WHERE run_id = ? AND variant_id = ? AND cached = 0 AND error IS NULL",
            (run_id, variant_id),
        )

    def grading_times(self, run_id: str, variant_id: str) -> list[float]:
        """How long (ms) grading each of a variant's graded samples took (not counting the model call)."""
        return self._column(
            "SELECT grading_ms FROM samples WHERE run_id = ? AND variant_id = ? AND grading_ms IS NOT NULL",
            (run_id, variant_id),
        )

    def _column(self, sql: str, args: Sequence[Any]) -> list[float]:
        # Plain tuples fetched at once: one row per sample, and sqlite3.Row objects cost twice as much.
        cursor = self._db.cursor()
        cursor.row_factory = None
        try:
            rows = cursor.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise store_error(self.path, "read", exc) from None
        return [row[0] for row in rows]

    # --- cache of model calls ---------------------------------------------------------------------------

    def cache_get(self, key: str) -> ModelResponse | None:
        """A cached model response, or None."""
        rows = self._rows(
            "SELECT text, tokens_in, tokens_out, cost, finish_reason FROM model_cache WHERE key = ?", (key,)
        )
        return None if not rows else ModelResponse(*rows[0])

    def cache_put_many(self, entries: Sequence[tuple[str, ModelResponse]]) -> None:
        """Remember model responses by key (a key already present keeps its first response)."""
        if not entries:
            return
        now = utc_now()
        rows = [(key, r.text, r.tokens_in, r.tokens_out, r.cost, r.finish_reason, now) for key, r in entries]
        try:
            with self._transaction(passing=DATA_ERRORS):
                self._db.executemany(_CACHE_INSERT, rows)
        except DATA_ERRORS:
            # One response SQLite refuses as it is: store the others (text made storable, see ``safe_text``) and
            # leave out what still cannot be stored (the cache only saves calls).
            with self._transaction():
                for row in rows:
                    storable = tuple(safe_text(value)[0] if isinstance(value, str) else value for value in row)
                    with contextlib.suppress(*DATA_ERRORS):
                        self._db.execute(_CACHE_INSERT, storable)
