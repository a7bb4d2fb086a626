"""The sample page: the rendered prompt, the output (whitespace kept), every grade with its explanation and
source, tokens and latency, how the output was made (its steps, as a tree with a timeline), the form to
overrule it, and the other repeats of the same case side by side.

Long text is cut where it is shown beside other text (the other repeats: their first ``LIST_CHARS``
characters, a step's input and output: ``STEP_CHARS``, the page itself: its first ``PAGE_CHARS``); the whole
prompt, output and steps are one link away, as plain text (``.../prompt.txt``, ``.../output.txt``,
``.../steps.txt``)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from mendoza.core import STEP_KINDS, Run, Step
from mendoza.store import CaseRecord, GradeRecord, SampleRecord
from mendoza.viewer.render import LIST_CHARS, clip, page, reveal_bidi
from mendoza.viewer.state import ViewerState, viewer_state

__all__ = [
    "ReviewPosition",
    "SampleBrief",
    "SampleNotFound",
    "SampleSteps",
    "SampleView",
    "StepNode",
    "VariantInfo",
    "build_sample",
    "build_steps",
    "find_run_sample",
    "sample_page",
    "sample_text",
    "steps_text",
]

_MAX_ID = 2**63 - 1  # SQLite's largest integer: a larger id names no sample (and cannot be bound)
_TEXT_PARTS = ("prompt", "output", "steps")
ATTRIBUTE_CHARS = 500
"""An attribute's value is cut after this many characters on the page."""
MAX_ATTRIBUTES = 50
"""At most this many attributes of a step are listed on the page (all of them are in the JSON twin)."""


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
    failed_step: str | None = None


@dataclass(frozen=True, slots=True)
class ReviewPosition:
    """Where a sample stands in the review queue: 0-based ``at`` of ``total``, and why it is there."""

    at: int
    total: int
    reason: str
    variants: tuple[str, ...]
    query: str


@dataclass(frozen=True, slots=True)
class StepNode:
    """One step of the sample, at its place in the tree (pre-order: a step, then its children, each level in
    start order). ``position`` is its place in start order (0-based), ``depth`` its level (0: top level).

    ``first_failure``: the step ``Sample.failed_step`` names (the first of that name that errored, else the
    last of that name, which a step grader grades). ``detached``: it names a parent (``parent_id``) that is no
    step of this sample, or one of its own descendants, so it is shown at the top level.
    """

    position: int
    depth: int
    name: str
    kind: str
    span_id: str
    parent_id: str | None
    start_ms: float
    duration_ms: float
    input: str | None
    output: str | None
    attributes: Mapping[str, Any] | None
    tokens_in: int | None
    tokens_out: int | None
    cost: float | None
    error: str | None
    first_failure: bool
    detached: bool
    children: int
    # How the template draws it: where the step's bar starts and how wide it is (percent of the sample's
    # span), its attributes as text (the first ``MAX_ATTRIBUTES``), and how many levels of the tree close
    # after it (its children follow when ``opens``).
    bar_x: float = field(default=0.0, metadata={"json": False})
    bar_width: float = field(default=0.0, metadata={"json": False})
    attribute_items: tuple[tuple[str, str], ...] = field(default=(), metadata={"json": False})
    opens: bool = field(default=False, metadata={"json": False})
    closes: int = field(default=0, metadata={"json": False})


@dataclass(frozen=True, slots=True)
class SampleSteps:
    """How the sample's output was made: its steps as a tree (``nodes``, pre-order), the time they span
    (``span_ms``, from the start of the sample's call to the end of the last step or of the call), how many
    errored, and the step the sample first failed at (``failed_step``, None when none; ``failed_shown``: one
    of ``nodes`` is that step)."""

    nodes: list[StepNode]
    span_ms: float
    errors: int
    failed_step: str | None
    failed_shown: bool = False


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
    steps: SampleSteps


def find_run_sample(state: ViewerState, run: Run, sample_id: int) -> SampleRecord:
    """The sample with this id in this run (``SampleNotFound`` otherwise)."""
    if not 0 <= sample_id <= _MAX_ID:
        raise SampleNotFound(f"run {run.id} has no sample {sample_id}")
    record = state.store.browse.sample(sample_id)
    if record is None or record.run_id != run.id:
        raise SampleNotFound(f"run {run.id} has no sample {sample_id}")
    return record


def _finite(value: float | None) -> float:
    return value if value is not None and math.isfinite(value) and value > 0 else 0.0


def _tree_order(steps: Sequence[Step]) -> tuple[list[tuple[int, int]], set[int], dict[int, int]]:
    """The steps in tree order, as ``(position, depth)``: top-level steps in start order, each followed by its
    children (by ``parent_id``, in start order) and theirs. Also: the positions shown at the top level though
    they name a parent (no such step here, or a cycle), and how many children each position has.

    Iterative, so a chain of hundreds of nested steps needs no deep recursion; a span id given twice names
    its first step."""
    by_span: dict[str, int] = {}
    for position, step in enumerate(steps):
        by_span.setdefault(step.span_id, position)
    children: dict[int, list[int]] = {}
    roots: list[int] = []
    detached: set[int] = set()
    for position, step in enumerate(steps):
        parent = by_span.get(step.parent_id) if step.parent_id is not None else None
        if parent is None or parent == position:
            roots.append(position)
            if step.parent_id is not None:
                detached.add(position)
        else:
            children.setdefault(parent, []).append(position)
    order: list[tuple[int, int]] = []
    seen: set[int] = set()

    def walk(start: int) -> None:
        stack = [(start, 0)]
        while stack:
            position, depth = stack.pop()
            if position in seen:
                continue
            seen.add(position)
            order.append((position, depth))
            stack.extend((child, depth + 1) for child in reversed(children.get(position, [])))

    for root in roots:
        walk(root)
    for position in range(len(steps)):  # steps on a cycle of parents: no root leads to them
        if position not in seen:
            detached.add(position)
            walk(position)
    return order, detached, {position: len(kids) for position, kids in children.items()}


def _first_failure(steps: Sequence[Step], failed_step: str | None) -> int | None:
    """The position of the step ``failed_step`` names (``core.first_failing_step``'s choice: the first step of
    that name that errored, else the last of that name, the one a step grader grades)."""
    if failed_step is None:
        return None
    named = [position for position, step in enumerate(steps) if step.name == failed_step]
    errored = [position for position in named if steps[position].error is not None]
    return errored[0] if errored else (named[-1] if named else None)


def _attribute_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= ATTRIBUTE_CHARS else text[:ATTRIBUTE_CHARS] + "…"


def build_steps(steps: Sequence[Step], failed_step: str | None, latency_ms: float = 0.0) -> SampleSteps:
    """The steps of a sample as the page shows them: a tree in pre-order, each with its timeline bar."""
    span_ms = max([_finite(latency_ms)] + [_finite(step.start_ms) + _finite(step.duration_ms) for step in steps])
    order, detached, child_counts = _tree_order(steps)
    failure = _first_failure(steps, failed_step)
    nodes: list[StepNode] = []
    for index, (position, depth) in enumerate(order):
        step = steps[position]
        next_depth = order[index + 1][1] if index + 1 < len(order) else 0
        start, duration = _finite(step.start_ms), _finite(step.duration_ms)
        bar_x = min(100.0, start / span_ms * 100) if span_ms else 0.0
        bar_width = min(100.0 - bar_x, max(0.5, duration / span_ms * 100 if span_ms else 0.0))
        attributes = dict(step.attributes) if step.attributes else None
        nodes.append(
            StepNode(
                position=position,
                depth=depth,
                name=step.name,
                kind=step.kind if step.kind in STEP_KINDS else "other",
                span_id=step.span_id,
                parent_id=step.parent_id,
                start_ms=step.start_ms,
                duration_ms=step.duration_ms,
                input=step.input,
                output=step.output,
                attributes=attributes,
                tokens_in=step.tokens_in,
                tokens_out=step.tokens_out,
                cost=step.cost,
                error=step.error,
                first_failure=position == failure,
                detached=position in detached,
                children=child_counts.get(position, 0),
                bar_x=round(bar_x, 3),
                bar_width=round(max(0.0, bar_width), 3),
                attribute_items=tuple(
                    (str(key), _attribute_text(value))
                    for key, value in list((attributes or {}).items())[:MAX_ATTRIBUTES]
                ),
                opens=next_depth > depth,
                closes=max(0, depth - next_depth),
            )
        )
    return SampleSteps(
        nodes=nodes,
        span_ms=span_ms,
        errors=sum(step.error is not None for step in steps),
        failed_step=failed_step,
        failed_shown=failure is not None,
    )


def _indented(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines() or [""])


def _number(value: float) -> str:
    return f"{value:,.1f}" if math.isfinite(value) else str(value)


def steps_text(record: SampleRecord, steps: SampleSteps) -> str:
    """The steps of a sample as plain text, whole: one block per step in tree order (indented by level), its
    input, output, error and attributes below it. Names are ids: their bidi controls are shown (``⟨U+202E⟩``)."""
    lines = [
        f"Steps of sample {record.id} (case {reveal_bidi(record.case_id)}, variant {reveal_bidi(record.variant_id)}, "
        f"repeat {record.repeat}): {len(steps.nodes)} steps over {_number(steps.span_ms)} ms, {steps.errors} errored.",
        f"First failed at: {reveal_bidi(steps.failed_step) if steps.failed_step is not None else '(no step)'}",
        "",
    ]
    for node in steps.nodes:
        pad = "    " * node.depth
        facts = [f"start +{_number(node.start_ms)} ms", f"duration {_number(node.duration_ms)} ms"]
        if node.tokens_in is not None or node.tokens_out is not None:
            facts.append(
                f"tokens {node.tokens_in if node.tokens_in is not None else '-'} in / "
                f"{node.tokens_out if node.tokens_out is not None else '-'} out"
            )
        if node.cost is not None:
            facts.append(f"cost ${node.cost:.6f}")
        marks = " <- FIRST FAILURE" if node.first_failure else ""
        if node.detached:
            marks += f" (its parent {reveal_bidi(node.parent_id or '')!r} is not a step of this sample)"
        lines.append(f"{pad}- {reveal_bidi(node.name)} [{node.kind}] {', '.join(facts)}{marks}")
        for label, value in (("error", node.error), ("input", node.input), ("output", node.output)):
            if value is not None:
                lines.append(f"{pad}  {label}:")
                lines.append(_indented(value, pad + "    | "))
        if node.attributes:
            lines.append(f"{pad}  attributes:")
            for key, value in node.attributes.items():
                shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
                lines.append(_indented(f"{reveal_bidi(str(key))}: {shown}", pad + "    | "))
    return "\n".join(lines) + "\n"


def _brief(record: SampleRecord, current: int, failed_step: str | None = None) -> SampleBrief:
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
        failed_step=failed_step,
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
    failed = state.store.steps.failed_steps([record.id, *(item.id for item in siblings)])
    repeats = [
        _brief(item, record.id, failed.get(item.id)) for item in siblings if item.variant_id == record.variant_id
    ]
    others = [_brief(item, record.id, failed.get(item.id)) for item in siblings if item.variant_id != record.variant_id]
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
        steps=_steps_of(state, record, failed.get(record.id)),
    )


def _steps_of(state: ViewerState, record: SampleRecord, failed_step: str | None) -> SampleSteps:
    """The steps of one sample (one query), as the page shows them."""
    steps = state.store.steps.of_samples([record.id]).get(record.id, [])
    return build_steps(steps, failed_step, record.latency_ms)


async def sample_page(request: Request) -> Response:
    """``GET /runs/{run}/samples/{sample}``: one sample."""
    state = viewer_state(request)
    run = state.run(request.path_params["run"])
    record = find_run_sample(state, run, request.path_params["sample"])
    return page(request, "sample.html", build_sample(state, run, record))


async def sample_text(request: Request) -> Response:
    """``GET /runs/{run}/samples/{sample}/{part}.txt``: the whole prompt or output of a sample, or its steps,
    as plain text (never rendered: the security headers forbid sniffing it into HTML)."""
    state = viewer_state(request)
    part = request.path_params["part"]
    run = state.run(request.path_params["run"])
    record = find_run_sample(state, run, request.path_params["sample"])
    if part not in _TEXT_PARTS:
        raise SampleNotFound(f"a sample has no {str(part)[:40]!r} (only {', '.join(_TEXT_PARTS)})")
    if part == "steps":
        steps = _steps_of(state, record, state.store.steps.failed_steps([record.id]).get(record.id))
        if not steps.nodes:
            raise SampleNotFound(f"sample {record.id} has no steps")
        return PlainTextResponse(steps_text(record, steps), headers={"content-disposition": "inline"})
    text: str | None = getattr(record, part)
    if text is None:
        raise SampleNotFound(f"sample {record.id} has no {part}")
    return PlainTextResponse(text, headers={"content-disposition": "inline"})
