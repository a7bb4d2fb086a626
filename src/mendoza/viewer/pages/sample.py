"""The sample page: the rendered prompt, the output (whitespace kept), every grade with its explanation and
source, tokens and latency, the form to overrule it, and the other repeats of the same case side by side."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mendoza.core import Run
from mendoza.store import CaseRecord, GradeRecord, SampleRecord
from mendoza.viewer.render import page
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
]


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
    """Another sample of the same case, shown beside this one."""

    id: int
    variant_id: str
    repeat: int
    output: str | None
    error: str | None
    passed: bool | None
    human_passed: bool | None
    adjusted_passed: bool | None
    current: bool


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
    record = state.store.find_sample(sample_id)
    if record is None or record.run_id != run.id:
        raise SampleNotFound(f"run {run.id} has no sample {sample_id}")
    return record


def _brief(record: SampleRecord, current: int) -> SampleBrief:
    return SampleBrief(
        id=record.id,
        variant_id=record.variant_id,
        repeat=record.repeat,
        output=record.output,
        error=record.error,
        passed=record.passed,
        human_passed=record.human_passed,
        adjusted_passed=record.adjusted_passed,
        current=record.id == current,
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
    grades = state.store.grade_records([record.id]).get(record.id, [])
    humans = [grade for grade in grades if grade.source == "human"]
    siblings = state.store.case_samples(run.id, record.case_id, run.variant_ids)
    repeats = [_brief(item, record.id) for item in siblings if item.variant_id == record.variant_id]
    others = [_brief(item, record.id) for item in siblings if item.variant_id != record.variant_id]
    position = next((index for index, item in enumerate(repeats) if item.current), None)
    previous_id = repeats[position - 1].id if position is not None and position > 0 else None
    next_id = repeats[position + 1].id if position is not None and position + 1 < len(repeats) else None
    return SampleView(
        run=run,
        case=state.store.run_case(run.id, record.case_id),
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
