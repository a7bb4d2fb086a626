"""Samples: writing a batch of samples with their grades (never losing or duplicating one), streaming them
back, and the per variant sums of a run.

``SampleRows`` is the ``samples`` part of ``Store`` (``store.samples.write(run_id, samples)``). Nothing is
lost to one bad value: text UTF-8 cannot hold is stored as U+FFFD with a note on the sample, and a sample
the database refuses outright is stored as an errored sample saying why. Writers on several machines may
write the same run at once (PostgreSQL): each sample is stored once, by its unique key.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from mendoza.core import Grade, Sample
from mendoza.errors import StoreError
from mendoza.store.connection import StorePart, utc_now
from mendoza.store.outcomes import ADJUSTED_VERDICT_SQL
from mendoza.store.rows import detail_json, grade_from_row, sample_fields
from mendoza.store.steps import STEP_INSERT, step_rows_of, steps_of, storable_step_rows
from mendoza.store.text import Replacements, safe_text

__all__ = ["SampleFacts", "SampleRows", "VariantCounts"]


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


_SAMPLE_INSERT = (
    "INSERT INTO samples (run_id, case_id, variant_id, repeat, prompt, output, error, passed, "
    "tokens_in, tokens_out, cost, latency_ms, cached, seed, attempts, created_at, notes, grading_ms, "
    "metadata_json, failed_step) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    # Only a sample already stored is skipped; any other constraint failing is an error, not a lost sample.
    "ON CONFLICT (run_id, variant_id, case_id, repeat) DO NOTHING"
)
_GRADE_INSERT = (
    "INSERT INTO grades (sample_id, grader, grader_hash, source, passed, score, explanation, error, author, "
    "created_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


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
        detail_json(sample.metadata),
        sample.failed_step,
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
        detail_json(grade.detail),
    ]


# The text columns of a sample row and of a grade row (positions in the rows above), by the name a note uses.
_SAMPLE_TEXTS = {
    1: "case id", 2: "variant id", 4: "prompt", 5: "output", 6: "error", 18: "metadata", 19: "failed step"
}
_GRADE_TEXTS = {1: "name", 2: "hash", 6: "explanation", 7: "error", 8: "author", 10: "detail"}
_SAMPLE_NOTES = 16


class SampleFacts(NamedTuple):
    """One sample as a design replays it (``SampleRows.facts``)."""

    variant_id: str
    case_id: str
    repeat: int
    passed: bool | None
    errored: bool
    output: str | None
    cost: float | None
    latency_ms: float


class SampleRows(StorePart):
    """The store's samples: ``write``, ``iterate``, resume keys, per variant sums, latencies."""

    def done_keys(self, run_id: str) -> set[tuple[str, str, int]]:
        """The (variant, case, repeat) keys already stored for a run, to resume it."""
        rows = self._rows("SELECT variant_id, case_id, repeat FROM samples WHERE run_id = ?", (run_id,))
        return {(row[0], row[1], row[2]) for row in rows}

    def write(self, run_id: str, samples: Sequence[Sample]) -> int:
        """Store samples with their grades in one transaction. A (case, variant, repeat) already stored is
        skipped, so a resumed run never duplicates a sample. Returns how many were new.

        One sample never costs the others: text UTF-8 cannot hold (a lone surrogate) is stored as U+FFFD with a
        note on the sample (``SampleRecord.notes``), and a sample that cannot be stored at all (a value SQLite
        refuses) is stored in its place as an errored sample saying why, so a resume with ``--retry-errors``
        samples it again. Only a failure of the database itself (a full disk) fails the batch."""
        now = utc_now()
        if self._sql.concurrent_writers:  # in key order: two writers of the same samples never wait in a cycle
            samples = sorted(samples, key=lambda sample: (sample.variant_id, sample.case_id, sample.repeat))
        try:
            return self._write_batch(run_id, samples, now)
        except self._sql.data_errors:
            # The whole batch was rolled back; write it again sample by sample, each made storable.
            return self._write_one_by_one(run_id, samples, now)

    def _write_batch(self, run_id: str, samples: Sequence[Sample], now: str) -> int:
        """The usual path: every sample as given, the grades in one statement."""
        written = 0
        grade_rows: list[list[Any]] = []
        step_rows: list[list[Any]] = []
        rows = [_sample_row(run_id, sample, now) for sample in samples]
        with self._transaction(passing=self._sql.data_errors, shared=True):
            ids = self._sql.insert_ids(self._db, _SAMPLE_INSERT, rows)
            for sample, sample_id in zip(samples, ids, strict=True):
                if sample_id is None:
                    continue
                written += 1
                grade_rows.extend(_grade_row(sample_id, grade, now) for grade in sample.grades)
                step_rows.extend(step_rows_of(sample_id, sample.steps))
            if grade_rows:
                self._db.executemany(_GRADE_INSERT, grade_rows)
            if step_rows:
                self._db.executemany(STEP_INSERT, step_rows)
        return written

    def _write_one_by_one(self, run_id: str, samples: Sequence[Sample], now: str) -> int:
        """Each sample in a savepoint of its own, its text made storable; one SQLite refuses is replaced by an
        errored sample. Raises only when even that cannot be stored (a failure of the run, not the sample)."""
        written = 0
        execute = self._db.execute
        with self._transaction(shared=True):
            for sample in samples:
                execute("SAVEPOINT one_sample")
                try:
                    written += self._insert_storable(run_id, sample, now)
                except self._sql.data_errors as exc:
                    execute("ROLLBACK TO one_sample")
                    try:
                        written += execute(_SAMPLE_INSERT, self._stand_in(run_id, sample, now, exc)).rowcount
                    except self._sql.data_errors as failure:
                        said = (str(failure).splitlines() or [""])[0]
                        raise StoreError(f"{self.path}: cannot write to the database: {said}") from None
                execute("RELEASE one_sample")
        return written

    def _insert_storable(self, run_id: str, sample: Sample, now: str) -> int:
        fix = Replacements(nul=not self._sql.holds_nul)
        row = _sample_row(run_id, sample, now)
        for index, name in _SAMPLE_TEXTS.items():
            row[index] = fix.text(row[index], name)
        grade_rows = []
        for grade in sample.grades:
            grade_row = _grade_row(None, grade, now)
            for index, name in _GRADE_TEXTS.items():
                grade_row[index] = fix.text(grade_row[index], f"grade '{safe_text(grade.grader)[0]}' {name}")
            grade_rows.append(grade_row)
        steps = storable_step_rows(None, sample.steps, fix)  # fixed before the note is written
        row[_SAMPLE_NOTES] = "\n".join(note for note in (sample.notes, fix.note()) if note) or None
        [sample_id] = self._sql.insert_ids(self._db, _SAMPLE_INSERT, [row])
        if sample_id is None:
            return 0
        for grade_row in grade_rows:
            grade_row[0] = sample_id
        self._db.executemany(_GRADE_INSERT, grade_rows)
        for step_row in steps:
            step_row[0] = sample_id
        self._db.executemany(STEP_INSERT, steps)
        return 1

    def _stand_in(self, run_id: str, sample: Sample, now: str, exc: BaseException) -> list[Any]:
        """An errored sample in place of one that cannot be stored: where it belongs, and why."""
        nul = not self._sql.holds_nul
        said = (str(exc).splitlines() or [""])[0]  # PostgreSQL adds the failing row on lines of its own
        reason = safe_text(f"mendoza could not store this sample: {type(exc).__name__}: {said}", nul=nul)[0]
        case_id, variant_id = (
            safe_text(key, nul=nul)[0] if isinstance(key, str) else key for key in (sample.case_id, sample.variant_id)
        )
        stand_in = Sample(case_id, variant_id, sample.repeat, None, None, error=reason, attempts=0)
        return _sample_row(run_id, stand_in, now)

    def delete_errored(self, run_id: str) -> int:
        """Forget the samples of a run that ended in an error, so a resume samples them again."""
        with self._transaction():
            cursor = self._db.execute("DELETE FROM samples WHERE run_id = ? AND error IS NOT NULL", (run_id,))
        return int(cursor.rowcount)

    def iterate(
        self,
        run_id: str,
        *,
        variant_id: str | None = None,
        case_id: str | None = None,
        batch: int = 500,
        steps: bool = False,
    ) -> Iterator[Sample]:
        """Stream a run's samples with their grades (and ``steps``, when asked), in (variant, case, repeat)
        order, ``batch`` at a time."""
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
            ids = [row["id"] for row in rows]
            grades = self._grades_for(ids)
            found = steps_of(self._rows, ids) if steps else {}
            for row in rows:
                yield Sample(
                    **sample_fields(row),
                    grades=tuple(grades.get(row["id"], ())),
                    grading_ms=row["grading_ms"],
                    steps=tuple(found.get(row["id"], ())),
                    failed_step=row["failed_step"],
                )

    def _grades_for(self, sample_ids: list[int]) -> dict[int, list[Grade]]:
        marks = ",".join("?" * len(sample_ids))
        found: dict[int, list[Grade]] = {}
        for row in self._rows(f"SELECT * FROM grades WHERE sample_id IN ({marks}) ORDER BY id", sample_ids):
            found.setdefault(row["sample_id"], []).append(grade_from_row(row))
        return found

    def variant_counts(self, run_id: str) -> list[VariantCounts]:
        """Per variant: samples, passed, failed, undecided (a grader could not decide), errors, tokens,
        cost."""
        count, is_ = self._sql.count, self._sql.is_
        rows = self._rows(
            "SELECT variant_id, COUNT(*), "
            f"{count(is_('passed', 1))}, {count(is_('passed', 0))}, {count('passed IS NULL AND error IS NULL')}, "
            f"{count('error IS NOT NULL')}, "
            "COALESCE(SUM(tokens_in), 0), COALESCE(SUM(tokens_out), 0), SUM(cost), AVG(latency_ms) "
            "FROM samples WHERE run_id = ? GROUP BY variant_id",
            (run_id,),
        )
        return [
            VariantCounts(r[0], r[1], r[2] or 0, r[3] or 0, r[4] or 0, r[5] or 0, r[6], r[7], r[8], r[9]) for r in rows
        ]

    def facts(self, run_id: str, *, adjusted: bool = True) -> Iterator[SampleFacts]:
        """What a design replays of each sample, in (variant, case, repeat) order: its verdict (``adjusted``:
        a person's label where there is one), whether it errored, its output, cost and latency."""
        verdict = ADJUSTED_VERDICT_SQL if adjusted else "passed"
        cursor = self._db.cursor()
        cursor.row_factory = None
        try:
            rows = cursor.execute(
                f"SELECT variant_id, case_id, repeat, {verdict}, error IS NOT NULL, output, cost, latency_ms "
                "FROM samples WHERE run_id = ? ORDER BY variant_id, case_id, repeat",
                (run_id,),
            )
            for row in rows:
                yield SampleFacts(row[0], row[1], row[2], None if row[3] is None else bool(row[3]), bool(row[4]),
                                  row[5], row[6], row[7])
        except self._sql.error as exc:
            raise self._sql.store_error(self.path, "read", exc) from None

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
        except self._sql.error as exc:
            raise self._sql.store_error(self.path, "read", exc) from None
        return [row[0] for row in rows]
