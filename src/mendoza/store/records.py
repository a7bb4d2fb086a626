"""The records the viewer and the soft-eval tools read: a stored sample with its id and verdicts, a grade
with its id and time, a case as its run's snapshot has it. (The runner and the report read ``core.Sample`` and
``core.Grade``; ``rows`` maps a row to either, field by field, once.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mendoza.core import adjusted_verdict

__all__ = ["CaseRecord", "GradeRecord", "SampleRecord"]


@dataclass(frozen=True, slots=True)
class SampleRecord:
    """One stored sample: its output and cost, its automatic verdict (all automatic grades passed) and the
    verdict of its latest human grade, if any."""

    id: int
    run_id: str
    case_id: str
    variant_id: str
    repeat: int
    prompt: str | None
    output: str | None
    error: str | None
    passed: bool | None
    human_passed: bool | None
    graders_disagree: bool
    tokens_in: int | None
    tokens_out: int | None
    cost: float | None
    latency_ms: float
    cached: bool
    seed: int
    attempts: int
    created_at: str
    #: What was not stored exactly as given (characters UTF-8 cannot hold, replaced by U+FFFD); None: nothing.
    notes: str | None = None
    #: What the app returned beside its output (a ``python:`` app's extra keys), when anything.
    metadata: dict[str, Any] | None = None

    @property
    def adjusted_passed(self) -> bool | None:
        """The human-adjusted verdict: the human's where a person labelled the sample, else the automatic one."""
        return adjusted_verdict(self.passed, self.human_passed)


@dataclass(frozen=True, slots=True)
class GradeRecord:
    """One stored grade (automatic or human), with its id and when it was written."""

    id: int
    sample_id: int
    grader: str
    grader_hash: str
    source: str
    passed: bool | None
    score: float | None
    explanation: str
    error: str | None
    author: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A case of a run, as its suite snapshot has it, with its place in the suite (0-based)."""

    position: int
    case_id: str
    vars: dict[str, Any]
    expected: Any
    tags: tuple[str, ...]
