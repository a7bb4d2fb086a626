"""The sample page: the rendered prompt, the output (whitespace kept), every grade with its explanation and
source, tokens and latency, the form to overrule it, and the other repeats of the same case side by side.

Long text is cut where it is shown beside other text (the other repeats: their first ``LIST_CHARS``
characters, the page itself: its first ``PAGE_CHARS``); the whole prompt and output are one link away, as
plain text (``.../prompt.txt``, ``.../output.txt``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from mendoza.core import Run
from mendoza.store import CaseRecord, GradeRecord, SampleRecord
from mendoza.viewer.render import LIST_CHARS, clip, page
from mendoza.viewer.state import ViewerState, viewer_state

__all__ = [
    "ReviewPosition",
    "SampleBrief",
    "SampleNotFound",
    "SampleView",
    "VariantInfo",
    "build_sample",
    "find_run_sample",
    "sample_page",
    "sample_text",
]

_MAX_ID = 2**63 - 1  # SQLite's largest integer: a larger id names no sample (and cannot be bound)
_TEXT_PARTS = ("prompt", "output")


class SampleNotFound(LookupError):
    """No such sample in this run (a 404)."""


@dataclass(frozen=True, slots=True)
class VariantInfo:
    """How the variant of a sample was set up (from the run's suite snapshot)."""

    id: str
    model: str
    prompt: str | None
    system: str | None
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SampleBrief:
    """Another sample of the same case, shown beside this one: its output (or error) cut to its first
    ``LIST_CHARS`` characters (``clipped``; ``chars``: how long the whole is)."""

    id: int
    variant_id: str
    repeat: int
    output: str | None
    error: str | None
    passed: bool | None
    human_passed: bool | None
    adjusted_passed: bool | None
    current: bool
    chars: int
    clipped: bool


@dataclass(frozen=True, slots=True)
class ReviewPosition:
    """Where a sample stands in the review queue: 0-based ``at`` of ``total``, and why it is there."""

    at: int
    total: int
    reason: str
    variants: tuple[str, ...]
    query: str


@dataclass(frozen=True, slots=True)
class SampleView:
    """The sample page (also the body of review mode, with ``review`` set)."""

    run: Run
    case: CaseRecord | None
    variant: VariantInfo | None
    sample: SampleRecord
    adjusted_passed: bool | None
    grades: list[GradeRecord]
    human: GradeRecord | None
    repeats: list[SampleBrief]
    other_variants: list[SampleBrief]
    previous_id: int | None
    next_id: int | None
    review: ReviewPosition | None


def find_run_sample(state: ViewerState, run: Run, sample_id: int) -> SampleRecord:
    """The sample with this id in this run (``SampleNotFound`` otherwise)."""
    if not 0 <= sample_id <= _MAX_ID:
        raise SampleNotFound(f"run {run.id} has no sample {sample_id}")
    record = state.store.browse.sample(sample_id)
    if record is None or record.run_id != run.id:
        raise SampleNotFound(f"run {run.id} has no sample {sample_id}")
    return record


def _brief(record: SampleRecord, current: int) -> SampleBrief:
    chars = len(record.error or record.output or "")
    return SampleBrief(
        id=record.id,
        variant_id=record.variant_id,
        repeat=record.repeat,
        output=clip(record.output, LIST_CHARS),
        error=clip(record.error, LIST_CHARS),
        passed=record.passed,
        human_passed=record.human_passed,
        adjusted_passed=record.adjusted_passed,
        current=record.id == current,
        chars=chars,
        clipped=chars > LIST_CHARS,
    )


def build_sample(
    state: ViewerState, run: Run, record: SampleRecord, review: ReviewPosition | None = None
) -> SampleView:
    """The page of one sample of ``run``."""
    suite = state.suite(run)
    variant = next((item for item in suite.variants if item.id == record.variant_id), None)
    info = (
        VariantInfo(variant.id, variant.model, variant.prompt, variant.system, dict(variant.params))
        if variant is not None
        else None
    )
    grades = state.store.browse.grade_records([record.id]).get(record.id, [])
    humans = [grade for grade in grades if grade.source == "human"]
    siblings = state.store.browse.case_samples(run.id, record.case_id, run.variant_ids)
    repeats = [_brief(item, record.id) for item in siblings if item.variant_id == record.variant_id]
    others = [_brief(item, record.id) for item in siblings if item.variant_id != record.variant_id]
    position = next((index for index, item in enumerate(repeats) if item.current), None)
    previous_id = repeats[position - 1].id if position is not None and position > 0 else None
    next_id = repeats[position + 1].id if position is not None and position + 1 < len(repeats) else None
    return SampleView(
        run=run,
        case=state.store.runs.case(run.id, record.case_id),
        variant=info,
        sample=record,
        adjusted_passed=record.adjusted_passed,
        grades=grades,
        human=humans[-1] if humans else None,
        repeats=repeats,
        other_variants=others,
        previous_id=previous_id,
        next_id=next_id,
        review=review,
    )


async def sample_page(request: Request) -> Response:
    """``GET /runs/{run}/samples/{sample}``: one sample."""
    state = viewer_state(request)
    run = state.run(request.path_params["run"])
    record = find_run_sample(state, run, request.path_params["sample"])
    return page(request, "sample.html", build_sample(state, run, record))


async def sample_text(request: Request) -> Response:
    """``GET /runs/{run}/samples/{sample}/{part}.txt``: the whole prompt or output of a sample, as plain text
    (never rendered: the security headers forbid sniffing it into HTML)."""
    state = viewer_state(request)
    part = request.path_params["part"]
    run = state.run(request.path_params["run"])
    record = find_run_sample(state, run, request.path_params["sample"])
    if part not in _TEXT_PARTS:
        raise SampleNotFound(f"a sample has no {str(part)[:40]!r} (only {', '.join(_TEXT_PARTS)})")
    text: str | None = getattr(record, part)
    if text is None:
        raise SampleNotFound(f"sample {record.id} has no {part}")
    return PlainTextResponse(text, headers={"content-disposition": "inline"})
