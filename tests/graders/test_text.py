"""equals, contains, contains_any, contains_all, regex and length."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from mendoza.core import Case
from mendoza.errors import GraderError
from mendoza.graders.base import Grader, Verdict
from mendoza.graders.text import (
    Contains,
    ContainsAll,
    ContainsAny,
    Equals,
    Length,
    Regex,
    _compile,
    clip,
    normalise,
)

ASCII = st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from(" \n\t")
CASE = Case(id="c1", vars={"topic": "billing", "name": "Ana"}, expected="Paris")


def grade(cls: type[Grader], raw: Any, output: str, case: Case = CASE) -> Verdict:
    verdict = cls(cls.parse_params(raw)).grade(output, case)
    assert isinstance(verdict, Verdict)
    return verdict


# normalise ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("strip", "a  b\tc"),
        ("collapse", "a b c"),
        ("none", "  a  b\tc\n"),
        ("all", "abc"),
    ],
)
def test_normalise_whitespace_modes(mode: Any, expected: str) -> None:
    assert normalise("  a  b\tc\n", ignore_whitespace=mode) == expected


def test_normalise_removes_unicode_punctuation_but_keeps_letters_and_symbols() -> None:
    text = "¿Qué? «hola» — ¡sí!"
    assert normalise(text, ignore_punctuation=True, ignore_whitespace="collapse") == "Qué hola sí"
    assert normalise("$5 + 3", ignore_punctuation=True) == "$5 + 3"


def test_normalise_casefolds_and_composes_unicode() -> None:
    assert normalise("STRASSE", ignore_case=True) == normalise("straße", ignore_case=True)
    assert normalise("e\u0301") == "é"


@given(st.text(alphabet=ASCII, max_size=40))
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text, ignore_case=True, ignore_whitespace="collapse", ignore_punctuation=True)
    assert normalise(once, ignore_case=True, ignore_whitespace="collapse", ignore_punctuation=True) == once


# "{" is left out: a value with "{{" or "{#" in it is a Jinja template (see render_param).
@given(st.text(alphabet=ASCII.filter(lambda char: char != "{"), min_size=1), st.data())
def test_any_slice_of_the_output_is_contained_in_it(output: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(output) - 1))
    end = data.draw(st.integers(start + 1, len(output)))
    needle = output[start:end]
    if not needle.strip():
        return
    assert grade(Contains, needle, output).passed


def test_clip_truncates_long_text_to_about_80_characters() -> None:
    clipped = clip("x" * 500)
    assert len(clipped) <= 82 and clipped.endswith("…'")
    assert clip("short") == "'short'"


# equals -------------------------------------------------------------------------------------------------


def test_equals_strips_ends_but_is_case_sensitive_by_default() -> None:
    assert grade(Equals, "Paris", "  Paris\n").passed
    verdict = grade(Equals, "Paris", "paris")
    assert verdict == Verdict(False, 0.0, "expected 'Paris', got 'paris'")


def test_equals_options() -> None:
    assert grade(Equals, {"value": "Paris", "ignore_case": True}, "PARIS").passed
    assert grade(Equals, {"value": "New York", "ignore_whitespace": "collapse"}, " New \n York ").passed
    assert not grade(Equals, {"value": "New York"}, "New  York").passed
    assert grade(Equals, {"value": "4 2", "ignore_whitespace": "all"}, "42").passed
    assert not grade(Equals, {"value": "Paris", "ignore_whitespace": "none"}, "Paris\n").passed
    assert grade(Equals, {"value": "Paris", "ignore_punctuation": True}, "Paris!").passed
    assert not grade(Equals, "Paris", "Paris!").passed


def test_equals_compares_numbers_as_text() -> None:
    assert grade(Equals, 42, "42").passed
    assert grade(Equals, {"value": 2.5}, "2.5").passed
    assert not grade(Equals, 42, "42.0").passed
    assert grade(Equals, True, "true").passed
    assert grade(Equals, "{{ expected }}", "false", Case(id="b", expected=False)).passed


def test_equals_reads_expected_and_vars_through_templates() -> None:
    assert grade(Equals, "{{ expected }}", "Paris").passed
    assert grade(Equals, "Hello {{ name }}!", "Hello Ana!").passed
    numeric = Case(id="n", expected=7)
    assert grade(Equals, "{{ expected }}", "7", numeric).passed


def test_equals_with_no_expected_is_an_error_that_says_so() -> None:
    with pytest.raises(GraderError, match=r"value is empty.*expected"):
        grade(Equals, "{{ expected }}", "Paris", Case(id="bare"))


def test_equals_truncates_a_long_output_in_its_explanation() -> None:
    verdict = grade(Equals, "short", "word " * 100)
    assert len(verdict.explanation) < 120
    assert "…" in verdict.explanation


def test_equals_handles_unicode() -> None:
    assert grade(Equals, "Zürich", "Zu\u0308rich").passed
    assert grade(Equals, {"value": "ÉCOLE", "ignore_case": True}, "école").passed


# contains -----------------------------------------------------------------------------------------------


def test_contains_ignores_case_and_whitespace_runs_by_default() -> None:
    assert grade(Contains, "billing", "This is a Billing question.").passed
    assert grade(Contains, "refund policy", "our refund\n   policy says").passed


def test_contains_can_be_case_sensitive() -> None:
    verdict = grade(Contains, {"value": "billing", "ignore_case": False}, "Billing")
    assert verdict == Verdict(False, 0.0, "expected 'billing' in output, not found")


def test_contains_explains_a_pass_and_a_failure() -> None:
    assert grade(Contains, "billing", "billing!").explanation == "found 'billing'"
    assert grade(Contains, "billing", "shipping").explanation == "expected 'billing' in output, not found"


def test_contains_reads_case_vars() -> None:
    assert grade(Contains, "{{ topic }}", "a BILLING issue").passed
    assert not grade(Contains, "{{ topic }}", "a shipping issue").passed


def test_contains_ignore_punctuation() -> None:
    assert not grade(Contains, "e-mail", "send an email").passed
    assert grade(Contains, {"value": "e-mail", "ignore_punctuation": True}, "send an email").passed


def test_contains_a_list_is_an_error_pointing_to_contains_any() -> None:
    case = Case(id="l", expected=["a", "b"])
    with pytest.raises(GraderError, match="contains_any or contains_all"):
        grade(Contains, "{{ expected }}", "a", case)


def test_contains_nothing_is_an_error_not_a_pass() -> None:
    with pytest.raises(GraderError, match="nothing to look for"):
        grade(Contains, "", "anything")
    with pytest.raises(GraderError, match="nothing to look for"):
        grade(Contains, {"value": "?!", "ignore_punctuation": True}, "anything")


# contains_any / contains_all ----------------------------------------------------------------------------


def test_contains_any_passes_on_any_one() -> None:
    verdict = grade(ContainsAny, ["refund", "money back"], "You get your MONEY  back.")
    assert verdict == Verdict(True, 1.0, "found 'money back'")
    failed = grade(ContainsAny, ["refund", "money back"], "no luck")
    assert failed == Verdict(False, 0.0, "none of ['refund', 'money back'] found in output")


def test_contains_any_takes_a_list_expected_through_a_template() -> None:
    case = Case(id="t", expected=["invoice", "billing"])
    assert grade(ContainsAny, "{{ expected }}", "about your Invoice", case).passed
    assert not grade(ContainsAny, "{{ expected }}", "about shipping", case).passed


def test_contains_any_takes_a_single_expected_and_mixed_lists() -> None:
    assert grade(ContainsAny, "{{ expected }}", "capital: paris").passed
    case = Case(id="t", expected=["invoice", "bill"])
    assert grade(ContainsAny, ["{{ expected }}", "receipt"], "your receipt", case).passed
    assert grade(ContainsAny, ["{{ expected }}", "receipt"], "the bill", case).passed


def test_contains_any_with_numbers_and_empty_lists() -> None:
    assert grade(ContainsAny, [42, 7], "the answer is 42").passed
    with pytest.raises(GraderError, match="empty list"):
        grade(ContainsAny, "{{ expected }}", "x", Case(id="e", expected=[]))


def test_contains_all_scores_the_fraction_found() -> None:
    verdict = grade(ContainsAll, ["order", "refund", "apology"], "Your ORDER refund is on its way")
    assert not verdict.passed
    assert verdict.score == pytest.approx(2 / 3)
    assert verdict.explanation == "found 2/3; missing 'apology'"
    assert grade(ContainsAll, ["order", "refund"], "order refund") == Verdict(True, 1.0, "found all 2")


def test_contains_all_params_reject_a_mapping_value() -> None:
    with pytest.raises(ValidationError):
        ContainsAll.parse_params({"value": {"a": 1}})


# regex --------------------------------------------------------------------------------------------------


def test_regex_search_and_fullmatch() -> None:
    assert grade(Regex, r"\b\d{3}-\d{4}\b", "call 555-1234 now").explanation == "matched '555-1234' at 5"
    assert not grade(Regex, {"pattern": r"\d{3}-\d{4}", "mode": "fullmatch"}, "call 555-1234").passed
    assert grade(Regex, {"pattern": r"\d{3}-\d{4}", "mode": "fullmatch"}, "555-1234").passed
    assert grade(Regex, r"^\s*(yes|no)\b", "  yes, sure").passed
    assert grade(Regex, "x", "y").explanation == "pattern 'x' not found in output"


def test_regex_flags() -> None:
    assert not grade(Regex, "^yes$", "Maybe\nYES").passed
    assert grade(Regex, {"pattern": "^yes$", "flags": ["ignorecase", "multiline"]}, "Maybe\nYES").passed
    assert not grade(Regex, "a.b", "a\nb").passed
    assert grade(Regex, {"pattern": "a.b", "flags": ["dotall"]}, "a\nb").passed
    with pytest.raises(ValidationError):
        Regex.parse_params({"pattern": "a", "flags": ["verbose"]})


def test_regex_braces_and_hash_are_not_templates() -> None:
    assert grade(Regex, "[{#]", "a # b").passed
    assert grade(Regex, r"^a{2,3}$", "aaa").passed


def test_regex_templated_pattern() -> None:
    assert grade(Regex, r"^{{ expected }}\.?$", "Paris.").passed


def test_a_bad_regex_fails_when_the_suite_loads_naming_the_pattern() -> None:
    with pytest.raises(ValidationError, match=r"invalid regex pattern '\(unclosed'") as info:
        Regex.parse_params("(unclosed")
    assert info.value.errors()[0]["loc"] == ("pattern",)


def test_a_bad_templated_regex_is_a_one_line_grader_error_naming_the_pattern() -> None:
    case = Case(id="r", expected="(oops")
    with pytest.raises(GraderError) as info:
        grade(Regex, "{{ expected }}", "text", case)
    message = str(info.value)
    assert message.startswith("regex: invalid pattern '(oops'")
    assert "\n" not in message


def test_regex_compiles_each_distinct_pattern_once() -> None:
    _compile.cache_clear()
    grader = Regex(Regex.parse_params(r"caché-\d+"))
    for output in ["caché-1", "nope", "caché-22"]:
        grader.grade(output, CASE)
    info = _compile.cache_info()
    assert (info.misses, info.hits) == (1, 2)


# length -------------------------------------------------------------------------------------------------


def test_length_in_chars_and_words() -> None:
    assert grade(Length, {"max": 5}, "  hello \n") == Verdict(True, 1.0, "5 chars, within [0, 5]")
    assert grade(Length, {"max": 4}, "hello") == Verdict(False, 0.0, "5 chars, more than max 4")
    assert grade(Length, {"min": 3, "unit": "words"}, "one two") == Verdict(
        False, 0.0, "2 words, fewer than min 3"
    )
    assert grade(Length, {"min": 2, "max": 3, "unit": "words"}, "one\ntwo  three").passed
    assert grade(Length, {"min": 1}, "ü").explanation == "1 chars, within [1, ∞]"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "needs min, max or both"),
        ({"min": 5, "max": 2}, "greater than max"),
        ({"max": -1}, "greater than or equal to 0"),
        ({"max": True}, "not a boolean"),
        ({"max": 3, "unit": "tokens"}, "chars"),
    ],
)
def test_length_params_are_checked(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Length.parse_params(raw)


def test_length_takes_no_scalar_shorthand() -> None:
    with pytest.raises(GraderError, match="takes a mapping"):
        Length.parse_params(280)
