"""The pairwise grader: both orders asked, position bias cancelled, unreadable answers are errors."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mendoza.core import Case, GraderSpec
from mendoza.errors import GraderError
from mendoza.graders.base import BoundPairwise, PairwiseGrader, bind_grader, grader_kind
from mendoza.graders.pairwise import PairOutcome, Pairwise, combine_orders
from mendoza.registry import grader_class
from tests.graders import judges

CASE = Case(id="c1", vars={"question": "Where is my parcel?"})
J = "python:tests.graders.judges"


def pairwise(**params: Any) -> Pairwise:
    spec = GraderSpec(type="pairwise", params=params, name="pairwise")
    grader = bind_grader(spec, grader_class("pairwise")).grader
    assert isinstance(grader, Pairwise)
    return grader


def compare(grader: Pairwise, a: str, b: str) -> PairOutcome:
    return asyncio.run(grader.compare(CASE, a, b))


@pytest.fixture(autouse=True)
def _fresh_judges() -> None:
    judges.reset()


@pytest.mark.parametrize(
    ("first", "second", "winner"),
    [("a", "a", "a"), ("b", "b", "b"), ("a", "b", "tie"), ("b", "a", "tie"), ("a", "tie", "tie"),
     ("tie", "b", "tie"), ("tie", "tie", "tie")],
)
def test_a_win_needs_both_orders(first: Any, second: Any, winner: str) -> None:
    assert combine_orders(first, second) == winner


def test_both_orders_are_asked_and_a_position_biased_judge_gives_a_tie() -> None:
    outcome = compare(pairwise(judge=f"{J}:prefers_first"), "short", "a much longer answer")
    assert len(judges.PROMPTS) == 2
    assert {("[Output A]\nshort" in p) for p in judges.PROMPTS} == {True, False}  # each output shown first once
    assert outcome.first_order == "a" and outcome.second_order == "b"
    assert outcome.winner == "tie" and outcome.detail["consistent"] is False
    assert "inconsistent" in outcome.explanation


def test_a_consistent_judge_names_the_winner_whatever_the_order() -> None:
    grader = pairwise(judge=f"{J}:prefers_longer")
    assert compare(grader, "short", "a much longer answer").winner == "b"
    assert compare(grader, "a much longer answer", "short").winner == "a"
    assert compare(grader, "same", "size").winner == "tie"


def test_an_unreadable_preference_is_an_error_after_the_reasks() -> None:
    grader = pairwise(judge={"model": "mock", "params": {"output": "Both have merits."}}, max_reasks=1)
    with pytest.raises(GraderError, match="no readable preference after 2 ask"):
        compare(grader, "x", "y")
    assert grader.judge.provider.calls == 4  # two orders, each asked twice


def test_it_is_not_a_per_sample_grader() -> None:
    assert grader_kind(Pairwise) == "pairwise" and Pairwise.needs_model is True
    assert not hasattr(pairwise(judge="mock"), "grade")  # a pairwise grader compares; it has no grade to refuse
    bound = bind_grader(GraderSpec(type="pairwise", params={"judge": "mock"}, name="p"), Pairwise)
    assert isinstance(bound, BoundPairwise) and isinstance(bound.grader, PairwiseGrader)


def test_the_completion_prompt_for_base_models() -> None:
    grader = pairwise(judge={"model": "mock", "style": "completion", "params": {"output": " A"}})
    outcome = compare(grader, "first output", "second output")
    assert outcome.first_order == "a" and outcome.second_order == "b" and outcome.winner == "tie"
