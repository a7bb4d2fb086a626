"""tool_called and trajectory: graders on a sample's recorded steps rather than its output."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import pytest
from pydantic import ValidationError

from mendoza import registry
from mendoza.config.grader_specs import parse_grader_entry
from mendoza.core import Case, Step
from mendoza.errors import ConfigError, GraderError
from mendoza.graders import ToolCalled, Trajectory, bind_grader
from mendoza.graders.agents import arguments_difference, parse_arguments
from mendoza.graders.base import Grader, Verdict

CASE = Case(
    id="c1",
    vars={"city": "Paris", "tool": "get_weather", "plan": ["search", "answer"], "args": {"city": "Paris"}},
)


def tool(name: str, arguments: Any = None, *, raw: str | None = None) -> Step:
    """A tool step as the capture records it: the tool's name, its arguments as JSON text."""
    text = raw if raw is not None else (None if arguments is None else json.dumps(arguments))
    return Step(name=name, kind="tool", input=text)


def llm(name: str) -> Step:
    return Step(name=name, kind="llm", output="text")


def grade(cls: type[Grader], raw: Any, steps: Sequence[Step], case: Case = CASE) -> Verdict:
    grader = cls(cls.parse_params(raw))
    assert isinstance(grader, ToolCalled | Trajectory)
    verdict = grader.grade_steps(steps, "final output", case)
    assert isinstance(verdict, Verdict)
    return verdict


WEATHER = [llm("plan"), tool("search", {"q": "weather"}), tool("get_weather", {"city": "Paris", "units": "C"})]


# tool_called: which calls count --------------------------------------------------------------------------


def test_a_call_by_name_passes_and_says_what_was_called() -> None:
    verdict = grade(ToolCalled, "get_weather", WEATHER)
    assert verdict.passed and verdict.score == 1.0
    assert verdict.explanation == 'called get_weather with \'{"city": "Paris", "units": "C"}\''


def test_no_call_lists_the_tools_that_were_called() -> None:
    verdict = grade(ToolCalled, "book_flight", WEATHER)
    assert verdict == Verdict(False, 0.0, "no call of book_flight; tools called: get_weather, search")
    assert grade(ToolCalled, "x", [llm("plan")]).explanation == "no call of x; no tool was called"


def test_only_tool_steps_count_as_calls() -> None:
    # A step named like the tool but of another kind (the planner's span) is no call of it.
    assert not grade(ToolCalled, "get_weather", [Step(name="get_weather", kind="llm")]).passed


def test_subset_is_the_default_and_is_recursive() -> None:
    steps = [tool("book", {"trip": {"from": "PAR", "to": "NYC", "class": "eco"}, "pax": 2})]
    assert grade(ToolCalled, {"name": "book", "arguments": {"trip": {"to": "NYC"}}}, steps).passed
    wrong = grade(ToolCalled, {"name": "book", "arguments": {"trip": {"to": "LON"}}}, steps)
    assert not wrong.passed
    assert wrong.explanation == 'book called once, arguments never matched: at $.trip.to: expected "LON", got "NYC"'
    missing = grade(ToolCalled, {"name": "book", "arguments": {"trip": {"seat": "1A"}}}, steps)
    assert missing.explanation.endswith("at $.trip: missing key 'seat'")


def test_exact_refuses_extra_keys_that_subset_allows() -> None:
    params = {"name": "get_weather", "arguments": {"city": "Paris"}}
    assert grade(ToolCalled, params, WEATHER).passed
    exact = grade(ToolCalled, {**params, "match": "exact"}, WEATHER)
    assert not exact.passed and exact.explanation.endswith("at $: unexpected key 'units'")
    full = {"name": "get_weather", "arguments": {"city": "Paris", "units": "C"}, "match": "exact"}
    assert grade(ToolCalled, full, WEATHER).passed


def test_json_equality_keeps_booleans_apart_from_numbers_and_compares_numbers_by_value() -> None:
    assert arguments_difference({"n": 1}, {"n": 1.0}, subset=False) is None
    assert arguments_difference({"n": 1}, {"n": True}, subset=False) == "at $.n: expected 1, got true"
    assert arguments_difference({"a": [1, 2]}, {"a": [1, 2, 3]}, subset=True) is not None  # arrays: equal
    assert arguments_difference({"a": [{"b": 1}]}, {"a": [{"b": 2}]}, subset=True) == (
        "at $.a[0].b: expected 1, got 2"
    )
    assert arguments_difference({"a": "1"}, {"a": 1}, subset=True) == 'at $.a: expected "1", got 1'


def test_schema_mode_validates_the_arguments() -> None:
    schema = {"type": "object", "required": ["city"], "properties": {"city": {"type": "string", "minLength": 2}}}
    assert grade(ToolCalled, {"name": "get_weather", "schema": schema}, WEATHER).passed
    bad = [tool("get_weather", {"city": 7})]
    verdict = grade(ToolCalled, {"name": "get_weather", "match": "schema", "schema": schema}, bad)
    assert not verdict.passed
    assert verdict.explanation == "get_weather called once, arguments never matched: schema error at $.city: " \
        "7 is not of type 'string'"


def test_an_invalid_schema_is_refused_when_the_suite_loads() -> None:
    entry = {"tool_called": "get_weather", "schema": {"type": "no-such-type"}}
    with pytest.raises(ConfigError, match="tool_called: schema is not a valid JSON Schema"):
        parse_grader_entry(entry, 0)


def test_unparseable_arguments_never_match_and_the_explanation_says_why() -> None:
    steps = [tool("get_weather", raw='{"city": "Par')]
    assert grade(ToolCalled, "get_weather", steps).passed  # the name alone: the call happened
    verdict = grade(ToolCalled, {"name": "get_weather", "arguments": {"city": "Paris"}}, steps)
    assert not verdict.passed
    assert "arguments are not valid JSON (Unterminated string" in verdict.explanation
    assert "'{\"city\": \"Par'" in verdict.explanation


def test_arguments_encoded_twice_and_calls_without_arguments() -> None:
    assert parse_arguments(json.dumps(json.dumps({"a": 1}))) == ({"a": 1}, None)
    assert parse_arguments(None) == ({}, None)
    assert grade(ToolCalled, {"name": "ping", "arguments": {}, "match": "exact"}, [tool("ping")]).passed


def test_templated_name_and_arguments_are_rendered_over_the_case() -> None:
    raw = {"name": "{{ tool }}", "arguments": {"city": "{{ city }}"}}
    assert grade(ToolCalled, raw, WEATHER).passed
    assert not grade(ToolCalled, raw, WEATHER, Case(id="c2", vars={"tool": "get_weather", "city": "Rome"})).passed
    whole = {"name": "get_weather", "arguments": "{{ args }}"}  # a template naming a whole mapping
    assert grade(ToolCalled, whole, WEATHER).passed


def test_a_template_inside_arguments_is_checked_when_the_suite_loads() -> None:
    with pytest.raises(ConfigError, match=r"parameter 'arguments.city': template syntax error"):
        parse_grader_entry({"tool_called": "get_weather", "arguments": {"city": "{{ city"}}, 0)


def test_times_counts_matching_calls() -> None:
    steps = [tool("search", {"q": "a"}), tool("search", {"q": "b"}), tool("search", {"q": "a"})]
    assert grade(ToolCalled, {"name": "search", "times": 3}, steps).passed
    twice = grade(ToolCalled, {"name": "search", "arguments": {"q": "a"}, "times": 2}, steps)
    assert twice.passed and twice.explanation.endswith("(2 of 3 calls matched; expected exactly 2)")
    once = grade(ToolCalled, {"name": "search", "arguments": {"q": "a"}, "times": 1}, steps)
    assert not once.passed and "expected exactly 1" in once.explanation
    assert grade(ToolCalled, {"name": "search", "min_times": 2}, steps).passed
    assert not grade(ToolCalled, {"name": "search", "min_times": 4}, steps).passed


def test_times_zero_passes_only_when_never_called() -> None:
    assert grade(ToolCalled, {"name": "delete_account", "times": 0}, WEATHER).passed
    assert not grade(ToolCalled, {"name": "get_weather", "times": 0}, WEATHER).passed


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"name": "a", "times": 1, "min_times": 1}, "give 'times' or 'min_times', not both"),
        ({"name": "a", "match": "schema"}, "match: schema needs a 'schema'"),
        ({"name": "a", "match": "exact"}, "match: exact needs 'arguments'"),
        ({"name": "a", "arguments": {"x": 1}, "schema": {"type": "object"}}, "not both"),
        ({"name": "a", "match": "subset", "arguments": {}, "schema": {}}, "'schema' is used with match: schema"),
        ({"name": ""}, "at least 1 character"),
        ({"name": "a", "times": -1}, "greater than or equal to 0"),
    ],
)
def test_inconsistent_parameters_are_refused(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ToolCalled.parse_params(raw)


def test_the_long_form_names_the_tool_with_tool_because_name_names_the_grader() -> None:
    spec = parse_grader_entry({"type": "tool_called", "name": "weather-call", "tool": "get_weather"}, 0)
    assert spec.name == "weather-call" and spec.params == {"tool": "get_weather"}
    bound = bind_grader(spec, registry.grader_class(spec.type))
    assert asyncio.run(bound.grade("out", CASE, steps=WEATHER)).passed


def test_a_negated_tool_called_passes_when_the_tool_was_not_called() -> None:
    spec = parse_grader_entry({"not-tool_called": "delete_account"}, 0)
    bound = bind_grader(spec, registry.grader_class(spec.type))
    assert asyncio.run(bound.grade("out", CASE, steps=WEATHER)).passed
    assert not asyncio.run(bound.grade("out", CASE, steps=[tool("delete_account", {})])).passed


def test_without_steps_nothing_was_called() -> None:
    grader = ToolCalled(ToolCalled.parse_params("get_weather"))
    expected = Verdict(False, 0.0, "no call of get_weather; no tool was called")
    assert grader.grade("I called get_weather", CASE) == expected


# trajectory ---------------------------------------------------------------------------------------------

AGENT = [llm("router"), Step(name="docs", kind="retrieval"), tool("search"), llm("draft"), tool("search"),
         Step(name="guardrail", kind="guardrail")]


def test_in_order_allows_steps_between_and_scores_the_longest_run_in_order() -> None:
    assert grade(Trajectory, ["router", "search", "guardrail"], AGENT) == Verdict(
        True, 1.0, "in order: router → search → guardrail"
    )
    verdict = grade(Trajectory, ["router", "guardrail", "draft"], AGENT)
    assert not verdict.passed and verdict.score == pytest.approx(2 / 3)
    assert verdict.explanation == (
        "2/3 in order; out of order: guardrail (ran: router, docs, search, draft, search, guardrail)"
    )
    absent = grade(Trajectory, ["router", "refund", "draft"], AGENT)
    assert absent.explanation.startswith("2/3 in order; missing refund (ran: router")


def test_exact_needs_exactly_that_sequence() -> None:
    steps = [tool("search"), tool("fetch"), llm("answer")]
    assert grade(Trajectory, {"steps": ["search", "fetch", "answer"], "order": "exact"}, steps).passed
    extra = grade(Trajectory, {"steps": ["search", "answer"], "order": "exact"}, steps)
    assert not extra.passed and extra.score == pytest.approx(2 / 3)  # 2 in order, over the longer sequence
    assert extra.explanation == "expected exactly search → answer; ran: search, fetch, answer"
    swapped = grade(Trajectory, {"steps": ["fetch", "search", "answer"], "order": "exact"}, steps)
    assert not swapped.passed


def test_any_order_needs_each_expected_step_as_many_times_as_listed() -> None:
    raw = {"steps": ["guardrail", "router"], "order": "any_order"}
    assert grade(Trajectory, raw, AGENT).passed  # out of order is fine
    twice = grade(Trajectory, {"steps": ["search", "search", "search"], "order": "any_order"}, AGENT)
    assert not twice.passed and twice.score == pytest.approx(2 / 3)
    assert twice.explanation.startswith("2/3 ran; missing search")


def test_subset_fails_on_any_step_that_was_not_expected() -> None:
    allowed = ["router", "docs", "search", "draft", "guardrail", "extra"]
    assert grade(Trajectory, {"steps": allowed, "order": "subset"}, AGENT).passed
    verdict = grade(Trajectory, {"steps": ["router", "search", "draft"], "order": "subset"}, AGENT)
    assert not verdict.passed and verdict.score == pytest.approx(4 / 6)
    assert verdict.explanation.startswith("unexpected steps: docs, guardrail")
    assert grade(Trajectory, {"steps": [], "order": "subset"}, []).passed


def test_kinds_keeps_only_the_steps_of_those_kinds() -> None:
    tools = {"steps": ["search", "search"], "order": "exact", "kinds": ["tool"]}
    assert grade(Trajectory, tools, AGENT).passed
    assert not grade(Trajectory, {**tools, "kinds": None}, AGENT).passed
    with pytest.raises(ValidationError):
        Trajectory.parse_params({"steps": ["a"], "kinds": ["toolz"]})


def test_max_steps_fails_a_trajectory_that_ran_too_many_steps() -> None:
    raw = {"steps": ["router", "draft"], "max_steps": 4}
    verdict = grade(Trajectory, raw, AGENT)
    assert not verdict.passed and verdict.score == pytest.approx(4 / 6)
    assert verdict.explanation == "in order: router → draft; but 6 steps ran, at most 4 allowed"
    assert grade(Trajectory, {**raw, "max_steps": 6}, AGENT).passed
    assert grade(Trajectory, {**raw, "max_steps": 2, "kinds": ["tool"], "steps": ["search"]}, AGENT).passed


def test_the_expected_steps_may_come_from_the_case() -> None:
    steps = [tool("search"), llm("answer")]
    assert grade(Trajectory, "{{ plan }}", steps).passed
    with pytest.raises(GraderError, match="steps must be a list of step names"):
        grade(Trajectory, "{{ city }}", steps)


def test_no_steps_is_an_empty_trajectory() -> None:
    grader = Trajectory(Trajectory.parse_params(["search"]))
    verdict = grader.grade("output", CASE)
    assert verdict == Verdict(False, 0.0, "0/1 in order; missing search (no step ran)")
