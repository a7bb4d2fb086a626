"""Reading real judges' answers: JSON anywhere, labelled lines, bare answers; ambiguity is no answer."""

from __future__ import annotations

import pytest

from mendoza.graders.judge_parsing import json_objects, parse_preference, parse_vote, parse_votes


@pytest.mark.parametrize(
    ("text", "score", "label"),
    [
        (" PASS", 1.0, "PASS"),
        (" FAIL\n\nRule: something else", 0.0, "FAIL"),
        ("pass.", 1.0, "PASS"),
        ("Yes, it is polite.", 1.0, "PASS"),
        ("no.", 0.0, "FAIL"),
        ("Yes\nbecause it apologises", 1.0, "PASS"),
        ('{"verdict": "FAIL", "reason": "rude"}', 0.0, "FAIL"),
        ('Sure! Here you go:\n```json\n{"reason": "fine", "verdict": "PASS"}\n```', 1.0, "PASS"),
        ('{"passed": true}', 1.0, "PASS"),
        ('{"result": false}', 0.0, "FAIL"),
        ("The reply ignores the question.\n\nVerdict: FAIL", 0.0, "FAIL"),
        ("**Verdict:** PASS", 1.0, "PASS"),
        ("Reasoning: it apologises.\nAnswer = pass", 1.0, "PASS"),
        ("It is kind and clear.\nPASS", 1.0, "PASS"),
    ],
)
def test_binary_answers(text: str, score: float, label: str) -> None:
    vote = parse_vote(text)
    assert vote is not None and vote.score == score and vote.label == label


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n  ",
        "The reply is polite",  # no verdict word
        "It depends.",
        '{"verdict": "PASS"} and then {"verdict": "FAIL"}',  # two answers that differ
        "Verdict: PASS\nVerdict: FAIL",
        "PASS\n...\nFAIL",
        '{"verdict": "maybe"}',
        "No idea, sorry.",
        "Good question!",
    ],
)
def test_unreadable_or_ambiguous_answers_are_none(text: str) -> None:
    assert parse_vote(text) is None


def test_reasons_are_kept() -> None:
    vote = parse_vote('{"reason": "says sorry", "verdict": "PASS"}')
    assert vote is not None and vote.reason == "says sorry"
    bare = parse_vote("FAIL\nIt never answers the question.")
    assert bare is not None and bare.reason == "It never answers the question."


@pytest.mark.parametrize(
    ("text", "score"),
    [
        (" 4", 0.75),
        ("Score: 5", 1.0),
        ("score: 2/5", 0.25),
        ("3 out of 5", 0.5),
        ('{"score": 1, "reason": "no"}', 0.0),
        ('{"rating": "4/5"}', 0.75),
        ('{"score": 3.5}', 0.625),
    ],
)
def test_scale_answers(text: str, score: float) -> None:
    vote = parse_vote(text, scale=5)
    assert vote is not None and vote.score == pytest.approx(score)


@pytest.mark.parametrize("text", [" 7", "0", "score: 8/10", "PASS", '{"score": "high"}'])
def test_scale_answers_out_of_range_are_none(text: str) -> None:
    assert parse_vote(text, scale=5) is None


def test_json_objects_anywhere() -> None:
    text = 'first {"a": 1} then {not json} and {"b": {"c": 2}} end'
    assert json_objects(text) == [{"a": 1}, {"b": {"c": 2}}]


def test_all_criteria_at_once() -> None:
    criteria = [("polite", None), ("helpful", None), ("tone", 5)]
    from_json = parse_votes('{"Polite": "PASS", "helpful": {"verdict": "FAIL", "reason": "off"}, "tone": 4}', criteria)
    assert from_json is not None
    assert [from_json[name].score for name in ("polite", "helpful", "tone")] == [1.0, 0.0, 0.75]
    assert from_json["helpful"].reason == "off"
    nested = parse_votes('{"criteria": [{"name": "polite", "verdict": "FAIL"}, {"name": "helpful", "verdict": '
                         '"PASS"}, {"name": "tone", "score": 2}]}', criteria)
    assert nested is not None and nested["polite"].score == 0.0 and nested["tone"].score == 0.25
    lines = parse_votes("- polite: PASS - says thanks\n- helpful: FAIL\n- tone: 5", criteria)
    assert lines is not None and lines["polite"].reason == "says thanks" and lines["tone"].score == 1.0
    assert parse_votes("polite: PASS\nhelpful: FAIL", criteria) is None  # tone missing


@pytest.mark.parametrize(
    ("text", "order"),
    [
        ("A", "first"),
        (" B\n\nQuestion: ...", "second"),
        ("[[A]]", "first"),
        ("My verdict: [[B]]", "second"),
        ("[[C]]", "tie"),
        ('{"reason": "clearer", "winner": "B"}', "second"),
        ('{"winner": "tie"}', "tie"),
        ("Winner: A", "first"),
        ("Better: Output B", "second"),
        ("Tie", "tie"),
        ("A. It answers the question.", "first"),
    ],
)
def test_preferences(text: str, order: str) -> None:
    assert parse_preference(text) == order


@pytest.mark.parametrize("text", ["", "Both are fine I guess, hard to say", "[[A]] no wait [[B]]", "Answer: maybe"])
def test_unreadable_preferences_are_none(text: str) -> None:
    assert parse_preference(text) is None
