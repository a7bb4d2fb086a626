"""The two kinds of grader, their shared metadata, templated parameters, negation and error capture.

A grader is one of two kinds, told apart by its base class (``grader_kind``), never by a flag:

- a ``SampleGrader`` decides on one output at a time (``grade``); the run loop and ``mendoza regrade`` apply it
  to every sample;
- a ``PairwiseGrader`` compares two variants' outputs for the same case (``compare``); the run leaves it out,
  and ``mendoza rank`` / ``mendoza regrade`` judge the pairs after the run.
"""

from __future__ import annotations

import types
import typing
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple, cast, overload

from pydantic import BaseModel, ConfigDict, model_validator

from mendoza.core import Case, Grade, GraderSpec, Step
from mendoza.errors import GraderError
from mendoza.graders.guard import GraderRaised, GraderTimeout, run_guarded

if TYPE_CHECKING:
    import jinja2

    from mendoza.calls.caller import ModelCache

__all__ = [
    "BoundGrader",
    "BoundPairwise",
    "Grader",
    "GraderKind",
    "GraderParams",
    "PairOutcome",
    "PairwiseGrader",
    "Preference",
    "SampleGrader",
    "Verdict",
    "bind_grader",
    "grader_kind",
    "render_param",
]

GraderKind = Literal["sample", "pairwise"]
"""What a grader works on: one sample at a time, or a pair of variants' outputs for the same case."""

Preference = Literal["a", "b", "tie"]
"""Which variant's output a pairwise judge preferred: A's, B's, or neither."""


class Verdict(NamedTuple):
    """What a grader decides: pass or fail, a score in [0, 1], and why; ``detail`` is optional structured
    data stored with the grade (a judge's votes and reasons)."""

    passed: bool
    score: float
    explanation: str
    detail: Mapping[str, Any] | None = None


def _is_number(annotation: Any) -> bool:
    """``int``, ``float`` or an optional one (not a union with ``str``: ``numeric``'s value may be text)."""
    if annotation in (int, float):
        return True
    members = set(typing.get_args(annotation)) - {type(None)}
    is_union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    return is_union and bool(members) and members <= {int, float}


class GraderParams(BaseModel):
    """Base of every grader's parameters: unknown keys are an error, and so is ``true`` for a number."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                key = field.alias or name
                if isinstance(data.get(key), bool) and _is_number(field.annotation):
                    raise ValueError(f"'{key}' must be a number, not a boolean")
        return data


@cache
def _environment() -> jinja2.Environment:
    """The sandboxed Jinja2 environment of parameters, made on first use: a report that only asks a grader's
    kind does not load Jinja2."""
    from mendoza.config.templates import user_environment

    return user_environment(keep_trailing_newline=True)


@lru_cache(maxsize=4096)
def _template(text: str) -> jinja2.Template:
    return _environment().from_string(text)


def _check_templates(value: Any, name: str, grader: str) -> None:
    """Every ``{{ }}`` / ``{% %}`` template in a parameter (or in its lists and nested models) parses."""
    if isinstance(value, str):
        if "{{" in value or "{%" in value:
            import jinja2

            try:
                _environment().parse(value)
            except jinja2.TemplateSyntaxError as exc:
                raise GraderError(
                    f"grader '{grader}': parameter '{name}': template syntax error on its line {exc.lineno}: "
                    f"{exc.message}"
                ) from None
    elif isinstance(value, list | tuple):
        for item in value:
            _check_templates(item, name, grader)
    elif isinstance(value, BaseModel):
        for field, item in value:
            _check_templates(item, f"{name}.{field}", grader)


def render_param(value: Any, case: Case) -> Any:
    """Render a templated parameter (``"{{ expected }}"``) over the case; other values pass through.

    A string that is exactly one ``{{ name }}`` expression keeps the type of what it names (a list stays a
    list, a number a number), so ``contains_any: "{{ expected }}"`` works with a list of expectations.
    """
    if isinstance(value, str) and "{" in value:
        stripped = value.strip()
        if stripped.startswith("{{") and stripped.endswith("}}") and stripped.count("{{") == 1:
            name = stripped[2:-2].strip()
            context = case.template_context()
            if name.isidentifier() and name in context:
                return context[name]
        import jinja2

        try:
            return _template(value).render(case.template_context())
        except jinja2.TemplateError as exc:
            raise GraderError(f"template {value!r}: {exc}") from None
        except Exception as exc:  # the author's expression failed ({{ 1/0 }}): this grade's error, not a crash
            raise GraderError(f"template {value!r}: {type(exc).__name__}: {exc}") from None
    if isinstance(value, list):
        return [render_param(item, case) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class PairOutcome:
    """A pairwise judge's preference between A's and B's outputs: in each order (as ``a``/``b``/``tie``) and
    combined, with the judge's answers."""

    winner: Preference
    first_order: Preference
    second_order: Preference
    explanation: str
    detail: dict[str, Any]


class Grader(ABC):
    """What every grader has, whatever its kind: metadata, a ``Params`` model, hooks for a judge's cache and
    connections. Subclass one of the kinds, ``SampleGrader`` or ``PairwiseGrader`` (a plugin that subclasses
    ``Grader`` itself and has a ``grade`` method is taken as a sample grader, as it always was).

    Parameters are rendered as Jinja2 templates over the case; use ``self.param(name, case)`` to get a rendered
    value.
    """

    #: The registry name used in suite files (``contains``, ``regex``...).
    name: ClassVar[str]
    #: One line for ``mendoza graders``.
    description: ClassVar[str]
    #: The parameters, validated when the suite loads.
    Params: ClassVar[type[GraderParams]]
    #: The parameter a scalar shorthand sets: ``contains: "x"`` means ``contains: {value: "x"}``.
    shorthand: ClassVar[str | None] = "value"
    #: Whether grading calls a model (a judge).
    needs_model: ClassVar[bool] = False
    #: Whether grading may block (it runs a user's code): it then runs off the event loop (``graders.guard``).
    blocking: ClassVar[bool] = False
    #: An example as a suite would write it, for ``mendoza graders``.
    example: ClassVar[str] = ""
    #: Whether the grader reads the sample's steps (``SampleGrader.grade_steps``) rather than its output alone.
    uses_steps: ClassVar[bool] = False

    def __init__(self, params: GraderParams) -> None:
        self.params = params

    @classmethod
    def resolve_files(cls, params: dict[str, Any], base_dir: Path) -> dict[str, Any]:
        """Parameters with any file they name (relative to the suite file's folder) read in, so the suite's
        snapshot and the grader's definition hash cover the file's content. The default changes nothing."""
        return params

    def use_cache(self, cache: ModelCache | None) -> None:  # noqa: B027 - optional hook
        """Where a grader that calls a model caches its calls (None: no cache). The default ignores it."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release what the grader holds (a judge's connections); called once when grading ends."""

    def param(self, name: str, case: Case) -> Any:
        """The named parameter, rendered over ``case``."""
        return render_param(getattr(self.params, name), case)

    @classmethod
    def parse_params(cls, raw: Any) -> GraderParams:
        """Validate raw parameters from a suite (a mapping, or a scalar when ``shorthand`` is set)."""
        if not isinstance(raw, dict):
            if cls.shorthand is None:
                raise GraderError(f"grader '{cls.name}' takes a mapping of parameters, not {raw!r}")
            raw = {cls.shorthand: raw}
        return cls.Params.model_validate(raw)

    @classmethod
    def check(cls, params: GraderParams) -> None:
        """Raise ``GraderError`` for a mistake that would fail every sample, found when the suite loads: a
        templated parameter that does not parse. A grader that imports code checks the import too."""
        for name, value in params:
            _check_templates(value, name, cls.name)


class SampleGrader(Grader):
    """The per-sample kind: turns one output into a ``Verdict``; the run applies it to every sample.

    ``grade`` may return a ``Verdict`` or an awaitable of one (for graders that call a model). A grader whose
    ``grade`` may block (it runs a user's code) sets ``blocking``: it then runs on a thread of its own.
    """

    @abstractmethod
    def grade(self, output: str, case: Case) -> Verdict | Awaitable[Verdict]:
        """Decide on one output for one case."""

    def grade_steps(self, steps: Sequence[Step], output: str, case: Case) -> Verdict | Awaitable[Verdict]:
        """Decide on a sample's steps (a grader that sets ``uses_steps``; the default grades the output)."""
        return self.grade(output, case)


class PairwiseGrader(Grader):
    """The pairwise kind: a judge compares two variants' outputs for the same case and repeat. The run leaves
    it out; ``mendoza rank`` (or ``mendoza regrade``) compares the pairs of a finished run."""

    @abstractmethod
    def compare(self, case: Case, output_a: str, output_b: str, repeat: int = 0) -> Awaitable[PairOutcome]:
        """Which of A's and B's outputs is better; ``GraderError`` when the grader cannot tell."""


def grader_kind(grader_class: type[Any]) -> GraderKind:
    """Which kind a registered grader class is: ``"pairwise"`` for a ``PairwiseGrader``, else ``"sample"``
    (a plugin class that is neither kind, such as a direct ``Grader`` subclass, is taken as a sample grader)."""
    if isinstance(grader_class, type) and issubclass(grader_class, PairwiseGrader):
        return "pairwise"
    return "sample"


@dataclass(frozen=True, slots=True)
class BoundPairwise:
    """A pairwise grader ready to judge a run's pairs: its spec, its instance and its definition hash."""

    spec: GraderSpec
    grader: PairwiseGrader
    definition_hash: str


@dataclass(frozen=True, slots=True)
class BoundGrader:
    """A per-sample grader ready for a run: its spec, its instance and its definition hash (computed once)."""

    spec: GraderSpec
    grader: SampleGrader
    definition_hash: str

    async def grade(
        self, output: str, case: Case, timeout: float | None = None, steps: Sequence[Step] = ()
    ) -> Grade:
        """Grade one output within ``timeout`` seconds; a failing grader gives an error grade, never an
        exception (``SystemExit`` in a user's grader included: see ``graders.guard``), and a negated spec
        flips the verdict.

        The spec says what is graded (``targets``): the output; or, with ``step: NAME``, the output of the last
        step of that name (failed when no such step ran); or, with ``turn: each``, every assistant turn of a
        conversation (all must pass). A grader that reads steps (``uses_steps``) gets ``steps`` too."""
        name, digest = self.spec.name, self.definition_hash
        targets = graded_texts(self.spec, output, steps)
        if targets is None:
            return Grade(name, False, 0.0, f"step '{self.spec.step}' did not run", grader_hash=digest)
        grade: Grade | None = None
        for text in targets:
            grade = await self._grade_one(text, case, timeout, steps)
            if grade.passed is not True:
                return grade  # the first turn that fails (or cannot be decided) decides
        assert grade is not None
        return grade

    async def _grade_one(self, output: str, case: Case, timeout: float | None, steps: Sequence[Step]) -> Grade:
        name, digest = self.spec.name, self.definition_hash
        grader = self.grader
        try:
            # A judge's time is bounded by its model calls' own timeouts and retries; a wall-clock limit would
            # also count the wait for a busy judge (fifty samples queueing on one local model) as hanging.
            limit = None if grader.needs_model else timeout
            if grader.uses_steps:
                verdict = await run_guarded(
                    lambda: grader.grade_steps(steps, output, case), blocking=grader.blocking, timeout=limit
                )
            else:
                verdict = await run_guarded(lambda: grader.grade(output, case), blocking=grader.blocking, timeout=limit)
        except (GraderError, GraderTimeout) as exc:
            return Grade(name, None, None, "", grader_hash=digest, error=str(exc))
        except GraderRaised as exc:  # exit() in a user's grader: this grade's error
            return Grade(name, None, None, "", grader_hash=digest, error=str(exc))
        except Exception as exc:  # a user's grader may raise anything: this grade's error
            return Grade(name, None, None, "", grader_hash=digest, error=f"{type(exc).__name__}: {exc}")
        if not isinstance(verdict, Verdict):
            return Grade(name, None, None, "", grader_hash=digest, error=f"grader returned {verdict!r}")
        passed, score, explanation, detail = verdict
        if self.spec.negate:
            passed, score, explanation = (not passed), 1.0 - score, f"not ({explanation})"
        return Grade(name, passed, score, explanation, grader_hash=digest, detail=detail)


def graded_texts(spec: GraderSpec, output: str, steps: Sequence[Step]) -> list[str] | None:
    """What a spec grades of a sample: ``[output]``; the last ``spec.step`` step's output (None when no such
    step ran); or with ``turn: each`` every conversation turn's answer (the output when there are none)."""
    if spec.step is not None:
        named = [step for step in steps if step.name == spec.step]
        return None if not named else [named[-1].output or ""]
    if spec.turn == "each":
        turns = [step.output or "" for step in steps if step.attributes and "mendoza.turn" in step.attributes]
        return turns or [output]
    return [output]


@overload
def bind_grader(spec: GraderSpec, grader_class: type[PairwiseGrader]) -> BoundPairwise: ...


@overload
def bind_grader(spec: GraderSpec, grader_class: type[SampleGrader]) -> BoundGrader: ...


def bind_grader(spec: GraderSpec, grader_class: type[Grader]) -> BoundGrader | BoundPairwise:
    """Instantiate the grader a spec names (its class found by the caller in the registry), bound as its kind."""
    grader = grader_class(grader_class.parse_params(spec.params))
    if grader_kind(grader_class) == "pairwise":
        return BoundPairwise(spec, cast(PairwiseGrader, grader), spec.definition_hash())
    # A plugin class outside both kinds is tried as a sample grader, as ``grader_kind`` says.
    return BoundGrader(spec, cast(SampleGrader, grader), spec.definition_hash())
