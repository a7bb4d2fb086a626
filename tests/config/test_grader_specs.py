"""Grader entries in a suite: the accepted forms, negation, unique names, and one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mendoza.config import load_suite
from mendoza.config.grader_specs import parse_grader_entries, parse_grader_entry
from mendoza.core import GraderSpec
from mendoza.errors import ConfigError
from tests.config.suite_files import MINIMAL, config_error, write_suite


def parse(*entries: Any) -> list[GraderSpec]:
    return parse_grader_entries(list(entries), lambda index: f"suite.yaml:{10 + index}")


def parse_error(*entries: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse(*entries)
    assert "\n" not in str(info.value)
    return info.value


# forms -------------------------------------------------------------------------------------------------


def test_scalar_shorthand() -> None:
    assert parse({"contains": "refund"}) == [
        GraderSpec(type="contains", params={"value": "refund"}, name="contains")
    ]


def test_shorthand_with_options_beside_it() -> None:
    (spec,) = parse({"equals": "{{ expected }}", "ignore_case": True})
    assert spec == GraderSpec(
        type="equals", params={"value": "{{ expected }}", "ignore_case": True}, name="equals"
    )


def test_mapping_value() -> None:
    (spec,) = parse({"regex": {"pattern": "^(yes|no)$", "flags": ["ignorecase"]}})
    assert spec.params == {"pattern": "^(yes|no)$", "flags": ["ignorecase"]}


def test_long_form_with_type_and_name() -> None:
    (spec,) = parse({"type": "regex", "pattern": "^ok$", "name": "yes-or-no"})
    assert spec == GraderSpec(type="regex", params={"pattern": "^ok$"}, name="yes-or-no")


def test_bare_name_for_a_grader_without_required_parameters() -> None:
    (spec,) = parse("json")
    assert (spec.type, spec.params, spec.negate) == ("json", {}, False)


def test_json_schema_through_its_alias() -> None:
    (spec,) = parse({"json": {"schema": {"type": "object"}}})
    assert spec.params == {"schema": {"type": "object"}}


def test_not_prefix_negates() -> None:
    (spec,) = parse({"not-contains": "As an AI"})
    assert spec == GraderSpec(type="contains", params={"value": "As an AI"}, name="not-contains", negate=True)


def test_not_mapping_negates() -> None:
    (spec,) = parse({"not": {"contains": "As an AI"}})
    assert spec == GraderSpec(type="contains", params={"value": "As an AI"}, name="not-contains", negate=True)


def test_not_around_the_long_form_and_double_negation() -> None:
    (long_form,) = parse({"not": {"type": "contains", "value": "x"}})
    (double,) = parse({"not": {"not-contains": "x"}})
    assert long_form.negate is True
    assert double.negate is False


def test_negation_changes_the_definition_hash() -> None:
    plain, negated = parse({"contains": "x"}, {"not-contains": "x"})
    assert plain.definition_hash() != negated.definition_hash()


# names --------------------------------------------------------------------------------------------------


def test_two_graders_of_one_type_get_unique_names() -> None:
    names = [
        spec.name for spec in parse({"contains": "a"}, {"contains": "b"}, {"contains": "c"}, {"equals": "d"})
    ]
    assert names == ["contains", "contains#2", "contains#3", "equals"]


def test_negated_graders_are_named_apart_from_plain_ones() -> None:
    names = [
        spec.name for spec in parse({"contains": "a"}, {"not-contains": "b"}, {"not": {"contains": "c"}})
    ]
    assert names == ["contains", "not-contains", "not-contains#2"]


def test_generated_names_never_take_a_name_the_suite_wrote() -> None:
    specs = parse({"contains": "a"}, {"contains": "b"}, {"contains": "c", "name": "contains#2"})
    names = [spec.name for spec in specs]
    assert len(set(names)) == 3
    assert names[2] == "contains#2"  # the written name is kept
    assert names[:2] == ["contains", "contains#3"]


def test_repeated_explicit_names_are_made_unique() -> None:
    names = [
        spec.name for spec in parse({"contains": "a", "name": "polite"}, {"equals": "b", "name": "polite"})
    ]
    assert names == ["polite", "polite#2"]


# errors -------------------------------------------------------------------------------------------------


def test_unknown_grader_type() -> None:
    error = parse_error({"contains": "a"}, {"containz": "x"})
    assert error.where == "suite.yaml:11"
    assert error.detail.startswith("unknown grader 'containz' (known: ")
    assert "contains" in error.detail and "regex" in error.detail


def test_unknown_grader_type_in_the_long_form() -> None:
    error = parse_error({"type": "bogus"})
    assert error.detail.startswith("unknown grader 'bogus'")


def test_unknown_parameter_lists_the_allowed_ones() -> None:
    error = parse_error({"contains": "x", "ignore_caps": True})
    assert error.where == "suite.yaml:10"
    assert error.detail == (
        "grader 'contains': unknown parameter 'ignore_caps' (did you mean 'ignore_case'?) "
        "(allowed: ignore_case, ignore_whitespace, ignore_punctuation, value)"
    )


def test_unknown_parameter_message_shows_aliases_not_field_names() -> None:
    error = parse_error({"json": {"shema": {}}})
    assert error.detail == (
        "grader 'json': unknown parameter 'shema' (did you mean 'schema'?) (allowed: extract, schema)"
    )
    assert "schema_" not in str(error)


def test_a_misspelt_required_parameter_is_reported_as_unknown() -> None:
    error = parse_error({"regex": {"patern": "x"}})
    assert "unknown parameter 'patern' (did you mean 'pattern'?)" in error.detail


def test_missing_required_parameter() -> None:
    error = parse_error("contains")
    assert error.detail == "grader 'contains': parameter 'value': Field required"


def test_bad_parameter_value_has_no_pydantic_prefix() -> None:
    error = parse_error({"regex": "(unclosed"})
    assert error.detail.startswith("grader 'regex': parameter 'pattern': invalid regex pattern '(unclosed'")
    assert "Value error" not in str(error)


def test_bad_numeric_value_has_no_pydantic_prefix() -> None:
    error = parse_error({"numeric": {"value": "abc"}})
    assert error.detail == (
        "grader 'numeric': parameter 'value': 'abc' is not a number (nor a template such as '{{ expected }}')"
    )


def test_bad_parameter_type_names_the_parameter_not_the_union_member() -> None:
    error = parse_error({"json": {"schema": 5}})
    assert error.detail.startswith("grader 'json': parameter 'schema': ")
    assert "dict[" not in error.detail


def test_out_of_range_parameter() -> None:
    error = parse_error({"length": {"min": -1}})
    assert error.detail == "grader 'length': parameter 'min': Input should be greater than or equal to 0"


def test_a_grader_that_takes_no_scalar() -> None:
    error = parse_error({"json": "yes please"})
    assert error.detail == "grader 'json' takes a mapping of parameters, not 'yes please'"


@pytest.mark.parametrize("entry", [[1, 2], 3, {}, {"not": 3}])
def test_an_entry_that_is_not_a_grader_mapping(entry: Any) -> None:
    error = parse_error(entry)
    assert error.where == "suite.yaml:10"
    assert error.detail.startswith("a grader must be a mapping like {contains: 'text'}")


def test_an_entry_naming_two_graders() -> None:
    error = parse_error({"contains": "a", "equals": "b"})
    assert "must name exactly one grader type" in error.detail and "type: NAME" in error.detail


def test_parse_grader_entry_raises_config_error_without_location() -> None:
    with pytest.raises(ConfigError) as info:
        parse_grader_entry({"contains": "x", "nope": 1}, 0)
    assert info.value.where is None


# through a suite file: the line of the entry ---------------------------------------------------------


def test_grader_errors_name_the_suite_file_and_line(tmp_path: Path) -> None:
    text = MINIMAL + "graders:\n  - contains: '4'\n  - type: numeric\n    value: four\n"
    error = config_error(tmp_path, text)
    assert error.where == f"{tmp_path / 'suite.yaml'}:11"
    assert error.detail.startswith("grader 'numeric': parameter 'value': 'four' is not a number")


def test_unknown_grader_in_a_suite_file(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL + "graders:\n  - smells_good: true\n")
    assert error.where == f"{tmp_path / 'suite.yaml'}:10"
    assert error.detail.startswith("unknown grader 'smells_good'")


def test_graders_from_a_suite_file(tmp_path: Path) -> None:
    text = MINIMAL + (
        "graders:\n"
        "  - equals: '{{ expected }}'\n"
        "    ignore_case: true\n"
        "  - not-contains: As an AI\n"
        "  - not: {contains: sorry}\n"
        "  - contains: '4'\n"
    )
    suite = load_suite(write_suite(tmp_path, text))
    assert [(spec.name, spec.type, spec.negate) for spec in suite.graders] == [
        ("equals", "equals", False),
        ("not-contains", "contains", True),
        ("not-contains#2", "contains", True),
        ("contains", "contains", False),
    ]
    assert suite.graders[0].params == {"value": "{{ expected }}", "ignore_case": True}
