"""Steps: how each sample was made (an app's spans, tool calls, a conversation's turns), one row per step in
start order, written with their sample in its transaction (``samples.write``) and read back with it
(``samples.iterate(steps=True)``), and counted per step name for the report.

``StepRecords`` is the ``steps`` part of ``Store`` (``store.steps.summary(run_id)``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from mendoza.core import STEP_KINDS, Step
from mendoza.store.connection import Row, StorePart
from mendoza.store.rows import detail_json
from mendoza.store.text import Replacements

__all__ = [
    "STEP_INSERT",
    "StepRecords",
    "StepSummary",
    "step_from_row",
    "step_rows_of",
    "steps_of",
    "storable_step_rows",
]

STEP_INSERT = (
    "INSERT INTO steps (sample_id, position, span_id, parent_id, name, kind, start_ms, duration_ms, input, "
    "output, attributes_json, tokens_in, tokens_out, cost, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# The text columns of a step row (positions in ``step_rows_of``'s rows), by the name a note uses.
_STEP_TEXTS = {2: "span id", 3: "parent id", 4: "name", 8: "input", 9: "output", 10: "attributes", 14: "error"}


def step_rows_of(sample_id: int | None, steps: Sequence[Step]) -> list[list[Any]]:
    """The rows of a sample's steps, in their order."""
    return [
        [
            sample_id,
            position,
            step.span_id,
            step.parent_id,
            step.name,
            step.kind if step.kind in STEP_KINDS else "other",
            step.start_ms,
            step.duration_ms,
            step.input,
            step.output,
            detail_json(step.attributes) if step.attributes else None,
            step.tokens_in,
            step.tokens_out,
            step.cost,
            step.error,
        ]
        for position, step in enumerate(steps)
    ]


def storable_step_rows(sample_id: int | None, steps: Sequence[Step], fix: Replacements) -> list[list[Any]]:
    """``step_rows_of``, with text UTF-8 cannot hold replaced (and noted in ``fix``)."""
    rows = step_rows_of(sample_id, steps)
    for row in rows:
        for index, name in _STEP_TEXTS.items():
            row[index] = fix.text(row[index], f"step '{row[4]}' {name}" if index != 4 else "step name")
    return rows


def step_from_row(row: Row) -> Step:
    """A ``steps`` row as ``core.Step``."""
    attributes = row["attributes_json"]
    return Step(
        name=row["name"],
        kind=row["kind"],
        span_id=row["span_id"],
        parent_id=row["parent_id"],
        start_ms=row["start_ms"],
        duration_ms=row["duration_ms"],
        input=row["input"],
        output=row["output"],
        attributes=None if attributes is None else json.loads(attributes),
        tokens_in=row["tokens_in"],
        tokens_out=row["tokens_out"],
        cost=row["cost"],
        error=row["error"],
    )


def steps_of(
    rows: Callable[[str, Sequence[Any]], list[Row]], sample_ids: Sequence[int]
) -> dict[int, list[Step]]:
    """The steps of these samples, in order, by sample id (``rows``: a part's ``_rows``)."""
    found: dict[int, list[Step]] = {}
    if not sample_ids:
        return found
    marks = ",".join("?" * len(sample_ids))
    for row in rows(f"SELECT * FROM steps WHERE sample_id IN ({marks}) ORDER BY sample_id, position", list(sample_ids)):
        found.setdefault(row["sample_id"], []).append(step_from_row(row))
    return found


@dataclass(frozen=True, slots=True)
class StepSummary:
    """One step name of one variant of a run, summed in SQL: how many samples ran it (``samples``), how many
    times it ran (``runs``), how many of those failed (``errors``), its tokens and cost."""

    variant_id: str
    name: str
    kind: str
    samples: int
    runs: int
    errors: int
    tokens_in: int
    tokens_out: int
    cost: float | None
    first_position: float


class StepRecords(StorePart):
    """The store's steps: the ``steps`` part of ``Store``."""

    def of_samples(self, sample_ids: Sequence[int]) -> dict[int, list[Step]]:
        """The steps of these samples, in order, by sample id."""
        return steps_of(self._rows, sample_ids)

    def summary(self, run_id: str) -> list[StepSummary]:
        """Per (variant, step name): samples that ran it, runs, errors, tokens, cost; ordered by variant, then
        by where the step usually comes (its mean position in the samples that ran it)."""
        rows = self._rows(
            "SELECT s.variant_id, st.name, MIN(st.kind), COUNT(DISTINCT st.sample_id), COUNT(*), "
            f"{self._sql.count('st.error IS NOT NULL')}, COALESCE(SUM(st.tokens_in), 0), "
            "COALESCE(SUM(st.tokens_out), 0), "
            "SUM(st.cost), AVG(st.position) "
            "FROM steps AS st JOIN samples AS s ON s.id = st.sample_id WHERE s.run_id = ? "
            "GROUP BY s.variant_id, st.name ORDER BY s.variant_id, AVG(st.position), st.name",
            (run_id,),
        )
        return [StepSummary(*row) for row in rows]

    def durations(self, run_id: str, variant_id: str) -> Iterator[tuple[str, float]]:
        """``(step name, duration ms)`` of every step of a variant's samples, by name."""
        cursor = self._db.cursor()
        cursor.row_factory = None
        yield from cursor.execute(
            "SELECT st.name, st.duration_ms FROM steps AS st JOIN samples AS s ON s.id = st.sample_id "
            "WHERE s.run_id = ? AND s.variant_id = ? ORDER BY st.name",
            (run_id, variant_id),
        )

    def failed_at(self, run_id: str) -> list[tuple[str, str, int, int]]:
        """``(variant, step name, samples, errored)``: how many samples of each variant that failed or errored
        first failed at each step (``errored``: how many of those errored). A sample that passed although a
        step failed (an app that recovered) is not counted."""
        rows = self._rows(
            f"SELECT variant_id, failed_step, COUNT(*), {self._sql.count('error IS NOT NULL')} FROM samples "
            f"WHERE run_id = ? AND failed_step IS NOT NULL AND ({self._sql.is_('passed', 0)} OR error IS NOT NULL) "
            "GROUP BY variant_id, failed_step ORDER BY variant_id, COUNT(*) DESC, failed_step",
            (run_id,),
        )
        return [(row[0], row[1], int(row[2]), int(row[3] or 0)) for row in rows]

    def failed_steps(self, sample_ids: Sequence[int]) -> dict[int, str]:
        """The step each of these samples first failed at, by sample id (samples that failed at none left
        out)."""
        if not sample_ids:
            return {}
        marks = ",".join("?" * len(sample_ids))
        rows = self._rows(
            f"SELECT id, failed_step FROM samples WHERE id IN ({marks}) AND failed_step IS NOT NULL", list(sample_ids)
        )
        return {int(row[0]): row[1] for row in rows}

    def failed_step_names(self, run_id: str, *, max_chars: int | None = None) -> list[str]:
        """The names of the steps a run's samples first failed at, each once, in order of name (with
        ``max_chars``: only names that long or shorter)."""
        limit = "" if max_chars is None else " AND length(failed_step) <= ?"
        rows = self._rows(
            "SELECT DISTINCT failed_step FROM samples WHERE run_id = ? AND failed_step IS NOT NULL"
            f"{limit} ORDER BY failed_step",
            (run_id,) if max_chars is None else (run_id, max_chars),
        )
        return [row[0] for row in rows]

    def sample_costs(self, run_id: str, variant_id: str) -> float | None:
        """The total cost of a variant's samples (the denominator of a step's share of the cost)."""
        rows = self._rows("SELECT SUM(cost) FROM samples WHERE run_id = ? AND variant_id = ?", (run_id, variant_id))
        value = rows[0][0]
        return None if value is None else float(value)
