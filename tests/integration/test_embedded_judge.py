"""The embedded model as a judge, for real: Gemma 3 270M reads the default few-shot prompts (rubric and pairwise)
and answers in a form the parsers read, and its calls are cached."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mendoza.core import Case, GraderSpec
from mendoza.graders.base import bind_grader
from mendoza.graders.pairwise import Pairwise
from mendoza.graders.rubric import Rubric
from mendoza.registry import grader_class
from mendoza.store import Store

pytestmark = pytest.mark.slow

CASE = Case(id="late", vars={"message": "My parcel still hasn't arrived and I ordered it two weeks ago."})
REPLIES = [
    "I am sorry your parcel is late. Here is the tracking link; if it has not arrived by Friday we will refund you.",
    "Read the terms before you complain.",
    "",
]


def test_the_embedded_judge_gives_readable_cached_verdicts(tmp_path: Path) -> None:
    spec = GraderSpec(type="rubric", name="helpful", params={
        "criteria": [{"helpful": "The output helps the customer with the problem in their message."}],
        "input": "{{ message }}",
    })
    bound = bind_grader(spec, grader_class("rubric"))
    rubric = bound.grader
    assert isinstance(rubric, Rubric) and rubric.judges[0].style == "completion"
    with Store(tmp_path / "m.db") as store:
        rubric.use_cache(store.cache)
        grades = [asyncio.run(bound.grade(reply, CASE)) for reply in REPLIES]
        assert all(grade.error is None for grade in grades), [grade.error for grade in grades]
        labels = [grade.detail["criteria"][0]["votes"][0]["label"] for grade in grades if grade.detail]
        assert set(labels) <= {"PASS", "FAIL"} and len(labels) == 3
        calls = rubric.judges[0].calls
        assert 3 <= calls <= 6  # one answer per reply, at most one re-ask each
        again = [asyncio.run(bound.grade(reply, CASE)) for reply in REPLIES]
        assert rubric.judges[0].calls == calls  # served from the cache of model calls
        assert [g.passed for g in again] == [g.passed for g in grades]
    # the pairwise prompt: both orders asked, each answer readable
    pairwise = bind_grader(GraderSpec(type="pairwise", name="preferred", params={"input": "{{ message }}"}),
                           grader_class("pairwise")).grader
    assert isinstance(pairwise, Pairwise)
    outcome = asyncio.run(pairwise.compare(CASE, REPLIES[0], REPLIES[1]))
    assert outcome.first_order in ("a", "b", "tie") and outcome.second_order in ("a", "b", "tie")
    assert outcome.winner in ("a", "b", "tie") and len(outcome.detail["answers"]) == 2
