"""Pairwise preferences: a judge's choice between two variants' outputs for the same case and repeat.

One row per (run, pairwise grader definition, variant pair, case, repeat). The judge is asked in both orders;
``first_order`` is its answer with A's output shown first, ``second_order`` with B's first (both written as
``a``, ``b`` or ``tie`` in terms of the variants), and ``winner`` the combined verdict (an inconsistent pair
is a tie). A judgement that failed (``error``) is judged again the next time; a decided one is kept.

``PairwiseJudgements`` is the ``pairwise`` part of ``Store`` (``store.pairwise.judgements(...)``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mendoza.store.connection import StorePart, utc_now

__all__ = ["PairJudgement", "PairSamples", "PairwiseJudgements", "Preference"]

Preference = Literal["a", "b", "tie"]


@dataclass(frozen=True, slots=True)
class PairSamples:
    """The outputs of two variants for the same case and repeat, with their sample ids."""

    case_id: str
    repeat: int
    sample_a: int
    output_a: str
    sample_b: int
    output_b: str


@dataclass(frozen=True, slots=True)
class PairJudgement:
    """A judge's preference between variant A's and variant B's output for one case and repeat."""

    grader: str
    grader_hash: str
    variant_a: str
    variant_b: str
    case_id: str
    repeat: int
    sample_a: int | None
    sample_b: int | None
    winner: Preference | None
    first_order: Preference | None
    second_order: Preference | None
    explanation: str = ""
    error: str | None = None
    detail: dict[str, Any] | None = None


def _preference(value: str | None) -> Preference | None:
    if value in ("a", "b", "tie"):
        return value  # type: ignore[return-value]
    return None


class PairwiseJudgements(StorePart):
    """The store's pairwise preferences: the ``pairwise`` part of ``Store``."""

    def sample_pairs(self, run_id: str, variant_a: str, variant_b: str) -> list[PairSamples]:
        """Every (case, repeat) of a run where both variants have an output, by case and repeat."""
        rows = self._rows(
            "SELECT a.case_id, a.repeat, a.id, a.output, b.id, b.output FROM samples AS a "
            "JOIN samples AS b ON b.run_id = a.run_id AND b.case_id = a.case_id AND b.repeat = a.repeat "
            "WHERE a.run_id = ? AND a.variant_id = ? AND b.variant_id = ? "
            "AND a.error IS NULL AND b.error IS NULL AND a.output IS NOT NULL AND b.output IS NOT NULL "
            "ORDER BY a.case_id, a.repeat",
            (run_id, variant_a, variant_b),
        )
        return [PairSamples(row[0], row[1], row[2], row[3], row[4], row[5]) for row in rows]

    def judged(self, run_id: str, grader_hash: str) -> set[tuple[str, str, str, int]]:
        """``(variant_a, variant_b, case_id, repeat)`` already decided by this pairwise grader definition."""
        rows = self._rows(
            "SELECT variant_a, variant_b, case_id, repeat FROM pairwise_judgements "
            "WHERE run_id = ? AND grader_hash = ? AND error IS NULL",
            (run_id, grader_hash),
        )
        return {(row[0], row[1], row[2], int(row[3])) for row in rows}

    def add(self, run_id: str, judgements: Sequence[PairJudgement]) -> int:
        """Store judgements; one that replaces an earlier failed judgement of the same pair overwrites it."""
        if not judgements:
            return 0
        now = utc_now()
        self._write_rows(
            "INSERT INTO pairwise_judgements (run_id, grader, grader_hash, case_id, repeat, variant_a, "
            "variant_b, sample_a, sample_b, winner, first_order, second_order, explanation, error, detail, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (run_id, grader_hash, variant_a, variant_b, case_id, repeat) DO UPDATE SET "
            "winner = excluded.winner, first_order = excluded.first_order, "
            "second_order = excluded.second_order, explanation = excluded.explanation, "
            "error = excluded.error, detail = excluded.detail, created_at = excluded.created_at "
            "WHERE pairwise_judgements.error IS NOT NULL",
            [
                (
                    run_id,
                    item.grader,
                    item.grader_hash,
                    item.case_id,
                    item.repeat,
                    item.variant_a,
                    item.variant_b,
                    item.sample_a,
                    item.sample_b,
                    item.winner,
                    item.first_order,
                    item.second_order,
                    item.explanation,
                    item.error,
                    None if item.detail is None else json.dumps(item.detail, ensure_ascii=False, default=str),
                    now,
                )
                for item in judgements
            ],
        )
        return len(judgements)

    def judgements(
        self, run_id: str, *, grader: str | None = None, grader_hash: str | None = None
    ) -> list[PairJudgement]:
        """A run's pairwise judgements (of one grader name and/or definition hash when given), in order of
        variant pair, case and repeat."""
        where, args = "run_id = ?", [run_id]
        if grader is not None:
            where += " AND grader = ?"
            args.append(grader)
        if grader_hash is not None:
            where += " AND grader_hash = ?"
            args.append(grader_hash)
        rows = self._rows(
            f"SELECT * FROM pairwise_judgements WHERE {where} ORDER BY variant_a, variant_b, case_id, repeat",
            args,
        )
        return [
            PairJudgement(
                grader=row["grader"],
                grader_hash=row["grader_hash"],
                variant_a=row["variant_a"],
                variant_b=row["variant_b"],
                case_id=row["case_id"],
                repeat=row["repeat"],
                sample_a=row["sample_a"],
                sample_b=row["sample_b"],
                winner=_preference(row["winner"]),
                first_order=_preference(row["first_order"]),
                second_order=_preference(row["second_order"]),
                explanation=row["explanation"],
                error=row["error"],
                detail=None if row["detail"] is None else json.loads(row["detail"]),
            )
            for row in rows
        ]
