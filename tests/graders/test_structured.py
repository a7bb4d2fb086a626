"""json (with JSON Schema) and numeric."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from mendoza.core import Case
from mendoza.errors import GraderError
from mendoza.graders.base import Grader, Verdict
from mendoza.graders.structured import Json, Numeric, extract_json, find_number

CASE = Case(id="c1", vars={"limit": 10}, expected=42)

ORDER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["items"],
    "properties": {
        "items": {
            "type": "array",
            "items": {"type": "object", "properties": {"price": {"type": "number"}}},
        }
    },
}


def grade(cls: type[Grader], raw: Any, output: str, case: Case = CASE) -> Verdict:
    verdict = cls(cls.parse_params(raw)).grade(output, case)
    assert isinstance(verdict, Verdict)
    return verdict


# json ---------------------------------------------------------------------------------------------------


def test_json_accepts_valid_json_with_surrounding_whitespace() -> None:
    assert grade(Json, {}, '  {"a": 1}\n') == Verdict(True, 1.0, "valid JSON")
    assert grade(Json, {}, "[1, 2]").passed


def test_json_rejects_text_around_json_unless_extracting() -> None:
    output = 'Sure! Here it is: {"answer": "yes"} Hope that helps.'
    verdict = grade(Json, {}, output)
    assert verdict.explanation == (
        "not valid JSON (Expecting value at line 1 column 1): "
        '\'Sure! Here it is: {"answer": "yes"} Hope that helps.\'; '
        "it holds JSON inside text: set extract: true to accept that"
    )
    assert grade(Json, {"extract": True}, output).passed
    plain = grade(Json, {}, '{"a" 1}')
    expected = "not valid JSON (Expecting ':' delimiter at line 1 column 6): '{\"a\" 1}'"
    assert plain == Verdict(False, 0.0, expected)


def test_json_extracts_from_a_fence_before_anything_else() -> None:
    output = 'Use {braces} wisely.\n```json\n{"answer": [1, 2]}\n```\n'
    assert extract_json(output) == {"answer": [1, 2]}
    assert extract_json("```\n[true]\n```") == [True]


def test_json_extraction_skips_brackets_that_are_not_json() -> None:
    assert extract_json('See [note] and {oops}, then {"ok": true} and [1]') == {"ok": True}
    assert extract_json(' "just a string" ') == "just a string"
    with pytest.raises(ValueError):
        extract_json("no json here")


def test_json_shorthand_true_and_empty_mean_defaults() -> None:
    assert Json.parse_params(True) == Json.Params()
    assert Json.parse_params(None) == Json.Params()
    assert Json.parse_params({}) == Json.Params()
    with pytest.raises(GraderError, match="takes a mapping"):
        Json.parse_params(False)


def test_json_schema_passes_and_fails_naming_the_path() -> None:
    raw = {"schema": ORDER_SCHEMA}
    assert grade(Json, raw, '{"items": [{"price": 3.5}]}') == Verdict(True, 1.0, "valid JSON, matches schema")
    verdict = grade(Json, raw, '{"items": [{"price": 3.5}, {"price": "free"}]}')
    assert verdict == Verdict(False, 0.0, "schema error at $.items[1].price: 'free' is not of type 'number'")
    missing = grade(Json, raw, "{}")
    assert missing.explanation == "schema error at $: 'items' is a required property"


def test_json_schema_is_draft_2020_12_and_checks_formats() -> None:
    raw = {"schema": {"type": "array", "prefixItems": [{"type": "integer"}], "items": False}}
    assert grade(Json, raw, "[1]").passed
    assert not grade(Json, raw, "[1, 2]").passed
    dated = {"schema": {"type": "string", "format": "date"}}
    assert grade(Json, dated, '"2024-02-29"').passed
    assert not grade(Json, dated, '"2023-02-29"').passed


def test_json_schema_from_a_file_relative_to_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "order.json").write_text(json.dumps(ORDER_SCHEMA))
    (tmp_path / "order.yaml").write_text("type: object\nrequired: [items]\n")
    monkeypatch.chdir(tmp_path)
    assert grade(Json, {"schema": "schemas/order.json"}, '{"items": []}').passed
    assert not grade(Json, {"schema": "schemas/order.json"}, '{"items": 3}').passed
    assert not grade(Json, {"schema": "order.yaml"}, "{}").passed


def test_json_bad_schemas_fail_when_the_grader_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(GraderError, match=r"cannot read schema file 'missing\.json'"):
        Json(Json.parse_params({"schema": "missing.json"}))
    with pytest.raises(GraderError, match=r"schema file 'broken\.json' cannot be parsed"):
        Json(Json.parse_params({"schema": "broken.json"}))
    with pytest.raises(GraderError, match="must hold a JSON object, not list"):
        Json(Json.parse_params({"schema": "list.json"}))
    with pytest.raises(GraderError, match="not a valid JSON Schema: 12 is not valid"):
        Json(Json.parse_params({"schema": {"type": 12}}))


def test_json_truncates_a_long_invalid_output() -> None:
    verdict = grade(Json, {}, "x" * 1000)
    assert len(verdict.explanation) < 120


# numeric ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("42", 42),
        ("The answer is 42.", 42),
        ("-3 degrees", -3),
        ("\u22123", -3),
        ("+0.5", 0.5),
        (".5", 0.5),
        ("1,234.5 dollars", 1234.5),
        ("$1,234,567", 1234567),
        ("2e3", 2000),
        ("1.5E-2", 0.015),
        ("45%", 45),
        ("GPT-4 scored 88", 4),
        ("range 10-20", 10),
        ("3 eggs", 3),
        ("1,2,3", 1),
        ("v1.2.3", 1.2),
    ],
)
def test_find_number_takes_the_first_number(text: str, number: float) -> None:
    assert find_number(text) == pytest.approx(number)


@pytest.mark.parametrize(
    ("text", "number"), [("42", 42), (" -1,000 ", -1000), ("12.5 %", 12.5), ("about 4", None)]
)
def test_find_number_without_extraction_takes_the_whole_text(text: str, number: float | None) -> None:
    assert find_number(text, extract=False) == number


def test_numeric_compares_the_first_number() -> None:
    assert grade(Numeric, 42, "I think it is 42.") == Verdict(True, 1.0, "found 42, expected 42")
    assert grade(Numeric, 42, "41 or so") == Verdict(False, 0.0, "found 41, expected 42")
    assert grade(Numeric, 1234.5, "Total: 1,234.50").passed
    assert grade(Numeric, 0.3, "0.3").passed


def test_numeric_tolerances() -> None:
    assert grade(Numeric, {"value": 100, "tolerance": 2}, "102").passed
    assert not grade(Numeric, {"value": 100, "tolerance": 2}, "102.5").passed
    assert grade(Numeric, {"value": 100, "relative_tolerance": 0.05}, "95").passed
    assert not grade(Numeric, {"value": 100, "relative_tolerance": 0.05}, "94.9").passed
    both = {"value": 10, "tolerance": 1, "relative_tolerance": 0.01}
    assert grade(Numeric, both, "11").passed
    assert grade(Numeric, both, "9.5").explanation == "found 9.5, expected 10 ± 1"


def test_numeric_reads_expected_as_number_or_text() -> None:
    assert grade(Numeric, "{{ expected }}", "42").passed
    assert grade(Numeric, "{{ limit }}", "10 items").passed
    as_text = Case(id="t", expected="1,000")
    assert grade(Numeric, "{{ expected }}", "1000", as_text).passed


def test_numeric_without_a_number_fails_and_says_so() -> None:
    verdict = grade(Numeric, 42, "I don't know")
    assert verdict == Verdict(False, 0.0, 'no number found in output: "I don\'t know"')
    strict = grade(Numeric, {"value": 42, "extract": False}, "about 42")
    assert not strict.passed
    assert "the whole output is not a number" in strict.explanation
    assert grade(Numeric, {"value": 42, "extract": False}, " 42\n").passed


def test_numeric_bad_expected_values() -> None:
    with pytest.raises(ValidationError, match="not a number"):
        Numeric.parse_params("forty-two")
    with pytest.raises(ValidationError, match="not a boolean"):
        Numeric.parse_params(True)
    with pytest.raises(ValidationError):
        Numeric.parse_params({"value": 1, "tolerance": -1})
    with pytest.raises(GraderError, match="numeric: value 'Paris' is not a number"):
        grade(Numeric, "{{ expected }}", "42", Case(id="p", expected="Paris"))
