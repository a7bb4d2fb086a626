"""The grader contract as the runner meets it: metadata, binding, negation, error grades, public API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import yaml

import mendoza.graders
from mendoza import registry
from mendoza.core import Case, Grade, GraderSpec
from mendoza.errors import GraderError
from mendoza.graders import Contains, Grader, GraderParams, bind_grader, render_param

CASE = Case(id="c1", vars={"topic": "billing", "options": ["a", "b"]}, expected=["invoice", "bill"])
BUILTINS = sorted(registry._BUILTIN_GRADERS)


def run_grade(spec: GraderSpec, output: str, case: Case = CASE) -> Grade:
    bound = bind_grader(spec, registry.grader_class(spec.type))
    return asyncio.run(bound.grade(output, case))


# metadata -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILTINS)
def test_every_builtin_grader_declares_its_metadata(name: str) -> None:
    cls = registry.grader_class(name)
    assert issubclass(cls, Grader)
    assert cls.name == name
    assert cls.description and "\n" not in cls.description and len(cls.description) <= 100
    assert cls.description.endswith(".")
    assert issubclass(cls.Params, GraderParams) and cls.Params is not GraderParams
    assert cls.Params.__doc__
    assert cls.shorthand is None or cls.shorthand in cls.Params.model_fields
    assert cls.needs_model is (name in ("rubric", "pairwise"))  # the judged graders call a model


@pytest.mark.parametrize("name", BUILTINS)
def test_every_builtin_example_validates_after_yaml_parsing(name: str) -> None:
    cls = registry.grader_class(name)
    document = yaml.safe_load(cls.example)
    assert isinstance(document, dict) and list(document) == [name]
    params = cls.parse_params(document[name])
    assert isinstance(params, cls.Params)


@pytest.mark.parametrize("name", BUILTINS)
def test_every_builtin_rejects_unknown_parameters(name: str) -> None:
    cls = registry.grader_class(name)
    document = yaml.safe_load(cls.example)[name]
    raw = dict(document) if isinstance(document, dict) else {cls.shorthand: document}
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        cls.parse_params({**raw, "no_such_option": 1})


def test_every_builtin_is_exported_from_mendoza_graders() -> None:
    exported = {getattr(mendoza.graders, name) for name in mendoza.graders.__all__}
    assert {registry.grader_class(name) for name in BUILTINS} <= exported
    assert sorted(mendoza.graders.__all__) == mendoza.graders.__all__


# binding, negation and errors ---------------------------------------------------------------------------


def test_a_bound_grader_grades_and_carries_its_definition_hash() -> None:
    spec = GraderSpec(type="contains", params={"value": "billing"}, name="mentions billing")
    grade = run_grade(spec, "A Billing question")
    digest = spec.definition_hash()
    assert grade == Grade("mentions billing", True, 1.0, "found 'billing'", grader_hash=digest)


@pytest.mark.parametrize(
    ("output", "passed", "score"),
    [("A Billing question", False, 0.0), ("A shipping question", True, 1.0)],
)
def test_a_negated_contains_flips_the_verdict(output: str, passed: bool, score: float) -> None:
    spec = GraderSpec(type="contains", params={"value": "billing"}, name="no billing", negate=True)
    grade = run_grade(spec, output)
    assert (grade.passed, grade.score) == (passed, score)
    assert grade.explanation.startswith("not (")


def test_negation_flips_a_partial_score() -> None:
    spec = GraderSpec(type="contains_all", params={"value": ["a", "b", "c", "d"]}, name="n", negate=True)
    grade = run_grade(spec, "a b c")
    assert grade.passed is True
    assert grade.score == pytest.approx(0.25)
    assert grade.explanation == "not (found 3/4; missing 'd')"


def test_a_grader_error_becomes_an_error_grade() -> None:
    spec = GraderSpec(type="contains", params={"value": "{{ missing_var }}"}, name="templated")
    grade = run_grade(spec, "anything")
    assert grade.passed is None and grade.score is None
    assert grade.error is not None and "missing_var" in grade.error


def test_a_crashing_python_grader_becomes_an_error_grade_even_when_negated() -> None:
    params = {"function": "tests.graders.helpers:raises"}
    spec = GraderSpec(type="python", params=params, name="p", negate=True)
    grade = run_grade(spec, "x")
    assert grade.passed is None
    assert grade.error == "python grader 'tests.graders.helpers:raises' raised ValueError: no good"


def test_an_async_python_grader_runs_through_the_bound_grader() -> None:
    spec = GraderSpec(type="python", params={"function": "tests.graders.helpers:async_pair"}, name="p")
    assert run_grade(spec, "x").explanation == "async and happy"


def test_a_python_grader_that_cannot_be_imported_fails_at_binding() -> None:
    spec = GraderSpec(type="python", params={"function": "tests.graders.helpers:nope"}, name="p")
    with pytest.raises(GraderError, match="has no attribute 'nope'"):
        bind_grader(spec, registry.grader_class("python"))


def test_contains_any_with_a_list_expected_through_the_bound_grader() -> None:
    spec = GraderSpec(type="contains_any", params={"value": "{{ expected }}"}, name="any")
    assert run_grade(spec, "Your INVOICE is attached").passed
    assert run_grade(spec, "Nothing relevant").passed is False


# render_param -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        ("{{ expected }}", ["invoice", "bill"]),
        ("{{ options }}", ["a", "b"]),
        ("about {{ topic }}", "about billing"),
        (["{{ topic }}", "x"], ["billing", "x"]),
        (3, 3),
        ("plain", "plain"),
    ],
)
def test_render_param_keeps_native_types_of_lone_expressions(value: Any, rendered: Any) -> None:
    assert render_param(value, CASE) == rendered


def test_contains_reads_its_value_through_param() -> None:
    grader = Contains(Contains.parse_params("{{ topic }}"))
    assert grader.param("value", CASE) == "billing"
