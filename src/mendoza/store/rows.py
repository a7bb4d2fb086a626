"""One mapping from a ``samples`` row to the fields a sample has, whichever record is made of it: the
runner's and report's ``core.Sample`` (with its grades) or the viewer's ``SampleRecord`` (with its id, verdicts
and time)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

__all__ = ["sample_fields"]


def sample_fields(row: sqlite3.Row) -> dict[str, Any]:
    """The fields of a stored sample that ``core.Sample`` and ``SampleRecord`` share, by their names."""
    metadata = row["metadata_json"]
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
        "metadata": None if metadata is None else json.loads(metadata),
    }
