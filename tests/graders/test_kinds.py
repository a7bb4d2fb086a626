"""Grader kinds: told apart by class in one helper, never by a flag; judge verdicts read as a typed detail."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import pytest

from mendoza import registry
from mendoza.core import Case, GraderSpec
from mendoza.errors import PluginError
from mendoza.graders import (
    BoundGrader,
    BoundPairwise,
    Grader,
    GraderParams,
    JudgeDetail,
    JudgeGrader,
    PairwiseGrader,
    SampleGrader,
    Verdict,
    bind_grader,
    grader_kind,
    is_judge_grader,
    is_judge_type,
    kind_of,
)
from mendoza.graders.base import PairOutcome
from mendoza.graders.judged import JudgeCriterion, JudgeRun, JudgeVote


class _NoParams(GraderParams):
    """No parameters."""


class Sampler(SampleGrader):
    name = "sampler"
    description = "A sample grader."
    Params = _NoParams

    def grade(self, output: str, case: Case) -> Verdict:
        return Verdict(True, 1.0, "ok")


class Comparer(PairwiseGrader):
    name = "comparer"
    description = "A pairwise grader that calls a model."
    Params = _NoParams
    needs_model = True

    def compare(self, case: Case, output_a: str, output_b: str, repeat: int = 0) -> Awaitable[PairOutcome]:
        raise NotImplementedError


class Judged(JudgeGrader):
    name = "judged"
    description = "A judge-style grader."
    Params = _NoParams

    def grade(self, output: str, case: Case) -> Verdict:
        return Verdict(True, 1.0, "ok")


class OldStylePlugin(Grader):
    """A plugin written against ``Grader`` itself, declaring that it calls a model."""

    name = "old_style"
    description = "An old-style judge plugin."
    Params = _NoParams
    needs_model = True

    def grade(self, output: str, case: Case) -> Verdict:
        return Verdict(False, 0.0, "no")


@pytest.mark.parametrize("name", sorted(registry._BUILTIN_GRADERS))
def test_every_builtin_has_one_kind_and_only_the_rubric_is_judge_style(name: str) -> None:
    assert kind_of(name) == ("pairwise" if name == "pairwise" else "sample")
    assert is_judge_type(name) is (name == "rubric")


def test_the_kind_is_the_class() -> None:
    assert [grader_kind(cls) for cls in (Sampler, Comparer, Judged, OldStylePlugin)] == [
        "sample", "pairwise", "sample", "sample"
    ]
    assert [is_judge_grader(cls) for cls in (Sampler, Comparer, Judged, OldStylePlugin)] == [
        False, False, True, True  # a pairwise grader calls a model but judges no sample
    ]
    assert not hasattr(Comparer, "grade") and not hasattr(Sampler, "per_sample")


def test_binding_gives_the_bound_type_of_the_kind() -> None:
    spec = GraderSpec(type="x", name="x")
    assert isinstance(bind_grader(spec, Sampler), BoundGrader)
    assert isinstance(bind_grader(spec, OldStylePlugin), BoundGrader)
    bound = bind_grader(spec, Comparer)
    assert isinstance(bound, BoundPairwise) and isinstance(bound.grader, Comparer)


def test_an_unknown_grader_has_no_kind() -> None:
    with pytest.raises(PluginError, match="unknown grader 'nope'"):
        kind_of("nope")


#: A rubric verdict's detail as stored by runs before the typed detail (keys the report does not read kept).
OLD_RUBRIC_DETAIL: dict[str, Any] = {
    "kind": "rubric",
    "judges": ["mock", "openai/gpt-4o"],
    "judge_repeats": 2,
    "combine": "majority",
    "threshold": 0.7,
    "score": 0.75,
    "passed": True,
    "agreement": 0.5,
    "unreadable": 1,
    "asks": 5,
    "criteria": [
        {"name": "polite", "scale": 5, "weight": 1.0, "score": 0.75, "pass_point": 0.75, "passed": True,
         "agreement": 0.5, "votes_for": 1, "reason": "",
         "votes": [{"judge": 0, "repeat": 0, "score": 0.75, "label": "4", "reason": "ok", "asks": 1},
                   {"judge": 1, "repeat": 0, "score": None, "label": None, "reason": "", "asks": 2, "raw": "?"}]},
    ],
    "runs": [{"judge": 0, "repeat": 0, "score": 0.75, "passed": True},
             {"judge": 1, "repeat": 0, "score": None, "passed": None}],
}


def test_an_old_runs_rubric_detail_reads_as_typed() -> None:
    detail = JudgeDetail.read(OLD_RUBRIC_DETAIL)
    assert detail == JudgeDetail(
        judges=("mock", "openai/gpt-4o"),
        score=0.75,
        threshold=0.7,
        agreement=0.5,
        criteria=(JudgeCriterion("polite", 0.75, 5, 0.75, (JudgeVote(0, 0.75, 1), JudgeVote(1, None, 2))),),
        runs=(JudgeRun(0, 0, 0.75, True), JudgeRun(1, 0, None, None)),
    )
    assert JudgeDetail.read(detail.to_json()) == detail


@pytest.mark.parametrize("stored", [None, [], "text", {"runs": [{"score": 1.0}]}, {"agreement": "high"}])
def test_a_detail_without_the_shape_is_not_a_judged_verdict(stored: Any) -> None:
    assert JudgeDetail.read(stored) is None


def test_missing_keys_take_their_defaults() -> None:
    assert JudgeDetail.read({}) == JudgeDetail((), 0.0, None, 1.0, (), ())
