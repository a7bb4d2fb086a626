"""The data model: suites, cases, variants, graders' specs, samples, grades and runs.

Objects that come from a suite file (``Suite``, ``Case``, ``Variant``, ``GraderSpec``, ``Thresholds``) are
frozen pydantic models, so a suite is validated once and can be hashed and snapshotted. Objects made by the
thousand on the hot path (``ModelRequest``, ``ModelResponse``, ``Sample``, ``Grade``) are frozen slotted
dataclasses: they cost a fraction of a model's validation and need none, being made by our own code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "EXECUTORS",
    "STEP_KINDS",
    "BandName",
    "Case",
    "ErrorPolicy",
    "Grade",
    "GraderSpec",
    "HumanReview",
    "Message",
    "ModelRequest",
    "ModelResponse",
    "Outcome",
    "OutcomeCounts",
    "Pricing",
    "Run",
    "RunStatus",
    "Sample",
    "Step",
    "StepKind",
    "Suite",
    "Thresholds",
    "ToolSpec",
    "Variant",
    "adjusted_outcome",
    "adjusted_verdict",
    "combined_verdict",
    "first_failing_step",
    "provider_name_of",
    "sample_outcome",
    "sample_seed",
    "stable_hash",
]

#: Where a run's samples may be drawn and graded (``--executor``): this process, or Ray workers.
EXECUTORS: tuple[str, ...] = ("local", "ray")

RunStatus = Literal["running", "interrupted", "complete", "failed"]

Outcome = Literal["passed", "failed", "errored", "undecided"]
"""How one planned sample ended: its graders passed it or failed it; the call or the app errored (no output
to grade); or a grader could not decide (a judge's unreadable answer, a grader that crashed)."""

ErrorPolicy = Literal["fail", "exclude"]
"""What an errored sample counts as in the headline pass rate: a failure (``fail``, the default: a user who
hit an error did not get a good answer) or nothing (``exclude``: infrastructure noise to retry later)."""


def provider_name_of(model: str) -> str:
    """The registry name of the provider a ``model`` string names: ``local`` for ``local/gemma-3-270m``,
    ``python`` for ``python:pkg.mod:fn``, ``echo`` for ``echo``."""
    if model.startswith("python:"):
        return "python"
    return model.split("/", 1)[0]


def sample_outcome(error: str | None, passed: bool | None) -> Outcome:
    """The outcome of a sample from its error and its verdict: the one rule every count is made with (the
    store's SQL mirrors it in ``store.outcomes``, and a test holds the two equal)."""
    if error is not None:
        return "errored"
    if passed is None:
        return "undecided"
    return "passed" if passed else "failed"


@dataclass(frozen=True, slots=True)
class OutcomeCounts:
    """How many samples ended in each outcome. ``headline`` is the one rule for what a pass rate counts."""

    passed: int = 0
    failed: int = 0
    errored: int = 0
    undecided: int = 0

    @classmethod
    def of(cls, samples: int, passed: int, failed: int, errored: int) -> OutcomeCounts:
        """Counts from a total: the samples neither passed, failed nor errored are undecided."""
        return cls(passed, failed, errored, samples - passed - failed - errored)

    @property
    def samples(self) -> int:
        """Every sample counted, whatever its outcome."""
        return self.passed + self.failed + self.errored + self.undecided

    def __add__(self, other: OutcomeCounts) -> OutcomeCounts:
        return OutcomeCounts(
            self.passed + other.passed,
            self.failed + other.failed,
            self.errored + other.errored,
            self.undecided + other.undecided,
        )

    def headline(self, errors: ErrorPolicy) -> tuple[int, int]:
        """``(passed, failed)`` as a pass rate counts them: errored samples are failures under ``errors:
        fail`` and left out under ``exclude``; undecided samples (no verdict) are always left out, and the
        report's bounds say what they could change."""
        failed = self.failed + self.errored if errors == "fail" else self.failed
        return self.passed, failed

    def bounds(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """``(passed, failed)`` if every errored or undecided sample had failed, and if every one had passed:
        the two ends of what the rate could be whatever those samples would have given."""
        unknown = self.errored + self.undecided
        return (self.passed, self.failed + unknown), (self.passed + unknown, self.failed)


def combined_verdict(verdicts: Sequence[bool | None]) -> bool | None:
    """A sample's automatic verdict from its current graders' verdicts: passed when every grader passed it,
    failed when one failed it and none could not decide, undecided (None) when a grader could not decide or
    there is no grader's verdict at all."""
    if not verdicts or any(verdict is None for verdict in verdicts):
        return None
    return all(verdicts)


def adjusted_verdict(automatic: bool | None, human: bool | None) -> bool | None:
    """The human-adjusted verdict of a sample: the person's label where there is one, else the graders'."""
    return automatic if human is None else human


def adjusted_outcome(error: str | None, passed: bool | None, human: bool | None) -> Outcome:
    """The outcome of a sample by human-adjusted verdicts: a person's label decides it (even an errored
    sample's: the person saw what the user would get), else its automatic outcome."""
    if human is not None:
        return "passed" if human else "failed"
    return sample_outcome(error, passed)


def stable_hash(value: Any) -> str:
    """A short, stable sha256 hex digest of any JSON-serialisable value (key order does not matter)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    # surrogatepass: a lone surrogate (from a JSON "\\ud800" escape) hashes instead of crashing the run.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def sample_seed(suite_seed: int, case_id: str, repeat: int) -> int:
    """The seed for one (case, repeat): reproducible, and different for every repeat.

    Every variant gets the same seed for the same (case, repeat) (common random numbers): where two variants
    share a model, their samples are coupled, which makes a paired comparison of them sharper.
    """
    digest = hashlib.sha256(f"{suite_seed}\x1f{case_id}\x1f{repeat}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def first_failing_step(steps: Sequence[Step], failed_targets: Collection[str]) -> str | None:
    """Where a sample's failure starts: the first of its ``steps`` (in start order) that errored or that a
    step grader failed (``failed_targets``: the step names whose grader failed; a grader grades the last step
    of its name). None when no step failed (a failure, if any, is the final output's)."""
    graded = {step.name: index for index, step in enumerate(steps) if step.name in failed_targets}
    for index, step in enumerate(steps):
        if step.error is not None or graded.get(step.name) == index:
            return step.name
    return None


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Message(_Frozen):
    """One turn of a conversation. In a case's ``messages`` the ``user`` turns are the script; an
    ``assistant`` turn given there is fixed history, and after each user turn with no assistant turn following
    it the variant answers (its answer then stays in the history of the next turn). ``content`` is a template
    over the case's vars, like a prompt."""

    role: Literal["system", "user", "assistant"]
    content: str


class ToolSpec(_Frozen):
    """A function a model may call: its name, what it does, and its arguments as a JSON Schema (OpenAI's and
    Anthropic's shape of a tool)."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class Case(_Frozen):
    """One input of a suite: template variables, an optional expected answer, tags and metadata."""

    id: str
    vars: dict[str, Any] = Field(default_factory=dict)
    expected: Any = None
    tags: tuple[str, ...] = ()
    metadata: dict[str, Any] = Field(default_factory=dict)
    #: A conversation instead of (or beside) vars for a prompt: see ``Message``.
    messages: tuple[Message, ...] | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    def template_context(self) -> dict[str, Any]:
        """What a prompt or grader template sees: the vars, plus ``expected``, ``case_id``, ``tags``."""
        context: dict[str, Any] = dict(self.vars)
        context.setdefault("expected", self.expected)
        context.setdefault("case_id", self.id)
        context.setdefault("tags", list(self.tags))
        context.setdefault("metadata", self.metadata)
        return context


class Pricing(_Frozen):
    """What a model costs, in US dollars per million tokens, so samples can carry a cost."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)

    def cost(self, tokens_in: int | None, tokens_out: int | None) -> float | None:
        """The cost of one call, or None when the provider did not report tokens."""
        if tokens_in is None and tokens_out is None:
            return None
        return ((tokens_in or 0) * self.input + (tokens_out or 0) * self.output) / 1_000_000


class Variant(_Frozen):
    """One way of doing the feature: a model (or an application callable), a prompt template and params."""

    id: str
    model: str
    prompt: str | None = None
    system: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    base_url: str | None = None
    api_key_env: str | None = None
    concurrency: int | None = Field(default=None, ge=1, le=1024)
    timeout: float | None = Field(default=None, gt=0)
    pricing: Pricing | None = None
    #: Functions the model may call (sent by the ``openai`` and ``anthropic`` providers); its calls come back
    #: as the sample's ``tool`` steps.
    tools: tuple[ToolSpec, ...] = ()

    @property
    def provider_name(self) -> str:
        """The registry name of the provider (``provider_name_of`` its model)."""
        return provider_name_of(self.model)

    @property
    def model_name(self) -> str:
        """The part after the provider name (``gemma-3-270m``, ``gpt-4o-mini``, ``pkg.mod:fn``)."""
        if self.model.startswith("python:"):
            return self.model[len("python:") :]
        return self.model.split("/", 1)[1] if "/" in self.model else ""


class GraderSpec(_Frozen):
    """A grader as a suite names it: its registered ``type``, its parameters, and whether it is negated."""

    type: str
    params: dict[str, Any] = Field(default_factory=dict)
    name: str
    negate: bool = False
    #: Grade this step's output (the last step of that name) instead of the sample's final output.
    step: str | None = None
    #: In a conversation: grade the last assistant turn (the output), or ``each`` (all must pass).
    turn: Literal["last", "each"] = "last"
    #: The check can run in production (it needs no reference answer): a design may escalate on it
    #: (``mendoza design``). It does not change verdicts, so it is not part of the definition hash.
    runtime: bool = False

    def definition_hash(self) -> str:
        """Identifies this exact grader definition, so old and new verdicts can sit side by side (a step or
        turn target is part of it only when set, so the hashes of graders without one never changed)."""
        definition: dict[str, Any] = {"type": self.type, "params": self.params, "negate": self.negate}
        if self.step is not None:
            definition["step"] = self.step
        if self.turn != "last":
            definition["turn"] = self.turn
        return stable_hash(definition)


BandName = Literal["below the Mendoza line", "assistive", "supervised", "autonomous"]


class HumanReview(_Frozen):
    """What a person's review of one output costs (US dollars) and takes (seconds), for designs that send
    outputs to a person (``mendoza design``); the person is assumed right."""

    cost: float = Field(default=1.0, ge=0)
    seconds: float = Field(default=60.0, ge=0)


class Thresholds(_Frozen):
    """What a run must reach for ``mendoza run`` / ``mendoza compare`` to exit 0 (so a suite can gate CI).

    Each threshold has three outcomes (``report.gate``). With ``basis: interval`` (the default) it *passes*
    when the whole confidence interval lies on the good side of it, *fails* when the whole interval lies on
    the bad side, and is *inconclusive* otherwise (the data decide neither way); ``on_inconclusive`` says
    whether an inconclusive gate fails CI (default ``pass``: a gate that fails on noise gets switched off).
    ``basis: estimate`` compares the point estimates instead (never inconclusive, and fooled by noise).
    ``max_error_rate`` bounds the share of samples that errored. ``variants`` limits the gate to some
    variants (default: all).
    """

    min_pass_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    band: BandName | None = None
    max_regression: float | None = Field(default=None, ge=0.0, le=1.0)
    max_error_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    basis: Literal["interval", "estimate"] = "interval"
    on_inconclusive: Literal["pass", "fail"] = "pass"
    variants: tuple[str, ...] | None = None


class Suite(_Frozen):
    """A named eval: cases x variants x repeats, graded by graders, held to thresholds."""

    name: str
    description: str = ""
    cases: tuple[Case, ...]
    variants: tuple[Variant, ...]
    graders: tuple[GraderSpec, ...] = ()
    repeats: int = Field(default=1, ge=1)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    band_edges: tuple[float, float, float] = (0.60, 0.90, 0.99)
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    errors: ErrorPolicy = "fail"
    seed: int = 0
    timeout: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=3, ge=0)
    #: The longest one sample waits before a retry (a longer Retry-After makes it an error at once).
    max_retry_wait: float = Field(default=60.0, gt=0)
    #: Seconds one grader may take over one sample before its grade is an error ("timed out"); a judge's time
    #: is bounded by its model calls' own timeouts instead, and the ``code`` grader's programs have their own.
    grade_timeout: float = Field(default=300.0, gt=0)
    cache: bool = True
    #: A person's review, for designs with a human in the loop (None: the default ``HumanReview()``).
    human: HumanReview | None = None
    source: str | None = Field(default=None, exclude=True)

    def snapshot(self) -> dict[str, Any]:
        """The whole suite as plain data (cases resolved), as stored with each run."""
        return self.model_dump(mode="json")

    def content_hash(self) -> str:
        """A hash of everything that decides the outputs and grades (not where the file lives)."""
        return stable_hash(self.snapshot())

    @field_validator("band_edges")
    @classmethod
    def _edges_increase(cls, edges: tuple[float, float, float]) -> tuple[float, float, float]:
        if not 0.0 < edges[0] < edges[1] < edges[2] < 1.0:
            raise ValueError("band_edges must be three increasing rates between 0 and 1, e.g. [0.6, 0.9, 0.99]")
        return edges

    def case(self, case_id: str) -> Case:
        """The case with this id (``KeyError`` if none)."""
        for case in self.cases:
            if case.id == case_id:
                return case
        raise KeyError(case_id)

    def variant(self, variant_id: str) -> Variant:
        """The variant with this id (``KeyError`` if none)."""
        for variant in self.variants:
            if variant.id == variant_id:
                return variant
        raise KeyError(variant_id)


@dataclass(frozen=True, slots=True)
class ModelRequest:
    """One call to a provider. ``prompt`` is the rendered template (None for callables without one);
    ``vars`` are the case's own variables (never its expected answer); ``repeat`` is the repeat index."""

    prompt: str | None
    vars: Mapping[str, Any]
    params: Mapping[str, Any]
    seed: int
    system: str | None = None
    case_id: str = ""
    repeat: int = 0
    #: The conversation so far (rendered), when the case has one: providers that speak chat send it as it is.
    messages: tuple[Message, ...] | None = None
    tools: tuple[ToolSpec, ...] = ()


StepKind = Literal["llm", "tool", "retrieval", "guardrail", "other"]
STEP_KINDS: tuple[StepKind, ...] = ("llm", "tool", "retrieval", "guardrail", "other")


@dataclass(frozen=True, slots=True)
class Step:
    """One step of how a sample was made: an OpenTelemetry span an app emitted (or ``mendoza.step``), a call of
    ``mendoza.model``, a tool call a model asked for, a turn of a conversation.

    ``span_id`` / ``parent_id`` make the tree (``parent_id`` None: a top-level step); ``start_ms`` counts from
    the start of the sample's call. ``input`` and ``output`` are text (JSON for structured values); a ``tool``
    step's ``name`` is the tool's name and its ``input`` the arguments as JSON. ``error`` is set when the step
    failed (the span's error status or exception)."""

    name: str
    kind: StepKind = "other"
    span_id: str = ""
    parent_id: str | None = None
    start_ms: float = 0.0
    duration_ms: float = 0.0
    input: str | None = None
    output: str | None = None
    attributes: Mapping[str, Any] | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost: float | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ModelResponse:
    """What a provider returned: the text, and what it cost when the provider can tell. ``metadata`` holds
    anything else an app returned with its output (a ``python:`` app's extra keys)."""

    text: str
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost: float | None = None
    finish_reason: str | None = None
    #: Something the caller should know about how this output was made (a chat template llama.cpp guessed).
    notice: str | None = None
    metadata: Mapping[str, Any] | None = None
    #: How the output was made, in steps (an app's spans, a model's tool calls), in start order.
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True, slots=True)
class Grade:
    """A grader's verdict on one sample. ``passed`` is None when the grader itself failed (``error``).

    Grades of one sample by the same grader name but different ``grader_hash`` are verdicts of different
    definitions of that grader (a regrade adds the new ones beside the old)."""

    grader: str
    passed: bool | None
    score: float | None
    explanation: str = ""
    source: Literal["auto", "human"] = "auto"
    grader_hash: str = ""
    error: str | None = None
    author: str | None = None
    #: Structured detail a grader adds (a judge's votes and reasons), stored as JSON beside the grade.
    detail: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Sample:
    """One output for one (case, variant, repeat), with what it cost and how it went."""

    case_id: str
    variant_id: str
    repeat: int
    prompt: str | None
    output: str | None
    error: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost: float | None = None
    latency_ms: float = 0.0
    cached: bool = False
    seed: int = 0
    attempts: int = 1
    grades: tuple[Grade, ...] = field(default_factory=tuple)
    #: What the report should know about how the sample was made or stored (one line each).
    notes: str | None = None
    #: How long grading took (ms), apart from ``latency_ms`` (the model call's); None when not measured.
    grading_ms: float | None = None
    #: What the provider returned beside the output (``ModelResponse.metadata``), when anything.
    metadata: Mapping[str, Any] | None = None
    #: How the output was made (``ModelResponse.steps``, and a conversation's turns), in start order.
    steps: tuple[Step, ...] = ()
    #: The first step this sample failed at (``first_failing_step``), None when none did.
    failed_step: str | None = None

    @property
    def passed(self) -> bool | None:
        """All automatic grades passed; None when the sample errored or a grader could not decide."""
        if self.error is not None:
            return None
        return combined_verdict([grade.passed for grade in self.grades if grade.source == "auto"])

    @property
    def outcome(self) -> Outcome:
        """Passed, failed, errored or undecided (see ``sample_outcome``)."""
        return sample_outcome(self.error, self.passed)


@dataclass(frozen=True, slots=True)
class Run:
    """One execution of a suite, as the store records it."""

    id: str
    suite_name: str
    suite_hash: str
    status: RunStatus
    created_at: str
    finished_at: str | None
    repeats: int
    variant_ids: tuple[str, ...]
    n_cases: int
    expected_samples: int
    done_samples: int = 0
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def adaptive(self) -> bool:
        """Whether the run sampled adaptively (``--until-decided``): its intervals are confidence sequences."""
        return self.options.get("mode") == "adaptive"
