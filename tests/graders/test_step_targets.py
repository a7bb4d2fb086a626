"""Any grader may grade a step (``step: router``) or every turn of a conversation (``turn: each``) instead of
the final output: what is graded, how the entry is written, and the definition hashes it leaves alone."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from mendoza import registry
from mendoza.config.grader_specs import parse_grader_entries, parse_grader_entry
from mendoza.core import Case, Grade, GraderSpec, Step, first_failing_step, stable_hash
from mendoza.errors import ConfigError
from mendoza.graders import bind_grader
from mendoza.graders.base import graded_texts
from tests.config.suite_files import MINIMAL, config_error

CASE = Case(id="c1", vars={"question": "Where is my refund?", "expected_route": "billing"}, expected="Soon.")

ROUTED = (
    Step(name="router", kind="llm", output="billing"),
    Step(name="answer", kind="llm", output="Your refund is on its way."),
    Step(name="guardrail", kind="guardrail", output="ok"),
)


def grade(entry: Any, output: str, steps: Sequence[Step], case: Case = CASE) -> Grade:
    spec = parse_grader_entry(entry, 0)
    bound = bind_grader(spec, registry.grader_class(spec.type))
    return asyncio.run(bound.grade(output, case, steps=steps))


def turns(*answers: str) -> tuple[Step, ...]:
    return tuple(
        Step(name=f"turn {n}", kind="llm", output=answer, attributes={"mendoza.turn": n})
        for n, answer in enumerate(answers, start=1)
    )


# step: NAME ---------------------------------------------------------------------------------------------


def test_a_step_grader_grades_that_steps_output_not_the_final_one() -> None:
    entry = {"equals": "{{ expected_route }}", "step": "router"}
    right = grade(entry, "Your refund is on its way.", ROUTED)
    assert right.passed is True and right.grader == "router.equals"
    wrong = (Step(name="router", kind="llm", output="shipping"), *ROUTED[1:])
    failed = grade(entry, "billing", wrong)  # the final output says billing: it is not what is graded
    assert failed.passed is False and failed.explanation == "expected 'billing', got 'shipping'"


def test_the_last_step_of_that_name_is_graded() -> None:
    retried = (Step(name="router", output="shipping"), Step(name="router", output="billing"))
    assert grade({"equals": "billing", "step": "router"}, "x", retried).passed is True
    assert graded_texts(GraderSpec(type="equals", name="e", step="router"), "x", retried) == ["billing"]


def test_a_step_that_did_not_run_fails_its_grader_and_is_not_an_error() -> None:
    result = grade({"contains": "billing", "step": "router"}, "billing", ROUTED[1:])
    assert result.passed is False and result.score == 0.0 and result.error is None
    assert result.explanation == "step 'router' did not run"


def test_a_step_with_no_output_is_graded_as_empty_text() -> None:
    silent = (Step(name="router", kind="llm", output=None),)
    assert grade({"not-contains": "billing", "step": "router"}, "billing", silent).passed is True


def test_a_step_grader_that_fails_is_where_the_failure_starts() -> None:
    wrong = (Step(name="router", output="shipping"), Step(name="answer", error="TimeoutError: slow"))
    assert first_failing_step(wrong, {"router"}) == "router"
    assert first_failing_step(wrong, set()) == "answer"  # otherwise the first step that errored


# turn: each ---------------------------------------------------------------------------------------------


def test_turn_each_needs_every_turn_to_pass() -> None:
    entry = {"not-contains": "as an AI", "turn": "each"}
    assert grade(entry, "fine", turns("Hello!", "Sure.", "Bye.")).passed is True
    failed = grade(entry, "Bye.", turns("Hello!", "As an AI, I cannot.", "Bye."))
    assert failed.passed is False and "as an AI" in failed.explanation


def test_turn_each_grades_the_turns_answers_not_their_inner_steps() -> None:
    steps = (*turns("yes", "yes"), Step(name="lookup", kind="tool", output="no"))
    assert grade({"equals": "yes", "turn": "each"}, "yes", steps).passed is True


def test_turn_each_without_turns_grades_the_output_and_last_grades_only_the_output() -> None:
    assert grade({"equals": "Soon.", "turn": "each"}, "Soon.", ()).passed is True
    assert grade({"equals": "Bye.", "turn": "last"}, "Bye.", turns("No!", "Bye.")).passed is True


def test_the_first_undecidable_turn_decides() -> None:
    result = grade({"numeric": 3, "turn": "each"}, "3", turns("3", "three"))
    assert result.passed is False and "no number found" in result.explanation


# the suite entry ----------------------------------------------------------------------------------------


def test_step_and_turn_are_read_beside_the_grader_and_kept_out_of_its_params() -> None:
    (routed, each, named) = parse_grader_entries(
        [
            {"equals": "{{ expected_route }}", "step": "router", "ignore_case": True},
            {"type": "regex", "pattern": "^ok", "turn": "each"},
            {"contains": "x", "step": "answer", "name": "answer-mentions-x"},
        ],
        lambda index: f"suite.yaml:{index}",
    )
    assert routed == GraderSpec(
        type="equals", params={"value": "{{ expected_route }}", "ignore_case": True}, name="router.equals",
        step="router",
    )
    assert each.turn == "each" and each.step is None and each.params == {"pattern": "^ok"} and each.name == "regex"
    assert named.name == "answer-mentions-x" and named.step == "answer"


def test_a_negated_step_grader_is_named_after_its_step() -> None:
    assert parse_grader_entry({"not-contains": "x", "step": "draft"}, 0).name == "draft.not-contains"


@pytest.mark.parametrize(
    ("grader", "message"),
    [
        ('{equals: billing, step: 3}', "grader 'equals': 'step' must be the name of a step, not 3"),
        ('{equals: billing, step: "  "}', "grader 'equals': 'step' must be the name of a step, not '  '"),
        ("{equals: billing, turn: every}", "grader 'equals': 'turn' must be 'last' or 'each', not 'every'"),
        ("{equals: billing, step: router, turn: each}", "grader 'equals': give 'step' or 'turn: each', not both"),
    ],
)
def test_a_bad_step_or_turn_is_one_line_that_says_where(tmp_path: Path, grader: str, message: str) -> None:
    error = config_error(tmp_path, MINIMAL + f"graders:\n  - {grader}\n")
    assert str(error) == f"{tmp_path / 'suite.yaml'}:10: {message}"  # the entry's line


# definition hashes --------------------------------------------------------------------------------------


def test_a_spec_without_step_or_turn_keeps_the_hash_it_always_had() -> None:
    spec = parse_grader_entry({"contains": "{{ expected }}", "ignore_case": False}, 0)
    params = {"value": "{{ expected }}", "ignore_case": False}
    old = stable_hash({"type": "contains", "params": params, "negate": False})
    assert spec.definition_hash() == old
    last = GraderSpec(type="contains", params=spec.params, name="x", turn="last")
    assert last.definition_hash() == old  # turn: last is the default, not a new definition


def test_a_step_or_turn_target_is_a_different_definition() -> None:
    params = {"value": "billing"}
    plain = GraderSpec(type="contains", params=params, name="c").definition_hash()
    routed = GraderSpec(type="contains", params=params, name="c", step="router").definition_hash()
    answered = GraderSpec(type="contains", params=params, name="c", step="answer").definition_hash()
    each = GraderSpec(type="contains", params=params, name="c", turn="each").definition_hash()
    assert len({plain, routed, answered, each}) == 4
    assert routed == stable_hash({"type": "contains", "params": params, "negate": False, "step": "router"})


def test_a_spec_with_a_step_round_trips_through_its_json() -> None:
    spec = GraderSpec(type="equals", params={"value": "a"}, name="router.equals", step="router", turn="last")
    again = GraderSpec.model_validate_json(spec.model_dump_json())
    assert again == spec and again.definition_hash() == spec.definition_hash()


def test_a_config_error_for_a_target_has_no_traceback_noise() -> None:
    with pytest.raises(ConfigError) as info:
        parse_grader_entry({"contains": "x", "step": ["a"]}, 0)
    assert str(info.value) == "grader 'contains': 'step' must be the name of a step, not ['a']"
