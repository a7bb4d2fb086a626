"""One mapping from a stored row to each record made of it, written once: a ``samples`` row to the runner's
and report's ``core.Sample`` (with its grades) or the viewer's ``SampleRecord`` (with its id, verdicts and
time); a ``grades`` row to ``core.Grade`` or ``GradeRecord``; a ``run_cases`` row to ``CaseRecord``."""

from __future__ import annotations

import json
from typing import Any

from mendoza.core import Grade
from mendoza.store.connection import Row
from mendoza.store.records import CaseRecord, GradeRecord, SampleRecord

__all__ = [
    "case_from_row",
    "detail_json",
    "grade_from_row",
    "grade_record_from_row",
    "sample_fields",
    "sample_record_from_row",
    "verdict",
]


def verdict(value: int | None) -> bool | None:
    """A stored verdict column (1, 0 or NULL) as a verdict."""
    return None if value is None else bool(value)


def detail_json(detail: Any) -> str | None:
    """A JSON column's text (a grade's detail, a sample's metadata); None stays NULL."""
    return None if detail is None else json.dumps(detail, ensure_ascii=False, default=str)


def _json_or_none(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def sample_fields(row: Row) -> dict[str, Any]:
    """The fields of a stored sample that ``core.Sample`` and ``SampleRecord`` share, by their names."""
    return {
        "case_id": row["case_id"],
        "variant_id": row["variant_id"],
        "repeat": row["repeat"],
        "prompt": row["prompt"],
        "output": row["output"],
        "error": row["error"],
        "tokens_in": row["tokens_in"],
        "tokens_out": row["tokens_out"],
        "cost": row["cost"],
        "latency_ms": row["latency_ms"],
        "cached": bool(row["cached"]),
        "seed": row["seed"],
        "attempts": row["attempts"],
        "notes": row["notes"],
        "metadata": _json_or_none(row["metadata_json"]),
    }


def sample_record_from_row(row: Row) -> SampleRecord:
    """A ``samples`` row as the viewer's record."""
    return SampleRecord(
        id=row["id"],
        run_id=row["run_id"],
        passed=verdict(row["passed"]),
        human_passed=verdict(row["human_passed"]),
        graders_disagree=bool(row["graders_disagree"]),
        created_at=row["created_at"],
        **sample_fields(row),
    )


def _grade_fields(row: Row) -> dict[str, Any]:
    """The fields of a stored grade that ``core.Grade`` and ``GradeRecord`` share, by their names."""
    return {
        "grader": row["grader"],
        "grader_hash": row["grader_hash"],
        "source": row["source"],
        "passed": verdict(row["passed"]),
        "score": row["score"],
        "explanation": row["explanation"],
        "error": row["error"],
        "author": row["author"],
    }


def grade_from_row(row: Row) -> Grade:
    """A ``grades`` row as ``core.Grade`` (with its detail)."""
    return Grade(**_grade_fields(row), detail=_json_or_none(row["detail"]))


def grade_record_from_row(row: Row) -> GradeRecord:
    """A ``grades`` row as the viewer's record (with its id and time)."""
    return GradeRecord(id=row["id"], sample_id=row["sample_id"], created_at=row["created_at"], **_grade_fields(row))


def case_from_row(row: Row) -> CaseRecord:
    """A ``run_cases`` row (a case of a run's snapshot) as a record."""
    return CaseRecord(
        position=row["position"],
        case_id=row["case_id"],
        vars=json.loads(row["vars"]),
        expected=_json_or_none(row["expected"]),
        tags=tuple(str(tag) for tag in json.loads(row["tags"])),
    )
