"""The rubric grader: criteria, judges, repeats, combining, re-asks, errors, caching, concurrency, JSON mode."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from mendoza.config.grader_specs import parse_grader_entry
from mendoza.core import Case, Grade, GraderSpec
from mendoza.errors import ConfigError
from mendoza.graders.base import BoundGrader, bind_grader
from mendoza.graders.judge_prompts import REASK_SUFFIX
from mendoza.graders.rubric import Rubric
from mendoza.registry import grader_class
from mendoza.store import Store
from tests.graders import judges

CASE = Case(id="c1", vars={"question": "Where is my parcel?"}, expected="tracking")
J = "python:tests.graders.judges"


def mock_judge(**params: Any) -> dict[str, Any]:
    return {"model": "mock", "params": params}


def bound(**params: Any) -> BoundGrader:
    spec = GraderSpec(type="rubric", params={"criteria": ["The reply is polite"], **params}, name="rubric")
    return bind_grader(spec, grader_class("rubric"))


def grade(grader: BoundGrader, output: str = "a good reply", case: Case = CASE) -> Grade:
    return asyncio.run(grader.grade(output, case))


@pytest.fixture(autouse=True)
def _fresh_judges() -> None:
    judges.reset()


# parameters -------------------------------------------------------------------------------------------------


def test_criteria_shorthands() -> None:
    params = Rubric.parse_params(["The reply is polite", {"helpful": "It helps"}])
    assert isinstance(params, Rubric.Params)
    assert [(c.name, c.description) for c in params.criteria] == [
        ("the_reply_is_polite", "The reply is polite"),
        ("helpful", "It helps"),
    ]
    assert params.judge_specs()[0].model == "local/gemma-3-270m"


def test_a_suite_entry_parses_with_its_judge_shorthand() -> None:
    spec = parse_grader_entry({"rubric": ["Polite"], "judge": "openai/gpt-4o-mini", "judge_repeats": 3}, 0)
    params = Rubric.parse_params(spec.params)
    assert isinstance(params, Rubric.Params)
    assert params.judge is not None and params.judge.model == "openai/gpt-4o-mini" and params.judge_repeats == 3


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"criteria": ["a", "a"]}, "two criteria are named 'a'"),
        ({"criteria": ["a"], "judge": "mock", "judges": ["mock"]}, "not both"),
        ({"criteria": [{"name": "x", "description": "y", "pass_at": 3}]}, "pass_at needs a scale"),
        ({"criteria": [{"name": "x", "description": "y", "scale": 5, "pass_at": 6}]}, "above its scale"),
        ({"criteria": ["a"], "judge_prompt": "{% if %}"}, "template syntax error"),
        ({"criteria": ["a"], "judge_prompt_file": "j.txt"}, "read when a suite file loads"),
        ({"criteria": []}, "at least 1"),
    ],
)
def test_bad_parameters_are_one_line_errors(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Rubric.parse_params(params)


def test_prompt_files_are_read_relative_to_the_suite(tmp_path: Path) -> None:
    (tmp_path / "judge.j2").write_text("Is it {{ criterion.description }}? {{ output }}", encoding="utf-8")
    entry = {"rubric": ["polite"], "judge_prompt_file": "judge.j2", "judges": [{"model": "mock"}]}
    spec = parse_grader_entry(entry, 0, tmp_path)
    assert spec.params["judge_prompt"].startswith("Is it") and "judge_prompt_file" not in spec.params
    with pytest.raises(ConfigError, match=r"judge_prompt_file 'nope\.j2' not found"):
        parse_grader_entry({**entry, "judge_prompt_file": "nope.j2"}, 0, tmp_path)


def test_the_definition_hash_covers_the_prompt_file_content(tmp_path: Path) -> None:
    path = tmp_path / "judge.j2"
    path.write_text("v1 {{ output }}", encoding="utf-8")
    first = parse_grader_entry({"rubric": ["polite"], "judge_prompt_file": "judge.j2"}, 0, tmp_path)
    path.write_text("v2 {{ output }}", encoding="utf-8")
    second = parse_grader_entry({"rubric": ["polite"], "judge_prompt_file": "judge.j2"}, 0, tmp_path)
    assert first.definition_hash() != second.definition_hash()


# verdicts ---------------------------------------------------------------------------------------------------


def test_a_passing_judge_passes_with_detail() -> None:
    result = grade(bound(judge=mock_judge(output='{"verdict": "PASS", "reason": "kind words"}')))
    assert result.passed is True and result.score == 1.0 and result.error is None
    assert result.explanation.startswith("pass: 1/1 criteria") and "kind words" in result.explanation
    detail = result.detail
    assert detail is not None and detail["kind"] == "rubric" and detail["judges"] == ["mock"]
    assert detail["criteria"][0]["votes"][0]["label"] == "PASS" and detail["agreement"] == 1.0


def test_the_judge_sees_the_rendered_default_instruction_prompt() -> None:
    result = grade(bound(judge=f"{J}:good_word"), "a good reply")
    assert result.passed is True
    prompt = judges.PROMPTS[0]
    assert "Where is my parcel?" in prompt and "a good reply" in prompt and "The reply is polite" in prompt
    assert "Reference answer" in prompt and "tracking" in prompt and '"verdict"' in prompt
    assert grade(bound(judge=f"{J}:good_word"), "a poor reply").passed is False


def test_an_unreadable_answer_is_asked_again_then_is_an_error_grade() -> None:
    grader = bound(judge=mock_judge(output="Hmm, I am not sure about this one."), max_reasks=2)
    result = grade(grader)
    assert result.passed is None and result.score is None
    assert result.error is not None and "no readable verdict" in result.error and "after 3 ask(s)" in result.error
    rubric = grader.grader
    assert isinstance(rubric, Rubric)
    assert rubric.judges[0].provider.calls == 3  # the first ask and two re-asks, no more


def test_no_reask_when_max_reasks_is_zero() -> None:
    grader = bound(judge=mock_judge(output="unsure"), max_reasks=0)
    assert grade(grader).error is not None
    rubric = grader.grader
    assert isinstance(rubric, Rubric) and rubric.judges[0].provider.calls == 1


def test_a_reask_that_is_readable_counts() -> None:
    result = grade(bound(judge=f"{J}:unreadable_until_asked_again"))
    assert result.passed is True
    assert len(judges.PROMPTS) == 2 and judges.PROMPTS[1].endswith(REASK_SUFFIX)
    vote = result.detail["criteria"][0]["votes"][0] if result.detail else {}
    assert vote["asks"] == 2 and "depends" in vote["rejected"]


def test_drop_leaves_out_unreadable_votes_and_says_so() -> None:
    judges.reset(["PASS", "gibberish", "PASS"])
    result = grade(bound(judge=f"{J}:in_sequence", judge_repeats=3, max_reasks=0, on_unparseable="drop"))
    assert result.passed is True and result.error is None
    assert "1 unreadable answer(s) left out" in result.explanation
    assert result.detail is not None and result.detail["unreadable"] == 1


def test_strict_default_fails_the_grade_on_one_unreadable_vote() -> None:
    judges.reset(["PASS", "gibberish", "PASS"])
    result = grade(bound(judge=f"{J}:in_sequence", judge_repeats=3, max_reasks=0))
    assert result.error is not None and result.passed is None


def test_repeats_are_combined_by_majority_or_mean() -> None:
    judges.reset(["PASS", "PASS", "FAIL"])
    majority = grade(bound(judge=f"{J}:in_sequence", judge_repeats=3))
    assert majority.passed is True and majority.score == 1.0
    assert majority.detail is not None and majority.detail["agreement"] == pytest.approx(2 / 3)
    assert "(2/3 votes)" in majority.explanation
    judges.reset(["PASS", "PASS", "FAIL"])
    mean = grade(bound(judge=f"{J}:in_sequence", judge_repeats=3, combine="mean", threshold=0.6))
    assert mean.passed is True and mean.score == pytest.approx(2 / 3)
    runs = mean.detail["runs"] if mean.detail else []
    assert sorted(run["passed"] for run in runs) == [False, True, True]


def test_a_tie_between_judges_fails_under_majority() -> None:
    both = [mock_judge(output="PASS"), {"model": "mock", "name": "strict", "params": {"output": "FAIL"}}]
    tie = grade(bound(judges=both))
    assert tie.passed is False and tie.detail is not None and tie.detail["judges"] == ["mock", "strict"]
    assert grade(bound(judges=both, combine="mean", threshold=0.5)).passed is True


def test_scales_weights_and_threshold() -> None:
    criteria = [
        {"name": "tone", "description": "Tone", "scale": 5, "weight": 3},
        {"name": "facts", "description": "Facts", "weight": 1},
    ]
    judges.reset(['{"score": 4, "reason": "warm"}', "FAIL"])
    result = grade(bound(criteria=criteria, judge=f"{J}:in_sequence", threshold=0.5))
    # tone 4/5 -> 0.75 (passes from 3), facts fail -> 0; weighted (3 * 0.75 + 0) / 4 = 0.5625
    assert result.score == pytest.approx(0.5625) and result.passed is True
    assert "tone 4/5 PASS" in result.explanation and "facts FAIL" in result.explanation
    judges.reset(['{"score": 4}', "FAIL"])
    strict = grade(bound(criteria=criteria, judge=f"{J}:in_sequence"))
    assert strict.passed is False  # without a threshold every criterion must pass


def test_all_criteria_in_one_call() -> None:
    answer = '```json\n{"polite": {"verdict": "PASS", "reason": "ok"}, "helpful": "FAIL"}\n```'
    result = grade(bound(criteria=[{"polite": "Polite"}, {"helpful": "Helpful"}], judge=mock_judge(output=answer),
                         judge_call="all_criteria"))
    assert result.passed is False and result.score == 0.5
    rubric = result.detail["criteria"] if result.detail else []
    assert [row["passed"] for row in rubric] == [True, False]


def test_criterion_descriptions_are_templates_over_the_case() -> None:
    grade(bound(criteria=["The reply mentions {{ expected }}"], judge=f"{J}:good_word"))
    assert "The reply mentions tracking" in judges.PROMPTS[0]


def test_a_failing_judge_is_an_error_grade_not_a_crash() -> None:
    result = grade(bound(judge=mock_judge(fail_always=True, error="fatal")))
    assert result.error is not None and "judge 'mock'" in result.error and "scripted fatal" in result.error


def test_negation_flips_the_judged_verdict() -> None:
    spec = GraderSpec(type="rubric", params={"criteria": ["x"], "judge": mock_judge(output="PASS")}, name="n",
                      negate=True)
    result = asyncio.run(bind_grader(spec, Rubric).grade("out", CASE))
    assert result.passed is False and result.detail is not None


# caching, concurrency, JSON mode ----------------------------------------------------------------------------


def test_judge_calls_are_cached_per_repeat(store: Store) -> None:
    grader = bound(judge=mock_judge(outputs=["PASS", "FAIL"], cacheable=True), judge_repeats=3)
    grader.grader.use_cache(store.cache)
    first = grade(grader)
    rubric = grader.grader
    assert isinstance(rubric, Rubric)
    assert rubric.judges[0].provider.calls == 3  # three repeats are three answers, not one
    again = grade(grader)
    assert rubric.judges[0].provider.calls == 3 and again.detail == first.detail
    grade(grader, "another output")
    assert rubric.judges[0].provider.calls == 6


def test_an_uncacheable_judge_is_never_cached(store: Store) -> None:
    grader = bound(judge=mock_judge(output="PASS"))
    grader.grader.use_cache(store.cache)
    grade(grader)
    grade(grader)
    rubric = grader.grader
    assert isinstance(rubric, Rubric) and rubric.judges[0].provider.calls == 2


def test_the_judge_keeps_to_its_concurrency_limit() -> None:
    grader = bound(judge={"model": f"{J}:slow_pass", "concurrency": 2}, judge_repeats=4)

    async def many() -> list[Grade]:
        return await asyncio.gather(*[grader.grade(f"output {i}", CASE) for i in range(5)])

    results = asyncio.run(many())
    assert all(result.passed for result in results)
    assert judges.MAX_ACTIVE == 2


def test_openai_judges_get_json_mode(fake_openai_server: Any) -> None:
    fake_openai_server.reply = lambda body: '{"reason": "fine", "verdict": "PASS"}'
    judge = {"model": "openai/judge-model", "base_url": fake_openai_server.url}
    result = grade(bound(judge=judge))
    assert result.passed is True
    body = fake_openai_server.requests[-1]
    assert body["response_format"] == {"type": "json_object"} and body["model"] == "judge-model"
    assert "seed" in body


def test_each_judge_may_bring_its_own_prompt() -> None:
    own = {"model": f"{J}:in_sequence", "name": "terse", "prompt": "Rule: {{ criterion.description }} / {{ output }}"}
    result = grade(bound(judges=[own, f"{J}:good_word"], combine="mean", threshold=0.5))
    assert result.passed is True and result.detail is not None and result.detail["judges"][0] == "terse"
    assert "Rule: The reply is polite / a good reply" in judges.PROMPTS
    assert any("[Output]" in prompt for prompt in judges.PROMPTS)  # the other judge got the default prompt


def test_the_example_suite_loads() -> None:
    from mendoza.api import load_suite
    from mendoza.soft import parse_grader_option

    folder = Path(__file__).resolve().parents[2] / "examples" / "support_replies"
    suite = load_suite(folder / "suite.yaml")
    assert [(spec.type, spec.name) for spec in suite.graders] == [("rubric", "good-reply"), ("pairwise", "preferred")]
    assert len(suite.variants) == 3 and len(suite.cases) == 8
    comment = (folder / "suite.yaml").read_text(encoding="utf-8").split("--grader '")[1].split("'\n  - type")[0]
    noisy = parse_grader_option(" ".join(line.strip(" #") for line in comment.splitlines()))
    assert isinstance(noisy, GraderSpec) and noisy.params["judge_repeats"] == 3
