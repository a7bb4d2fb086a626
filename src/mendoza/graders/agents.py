"""Graders on what an agent did, read from a sample's steps rather than its final output: ``tool_called`` (a tool
was called, with arguments that match) and ``trajectory`` (the steps that ran, against an expected sequence).

Both set ``uses_steps``: the runner and ``mendoza regrade`` hand them the sample's steps (``core.Step``, in start
order). A ``tool`` step's ``name`` is the tool's name and its ``input`` the arguments as JSON text; arguments that
do not parse as JSON never match, and the explanation says so.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AliasChoices, ConfigDict, Field, model_validator

from mendoza.core import Case, Step, StepKind
from mendoza.errors import GraderError
from mendoza.graders.base import GraderParams, SampleGrader, Verdict, _check_templates, render_param
from mendoza.graders.text import clip, shorten

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

__all__ = ["ToolCalled", "Trajectory", "arguments_difference"]

ArgumentMatch = Literal["exact", "subset", "schema"]
TrajectoryOrder = Literal["in_order", "exact", "any_order", "subset"]

#: How many names an explanation lists before it says how many more ran.
_SHOWN = 12


def _render_deep(value: Any, case: Case) -> Any:
    """``render_param`` through dicts and lists too (``arguments: {city: "{{ city }}"}``)."""
    if isinstance(value, Mapping):
        return {key: _render_deep(item, case) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_render_deep(item, case) for item in value]
    return render_param(value, case)


def _check_deep(value: Any, name: str, grader: str) -> None:
    """Every template inside a (nested) dict parameter parses (``Grader.check`` covers strings and lists)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            _check_deep(item, f"{name}.{key}", grader)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_deep(item, name, grader)
    else:
        _check_templates(value, name, grader)


def _names(names: Sequence[str]) -> str:
    """Step names for an explanation: the first few, then how many more."""
    shown = ", ".join(shorten(name, 40) for name in names[:_SHOWN])
    return shown + (f", … ({len(names) - _SHOWN} more)" if len(names) > _SHOWN else "")


def _path(parent: str, key: str | int) -> str:
    return f"{parent}[{key}]" if isinstance(key, int) else f"{parent}.{key}"


def _show(value: Any, limit: int = 60) -> str:
    return shorten(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str), limit)


def _same(expected: Any, actual: Any) -> bool:
    """JSON equality: ``true`` is not ``1``, ``1`` is ``1.0``, objects compare by keys, arrays in order."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return expected == actual
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return expected.keys() == actual.keys() and all(_same(expected[key], actual[key]) for key in expected)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(_same(a, b) for a, b in zip(expected, actual, strict=True))
    return type(expected) is type(actual) and bool(expected == actual)


def arguments_difference(expected: Any, actual: Any, *, subset: bool, path: str = "$") -> str | None:
    """The first way ``actual`` differs from ``expected`` (None when it matches). With ``subset``, every key
    of an expected object must be in the actual one with a matching value (recursively); other keys are
    allowed. Arrays and scalars must be equal (``_same``)."""
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return f"at {path}: expected an object, got {_show(actual)}"
        for key, value in expected.items():
            if key not in actual:
                return f"at {path}: missing key {key!r}"
            found = arguments_difference(value, actual[key], subset=subset, path=_path(path, key))
            if found is not None:
                return found
        extra = [key for key in actual if key not in expected]
        if extra and not subset:
            return f"at {path}: unexpected key {extra[0]!r}"
        return None
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            found = arguments_difference(want, got, subset=subset, path=_path(path, index))
            if found is not None:
                return found
        return None
    if _same(expected, actual):
        return None
    return f"at {path}: expected {_show(expected)}, got {_show(actual)}"


def parse_arguments(text: str | None) -> tuple[Any, str | None]:
    """A tool step's arguments from its ``input``: (value, None), or (None, why not). No input is ``{}`` (a
    call without arguments); JSON text inside a JSON string (arguments encoded twice) is decoded once more."""
    if text is None or not text.strip():
        return {}, None
    try:
        value = json.loads(text)
    except ValueError as exc:
        reason = f"{exc.msg} at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else str(exc)
        return None, f"arguments are not valid JSON ({reason}): {clip(text, 60)}"
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    return value, None


def _validator(schema: dict[str, Any]) -> Validator:
    """A compiled validator for an arguments schema (Draft 2020-12 unless ``$schema`` names another)."""
    from jsonschema import exceptions, validators

    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except exceptions.SchemaError as exc:
        raise GraderError(f"tool_called: schema is not a valid JSON Schema: {exc.message}") from None
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


class ToolCalled(SampleGrader):
    """A tool step of the sample has the given name, and (optionally) arguments that match."""

    name = "tool_called"
    description = "A tool was called by name, with arguments matched exactly, by subset or by JSON Schema."
    shorthand = "name"
    example = 'tool_called: {name: get_weather, arguments: {city: "{{ city }}"}}'
    uses_steps = True

    class Params(GraderParams):
        """Parameters of ``tool_called``. ``arguments`` (a mapping, or a template naming one) are matched by
        ``match``: ``subset`` (the default: every given key with an equal value, recursively), ``exact`` (equal
        JSON) or ``schema`` (valid against ``schema``, a JSON Schema; giving ``schema`` implies it). Without
        them any call of ``name`` counts. ``times``: exactly that many matching calls (0: never called so);
        ``min_times``: at least that many (default: at least one). ``tool`` is another name for ``name``, for
        the long form (``type: tool_called``), where ``name`` names the grader."""

        model_config = ConfigDict(populate_by_name=True)

        name: str = Field(min_length=1, validation_alias=AliasChoices("name", "tool"))
        arguments: dict[str, Any] | str | None = None
        match: ArgumentMatch | None = None
        schema_: dict[str, Any] | None = Field(default=None, alias="schema")
        times: int | None = Field(default=None, ge=0)
        min_times: int | None = Field(default=None, ge=1)

        @model_validator(mode="after")
        def _consistent(self) -> ToolCalled.Params:
            if self.times is not None and self.min_times is not None:
                raise ValueError("give 'times' or 'min_times', not both")
            if self.match == "schema" or (self.match is None and self.schema_ is not None):
                if self.schema_ is None:
                    raise ValueError("match: schema needs a 'schema' (the JSON Schema of the arguments)")
                if self.arguments is not None:
                    raise ValueError("give 'arguments' (matched exactly or by subset) or 'schema', not both")
            elif self.schema_ is not None:
                raise ValueError(f"'schema' is used with match: schema, not match: {self.match}")
            elif self.match is not None and self.arguments is None:
                raise ValueError(f"match: {self.match} needs 'arguments' to compare with")
            return self

    def __init__(self, params: GraderParams) -> None:
        """Compile the schema once; an invalid schema is a ``GraderError`` here."""
        super().__init__(params)
        assert isinstance(params, ToolCalled.Params)
        self._validator = _validator(params.schema_) if params.schema_ is not None else None

    @classmethod
    def check(cls, params: GraderParams) -> None:
        """Templates inside ``arguments`` parse, and the schema compiles, when the suite loads."""
        super().check(params)
        assert isinstance(params, ToolCalled.Params)
        _check_deep(params.arguments, "arguments", cls.name)
        if params.schema_ is not None:
            _validator(params.schema_)

    def grade(self, output: str, case: Case) -> Verdict:
        """Without steps no tool was called."""
        return self.grade_steps((), output, case)

    def _expected_arguments(self, case: Case) -> Any:
        params = self.params
        assert isinstance(params, ToolCalled.Params)
        if params.arguments is None:
            return None
        value = _render_deep(params.arguments, case)
        if isinstance(value, str):
            value, problem = parse_arguments(value)
            if problem is not None:
                raise GraderError(f"tool_called: the expected {problem}")
        if not isinstance(value, Mapping):
            raise GraderError(f"tool_called: arguments must be a mapping, not {clip(str(value))}")
        return value

    def _difference(self, step: Step, expected: Any) -> str | None:
        """Why this call's arguments do not match (None when they do)."""
        params = self.params
        assert isinstance(params, ToolCalled.Params)
        if expected is None and self._validator is None:
            return None
        actual, problem = parse_arguments(step.input)
        if problem is not None:
            return problem
        if self._validator is not None:
            from jsonschema.exceptions import best_match

            error = best_match(self._validator.iter_errors(actual))
            return None if error is None else f"schema error at {error.json_path}: {shorten(error.message, 100)}"
        return arguments_difference(expected, actual, subset=params.match != "exact")

    def grade_steps(self, steps: Sequence[Step], output: str, case: Case) -> Verdict:
        """Pass when the number of matching calls of the tool is as asked (at least one by default)."""
        params = self.params
        assert isinstance(params, ToolCalled.Params)
        tool = self.param("name", case)
        if not isinstance(tool, str) or not tool:
            raise GraderError(f"tool_called: name must be a tool's name, not {clip(str(tool))}")
        expected = self._expected_arguments(case)
        calls = [step for step in steps if step.kind == "tool"]
        named = [step for step in calls if step.name == tool]
        differences = [self._difference(step, expected) for step in named]
        matching = [step for step, difference in zip(named, differences, strict=True) if difference is None]
        count = len(matching)
        if params.times is not None:
            passed, wanted = count == params.times, f"expected exactly {params.times}"
        else:
            least = params.min_times or 1
            passed, wanted = count >= least, f"expected at least {least}"
        if not named:
            called = sorted({step.name for step in calls})
            others = f"tools called: {_names(called)}" if called else "no tool was called"
            return Verdict(passed, float(passed), f"no call of {tool}; {others}")
        shown = f"{tool} with {clip(matching[0].input or '{}', 80)}" if matching else tool
        if not matching:
            first = next(difference for difference in differences if difference is not None)
            what = f"{tool} called {_times(len(named))}, arguments never matched: {first}"
            return Verdict(passed, float(passed), what)
        what = f"called {shown}"
        if params.times is not None or params.min_times is not None or count != len(named):
            what += f" ({count} of {len(named)} calls matched; {wanted})"
        return Verdict(passed, float(passed), what)


def _lcs(expected: Sequence[str], ran: Sequence[str]) -> list[int]:
    """The indices of ``expected`` matched by a longest common subsequence with ``ran``."""
    rows, cols = len(expected), len(ran)
    table = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(rows - 1, -1, -1):
        for j in range(cols - 1, -1, -1):
            if expected[i] == ran[j]:
                table[i][j] = table[i + 1][j + 1] + 1
            else:
                table[i][j] = max(table[i + 1][j], table[i][j + 1])
    matched: list[int] = []
    i = j = 0
    while i < rows and j < cols:
        if expected[i] == ran[j]:
            matched.append(i)
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return matched


#: The longest sequences ``in_order`` and ``exact`` compare (their cost is the product of the lengths).
_MAX_COMPARED = 2_000


class Trajectory(SampleGrader):
    """The names of the steps that ran, against an expected sequence: in order, exactly, in any order, or only
    expected ones; optionally at most ``max_steps`` of them."""

    name = "trajectory"
    description = "The steps (or tool calls) that ran follow an expected sequence: in order, exact, any order, subset."
    shorthand = "steps"
    example = "trajectory: {steps: [search, answer], order: in_order, kinds: [tool, llm]}"
    uses_steps = True

    class Params(GraderParams):
        """Parameters of ``trajectory``. ``steps``: the expected step names (a tool step's name is its tool's),
        or a template naming a list. ``order``: ``in_order`` (the default: they ran in that order, other steps
        between them allowed), ``exact`` (exactly that sequence), ``any_order`` (each ran, in any order; a
        name listed twice must run twice) or ``subset`` (every step that ran is one of them). ``kinds``: only
        steps of these kinds count (default: all). ``max_steps``: fail when more steps (of those kinds) ran.

        The score is the fraction of expected steps matched (``in_order``: the longest run of them in order;
        ``exact``: that over the longer of the two sequences; ``subset``: the fraction of the steps that ran
        that were expected), scaled down by ``max_steps / steps`` when too many ran."""

        steps: list[str] | str
        order: TrajectoryOrder = "in_order"
        kinds: list[StepKind] | None = None
        max_steps: int | None = Field(default=None, ge=0)

    def grade(self, output: str, case: Case) -> Verdict:
        """Without steps nothing ran."""
        return self.grade_steps((), output, case)

    def _expected(self, params: Trajectory.Params, case: Case) -> list[str]:
        value = self.param("steps", case)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = None
        if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
            shown = clip(str(params.steps))
            raise GraderError(f"trajectory: steps must be a list of step names; {shown} is not one")
        return list(value)

    def grade_steps(self, steps: Sequence[Step], output: str, case: Case) -> Verdict:
        """Compare the names of the steps that ran (of the chosen kinds) with the expected ones."""
        params = self.params
        assert isinstance(params, Trajectory.Params)
        expected = self._expected(params, case)
        kinds = set(params.kinds) if params.kinds is not None else None
        ran = [step.name for step in steps if kinds is None or step.kind in kinds]
        if params.order in ("in_order", "exact") and len(ran) * len(expected) > _MAX_COMPARED**2:
            raise GraderError(f"trajectory: {len(ran)} steps against {len(expected)} expected is too long to compare")
        passed, score, what = self._compare(expected, ran, params.order)
        if params.max_steps is not None and len(ran) > params.max_steps:
            score *= params.max_steps / len(ran)
            what += f"; but {len(ran)} steps ran, at most {params.max_steps} allowed"
            passed = False
        return Verdict(passed, score, what)

    @staticmethod
    def _compare(expected: list[str], ran: list[str], order: TrajectoryOrder) -> tuple[bool, float, str]:
        seen = f"ran: {_names(ran)}" if ran else "no step ran"
        if order == "subset":
            allowed = set(expected)
            unexpected = [name for name in ran if name not in allowed]
            score = 1.0 if not ran else (len(ran) - len(unexpected)) / len(ran)
            if not unexpected:
                return True, 1.0, f"every step that ran was expected ({seen})"
            return False, score, f"unexpected steps: {_names(list(dict.fromkeys(unexpected)))} ({seen})"
        if order == "any_order":
            have = Counter(ran)
            missing: list[str] = []
            for name, wanted in Counter(expected).items():
                missing += [name] * max(0, wanted - have[name])
            score = 1.0 if not expected else (len(expected) - len(missing)) / len(expected)
            if not missing:
                return True, 1.0, f"all {len(expected)} expected steps ran ({seen})"
            count = len(expected) - len(missing)
            return False, score, f"{count}/{len(expected)} ran; missing {_names(missing)} ({seen})"
        matched = _lcs(expected, ran)
        arrow = " → ".join(expected) if expected else "no step"
        if order == "exact":
            longest = max(len(expected), len(ran))
            if expected == ran:
                return True, 1.0, f"exactly {shorten(arrow, 200)}"
            score = len(matched) / longest if longest else 1.0
            return False, score, f"expected exactly {shorten(arrow, 200)}; {seen}"
        score = len(matched) / len(expected) if expected else 1.0
        if len(matched) == len(expected):
            return True, 1.0, f"in order: {shorten(arrow, 200)}"
        found, present = set(matched), set(ran)
        unmatched = [name for index, name in enumerate(expected) if index not in found]
        late = [name for name in unmatched if name in present]
        absent = [name for name in unmatched if name not in present]
        parts = ([f"out of order: {_names(late)}"] if late else []) + ([f"missing {_names(absent)}"] if absent else [])
        return False, score, f"{len(matched)}/{len(expected)} in order; {'; '.join(parts)} ({seen})"
