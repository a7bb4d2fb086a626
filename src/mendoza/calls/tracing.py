"""The steps of a sample, captured the standard way: as OpenTelemetry spans.

While a ``python:`` app handles a sample, ``capture_steps`` opens a root span of its own (a new trace per
sample) and collects every span that ends in that trace: spans the app emits through the global tracer
provider (apps instrumented with the OpenTelemetry SDK and the GenAI semantic conventions work unchanged),
spans of ``step`` (the light helper for apps that are not instrumented), and the calls of ``mendoza.model``.
Each becomes a ``core.Step``: a span's GenAI attributes give its kind, tokens and model; its error status or
exception its error; ``mendoza.step.*`` attributes what ``step`` was told.

The span processor is installed once per process on the global SDK ``TracerProvider`` (the app's, when it set
one before; else one of mendoza's, set as the global one). Spans outside a captured sample pass through it
untouched, so an app keeps its own exporters, and ``step`` costs nothing in production beyond a span.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.trace import Span, StatusCode

from mendoza.core import STEP_KINDS, Step, StepKind

__all__ = ["CapturedSteps", "StepHandle", "capture_steps", "record_step", "step", "step_from_span"]

#: A step's input or output longer than this is clipped (the sample's own output never is).
MAX_STEP_TEXT = 1_000_000

_LLM_OPERATIONS = {"chat", "text_completion", "generate_content", "completion", "invoke_agent", "create_agent"}
_INPUT_KEYS = ("mendoza.step.input", "gen_ai.tool.call.arguments", "gen_ai.input.messages", "gen_ai.prompt")
_OUTPUT_KEYS = ("mendoza.step.output", "gen_ai.tool.call.result", "gen_ai.output.messages", "gen_ai.completion")
_TOKENS_IN = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
_TOKENS_OUT = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
_COST = ("mendoza.cost", "gen_ai.usage.cost")
_CONSUMED = {"mendoza.step.kind", *_INPUT_KEYS, *_OUTPUT_KEYS, *_TOKENS_IN, *_TOKENS_OUT, *_COST}


@dataclass
class CapturedSteps:
    """The spans of one sample as they end, and, once the sample is done, its ``steps`` in start order."""

    trace_id: int = 0
    root_span_id: int = 0
    start_ns: int = 0
    spans: list[ReadableSpan] = field(default_factory=list)
    steps: tuple[Step, ...] = ()


_current: ContextVar[CapturedSteps | None] = ContextVar("mendoza_captured_steps", default=None)


class _SampleRouter(SpanProcessor):
    """Hands each ended span to the sample whose trace it belongs to (or, for a span started in a new trace
    while a sample was being captured in its context, to that sample); ignores every other span."""

    def __init__(self) -> None:
        self._by_trace: dict[int, CapturedSteps] = {}
        self._strays: dict[int, CapturedSteps] = {}
        self._lock = threading.Lock()

    def watch(self, captured: CapturedSteps) -> None:
        with self._lock:
            self._by_trace[captured.trace_id] = captured

    def forget(self, captured: CapturedSteps) -> None:
        with self._lock:
            self._by_trace.pop(captured.trace_id, None)
            for span_id in [key for key, value in self._strays.items() if value is captured]:
                del self._strays[span_id]

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        context = span.get_span_context()
        if context.trace_id in self._by_trace:
            return
        captured = _current.get()
        if captured is not None:
            with self._lock:
                self._strays[context.span_id] = captured

    def on_end(self, span: ReadableSpan) -> None:
        context = span.get_span_context()
        if context is None:
            return
        captured = self._by_trace.get(context.trace_id) or self._strays.get(context.span_id)
        if captured is not None and context.span_id != captured.root_span_id:
            captured.spans.append(span)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


_router = _SampleRouter()
_installed_on: set[int] = set()
_install_lock = threading.Lock()


def _install() -> None:
    """Put the router on the global SDK tracer provider (set one when the app has not)."""
    provider = trace.get_tracer_provider()
    if id(provider) in _installed_on:
        return
    with _install_lock:
        provider = trace.get_tracer_provider()
        if id(provider) in _installed_on:
            return
        if not isinstance(provider, TracerProvider):
            ours = TracerProvider()
            trace.set_tracer_provider(ours)
            provider = trace.get_tracer_provider()  # ours, unless another thread set one first
        if isinstance(provider, TracerProvider):
            provider.add_span_processor(_router)
            _installed_on.add(id(provider))


def _tracer() -> trace.Tracer:
    return trace.get_tracer("mendoza")


@contextlib.contextmanager
def capture_steps() -> Iterator[CapturedSteps]:
    """Capture the spans of the code run inside (a new trace; the current thread's context and any thread it
    starts with ``contextvars`` copied, as ``asyncio.to_thread`` does); ``captured.steps`` holds them after."""
    _install()
    captured = CapturedSteps()
    token = _current.set(captured)
    try:
        with _tracer().start_as_current_span("mendoza.sample", context=otel_context.Context()) as root:
            span_context = root.get_span_context()
            captured.trace_id, captured.root_span_id = span_context.trace_id, span_context.span_id
            captured.start_ns = getattr(root, "start_time", None) or 0
            _router.watch(captured)
            try:
                yield captured
            finally:
                _router.forget(captured)
                captured.steps = _steps_of(captured)
    finally:
        _current.reset(token)


def _steps_of(captured: CapturedSteps) -> tuple[Step, ...]:
    spans = sorted(list(captured.spans), key=lambda span: (span.start_time or 0, span.end_time or 0))
    return tuple(step_from_span(span, captured.start_ns, captured.root_span_id) for span in spans)


def _hex(span_id: int) -> str:
    return f"{span_id:016x}"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > MAX_STEP_TEXT:
        return text[:MAX_STEP_TEXT] + f"... [clipped: {len(text) - MAX_STEP_TEXT} more characters]"
    return text


def _first(attributes: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in attributes:
            return attributes[key]
    return None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _kind_of(name: str, attributes: Mapping[str, Any]) -> StepKind:
    declared = attributes.get("mendoza.step.kind")
    if declared in STEP_KINDS:
        return declared  # type: ignore[no-any-return]
    operation = attributes.get("gen_ai.operation.name")
    if operation == "execute_tool" or "gen_ai.tool.name" in attributes:
        return "tool"
    if operation == "embeddings" or "retriev" in name.lower():
        return "retrieval"
    if operation in _LLM_OPERATIONS or "gen_ai.request.model" in attributes:
        return "llm"
    if "guardrail" in name.lower():
        return "guardrail"
    return "other"


def _error_of(span: ReadableSpan) -> str | None:
    if span.status.status_code is not StatusCode.ERROR:
        return None
    for event in span.events:
        if event.name == "exception" and event.attributes:
            kind = event.attributes.get("exception.type", "")
            message = event.attributes.get("exception.message", "")
            return f"{str(kind).rsplit('.', 1)[-1]}: {message}" if kind else str(message)
    return span.status.description or "failed"


def step_from_span(span: ReadableSpan, origin_ns: int, root_span_id: int = 0) -> Step:
    """One ended span as a step: times from ``origin_ns``, a parent that is the sample's root span is none."""
    attributes = dict(span.attributes or {})
    kind = _kind_of(span.name, attributes)
    tool_name = attributes.get("gen_ai.tool.name")
    name = tool_name if kind == "tool" and isinstance(tool_name, str) else span.name
    parent = span.parent.span_id if span.parent is not None else None
    start, end = span.start_time or origin_ns, span.end_time or span.start_time or origin_ns
    cost = _first(attributes, _COST)
    kept = {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in attributes.items()
        if key not in _CONSUMED
    }
    return Step(
        name=name,
        kind=kind,
        span_id=_hex(span.context.span_id) if span.context is not None else "",
        parent_id=None if parent is None or parent == root_span_id else _hex(parent),
        start_ms=max(0.0, (start - origin_ns) / 1e6),
        duration_ms=max(0.0, (end - start) / 1e6),
        input=_text(_first(attributes, _INPUT_KEYS)),
        output=_text(_first(attributes, _OUTPUT_KEYS)),
        attributes=kept or None,
        tokens_in=_count(_first(attributes, _TOKENS_IN)),
        tokens_out=_count(_first(attributes, _TOKENS_OUT)),
        cost=float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else None,
        error=_error_of(span),
    )


class StepHandle:
    """What the code inside ``step`` tells about it: set ``output`` (and ``input``, ``tokens_in``,
    ``tokens_out``, ``cost``, or any attribute with ``set``) before the block ends."""

    def __init__(self, span: Span, kind: StepKind, input: Any) -> None:
        self.span = span
        self.kind = kind
        self.input = input
        self.output: Any = None
        self.tokens_in: int | None = None
        self.tokens_out: int | None = None
        self.cost: float | None = None

    def set(self, key: str, value: Any) -> None:
        """Record an attribute on the step (an OpenTelemetry span attribute)."""
        self.span.set_attribute(key, value)

    def fail(self, reason: str) -> None:
        """Mark the step failed without raising (e.g. a guardrail that blocked the answer)."""
        self.span.set_status(StatusCode.ERROR, reason)

    def _finish(self) -> None:
        values = {
            "mendoza.step.kind": self.kind,
            "mendoza.step.input": _text(self.input),
            "mendoza.step.output": _text(self.output),
            "gen_ai.usage.input_tokens": self.tokens_in,
            "gen_ai.usage.output_tokens": self.tokens_out,
            "mendoza.cost": self.cost,
        }
        for key, value in values.items():
            if value is not None:
                self.span.set_attribute(key, value)


@contextlib.contextmanager
def step(name: str, kind: StepKind = "other", *, input: Any = None, **attributes: Any) -> Iterator[StepHandle]:
    """Record the code inside as one step of the sample (an OpenTelemetry span)::

        with mendoza.step("router", kind="llm", input=question) as s:
            s.output = route(question)

    An exception inside marks the step failed and goes on as it was. Outside a mendoza run it is a plain span
    (nothing at all without an OpenTelemetry SDK)."""
    if kind not in STEP_KINDS:
        raise ValueError(f"step kind '{kind}' is not one of {', '.join(STEP_KINDS)}")
    with _tracer().start_as_current_span(name, attributes=_attributes(attributes)) as span:
        handle = StepHandle(span, kind, input)
        try:
            yield handle
        finally:
            handle._finish()


def _attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes OpenTelemetry accepts: str, bool, int, float (anything else as JSON text)."""
    return {
        key: value if isinstance(value, str | bool | int | float) else _text(value)
        for key, value in values.items()
        if value is not None
    }


def record_step(name: str, kind: StepKind, *, input: Any = None, output: Any = None, **attributes: Any) -> None:
    """Record a step that already happened (an instant span), e.g. a tool call a model asked for."""
    with step(name, kind, input=input, **attributes) as handle:
        handle.output = output
