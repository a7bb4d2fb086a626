"""A small suite with a JSONL cases file and a drafts file for it: what the tests of reviewing drafts share (the
review rule, the viewer's drafts page, the browser)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["CASES", "DRAFTS", "ids", "rows", "write_drafts", "write_suite"]

CASES = [
    {"id": "r1", "vars": {"ticket": "My order arrived broken."}, "expected": "refund"},
    {"id": "r2", "vars": {"ticket": "Where is my parcel?"}, "expected": "shipping"},
]
DRAFTS: list[dict[str, Any]] = [
    {"case": {"id": "d1", "vars": {"ticket": "Charged twice."}, "expected": "billing"},
     "provenance": {"kind": "draft", "model": "mock", "seed": 0}},
    {"case": {"id": "d2", "vars": {"ticket": "App crashes."}, "expected": "bug"},
     "provenance": {"kind": "perturbation", "name": "typos", "from": "r1"}},
    {"case": {"id": "d3", "vars": {"ticket": "Cancel my plan."}, "expected": "billing"},
     "provenance": {"kind": "import", "source": "logs.jsonl"}},
]


def write_suite(folder: Path) -> Path:
    """``folder/suite.yaml`` (a mock variant) over ``folder/cases.jsonl`` (the two ``CASES``)."""
    (folder / "cases.jsonl").write_text("".join(json.dumps(c) + "\n" for c in CASES), encoding="utf-8")
    suite = {"suite": "triage", "cases": "cases.jsonl",
             "variants": [{"id": "plain", "model": "mock", "prompt": "{{ ticket }}"}]}
    path = folder / "suite.yaml"
    path.write_text(json.dumps(suite), encoding="utf-8")  # JSON is YAML
    return path


def write_drafts(folder: Path, lines: list[Any] | None = None) -> Path:
    """``folder/drafts.jsonl``: ``lines`` (objects as JSON, strings as they are), by default the ``DRAFTS``."""
    path = folder / "drafts.jsonl"
    given = DRAFTS if lines is None else lines
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in given),
                    encoding="utf-8")
    return path


def rows(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of a file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def ids(path: Path) -> list[str]:
    """The case ids of a cases file, in order."""
    return [row["id"] for row in rows(path)]
