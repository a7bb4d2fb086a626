"""Each mistake in a suite file is one ConfigError whose one line names the file, the line (or the case)
and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from mendoza.config import load_suite
from mendoza.errors import ConfigError
from tests.config.suite_files import MINIMAL, config_error, write_suite

# MINIMAL, by line: 1 suite, 2 cases, 3 - id: a, 4 question, 5 expected, 6 variants, 7 - id: plain, 8 prompt


def suite_file(folder: Path) -> str:
    return str(folder / "suite.yaml")


# top level and variants ------------------------------------------------------------------------------


def test_unknown_top_level_key_with_a_hint(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL + "repeat: 5\n")
    assert error.where == f"{suite_file(tmp_path)}:9"
    assert str(error) == f"{suite_file(tmp_path)}:9: unknown key 'repeat' (did you mean 'repeats'?)"


def test_a_misspelt_required_key_is_reported_as_unknown_not_missing(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL.replace("cases:", "case:"))
    assert error.where == f"{suite_file(tmp_path)}:2"
    assert "unknown key 'case' (did you mean 'cases'?)" in str(error)


def test_unknown_key_without_a_close_match_has_no_hint(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL + "zzzzzz: 1\n")
    assert error.detail == "unknown key 'zzzzzz'"


def test_unknown_key_inside_a_variant(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL + "    temprature: 0.5\n")
    assert error.where == f"{suite_file(tmp_path)}:9"
    assert error.detail.startswith("unknown key 'variants.0.temprature'")


def test_unknown_key_inside_a_variant_gets_a_hint(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL + "    prompt_fiel: p.j2\n")
    assert error.where == f"{suite_file(tmp_path)}:9"
    assert error.detail == "unknown key 'variants.0.prompt_fiel' (did you mean 'prompt_file'?)"


def test_unknown_key_inside_pricing_names_the_right_key(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL + "    pricing: {inptu: 1, output: 2}\n")
    assert error.where == f"{suite_file(tmp_path)}:9"
    assert error.detail == "unknown key 'variants.0.pricing.inptu' (did you mean 'input'?)"


def test_missing_required_key(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL.replace("suite: tiny\n", "description: no name\n"))
    assert error.where == f"{suite_file(tmp_path)}:1"
    assert error.detail == "missing required key 'suite'"


def test_missing_variant_id_points_at_the_variant(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL.replace("  - id: plain\n    prompt:", "  - prompt:"))
    assert error.where == f"{suite_file(tmp_path)}:7"
    assert error.detail == "missing required key 'variants.0.id'"


def test_wrong_type(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL + "repeats: five\n")
    assert error.where == f"{suite_file(tmp_path)}:9"
    assert error.detail.startswith("'repeats': Input should be a valid integer")


def test_out_of_range_value(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL + "thresholds:\n  min_pass_rate: 1.5\n")
    assert error.where == f"{suite_file(tmp_path)}:10"
    assert error.detail == "'thresholds.min_pass_rate': Input should be less than or equal to 1"


def test_cases_of_the_wrong_type_name_the_key_not_pydantic_internals(tmp_path: Path) -> None:
    error = config_error(tmp_path, "suite: s\ncases: 42\nvariants: [{id: v, prompt: x}]\n")
    assert error.where == f"{suite_file(tmp_path)}:2"
    assert error.detail in (
        "'cases': Input should be a valid list",
        "'cases': Input should be a valid string",
    )
    assert "list[" not in str(error)


def test_a_variant_that_is_not_a_mapping(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL + "  - just-a-string\n")
    assert error.where == f"{suite_file(tmp_path)}:9"
    assert error.detail == "'variants.1': must be a mapping"


def test_no_variants(tmp_path: Path) -> None:
    error = config_error(tmp_path, "suite: s\ncases: [{id: a}]\nvariants: []\n")
    assert error.where == f"{suite_file(tmp_path)}:3"
    assert "'variants'" in error.detail and "at least 1" in error.detail


def test_no_cases(tmp_path: Path) -> None:
    error = config_error(tmp_path, "suite: s\ncases: []\nvariants: [{id: v, prompt: x}]\n")
    assert error.where == f"{suite_file(tmp_path)}:2"
    assert error.detail == "the suite has no cases"


def test_duplicate_case_ids_point_at_the_second_case(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL.replace("variants:", "  - id: a\n    question: again\nvariants:"))
    assert error.where == f"{suite_file(tmp_path)}:6"
    assert error.detail == "duplicate case id 'a'"


def test_duplicate_case_ids_in_a_cases_file_point_at_its_line(tmp_path: Path) -> None:
    text = "suite: s\ncases: c.jsonl\nvariants: [{id: v, prompt: x}]\n"
    error = config_error(tmp_path, text, **{"c.jsonl": '{"id": "x"}\n{"id": "y"}\n{"id": "x"}\n'})
    assert error.where == f"{tmp_path / 'c.jsonl'}:3"
    assert error.detail == "duplicate case id 'x' (first on line 1)"


def test_an_empty_cases_file_is_named(tmp_path: Path) -> None:
    text = "suite: s\ncases: c.jsonl\nvariants: [{id: v, prompt: x}]\n"
    error = config_error(tmp_path, text, **{"c.jsonl": "\n"})
    assert error.where == f"{suite_file(tmp_path)}:2"
    assert error.detail == "the cases file 'c.jsonl' has no cases"


def test_duplicate_variant_ids(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL + "  - id: plain\n    prompt: other\n")
    assert error.where == f"{suite_file(tmp_path)}:6"
    assert error.detail == "duplicate variant id 'plain'"


def test_a_variant_without_a_prompt(tmp_path: Path) -> None:
    error = config_error(
        tmp_path, MINIMAL.replace('    prompt: "Q: {{ question }}"\n', "    model: openai/x\n")
    )
    assert error.where == f"{suite_file(tmp_path)}:7"
    assert error.detail == "variant 'plain' needs a 'prompt' or a 'prompt_file' (or cases with 'messages')"


def test_both_prompt_and_prompt_file(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL + "    prompt_file: p.j2\n", **{"p.j2": "x"})
    assert error.where == f"{suite_file(tmp_path)}:7"
    assert "sets both 'prompt' and 'prompt_file'" in error.detail


# files the suite names ---------------------------------------------------------------------------------


def test_missing_cases_file(tmp_path: Path) -> None:
    error = config_error(tmp_path, "suite: s\ncases: nowhere.jsonl\nvariants: [{id: v, prompt: x}]\n")
    assert error.where == f"{suite_file(tmp_path)}:2"
    assert error.detail == "cases file 'nowhere.jsonl' not found"


def test_missing_prompt_file(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL.replace('prompt: "Q: {{ question }}"', "prompt_file: gone.j2"))
    assert error.where == f"{suite_file(tmp_path)}:7"
    assert error.detail == "variant 'plain': prompt_file 'gone.j2' not found"


def test_prompt_file_that_is_not_utf8(tmp_path: Path) -> None:
    text = MINIMAL.replace('prompt: "Q: {{ question }}"', "prompt_file: p.j2")
    error = config_error(tmp_path, text, **{"p.j2": b"\xff\xfe{{ question }}"})
    assert error.where == f"{suite_file(tmp_path)}:7"
    assert "prompt_file 'p.j2' is not UTF-8 text" in error.detail


def test_bad_jsonl_line_names_the_cases_file_and_line(tmp_path: Path) -> None:
    text = "suite: s\ncases: cases.jsonl\nvariants: [{id: v, prompt: x}]\n"
    error = config_error(tmp_path, text, **{"cases.jsonl": '{"id": "a"}\n\n{"id": b}\n'})
    assert error.where == f"{tmp_path / 'cases.jsonl'}:3"
    assert error.detail.startswith("invalid JSON: ")


def test_non_mapping_jsonl_row(tmp_path: Path) -> None:
    text = "suite: s\ncases: cases.jsonl\nvariants: [{id: v, prompt: x}]\n"
    error = config_error(tmp_path, text, **{"cases.jsonl": '{"id": "a"}\n["b"]\n'})
    assert error.where == f"{tmp_path / 'cases.jsonl'}:2"
    assert error.detail == "a case must be a mapping, not list"


def test_csv_row_with_too_many_fields(tmp_path: Path) -> None:
    text = "suite: s\ncases: cases.csv\nvariants: [{id: v, prompt: x}]\n"
    error = config_error(tmp_path, text, **{"cases.csv": "id,q\na,one\nb,two,three\n"})
    assert error.where == f"{tmp_path / 'cases.csv'}:3"
    assert error.detail == "row has 3 fields, header has 2"


# templates ---------------------------------------------------------------------------------------------


def test_prompt_using_an_unknown_variable_names_the_variant_and_the_case(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL.replace("{{ question }}", "{{ question }} {{ tone }}"))
    assert error.where == f"{suite_file(tmp_path)}:7"
    assert error.detail == (
        "variant 'plain' prompt uses {{ tone }}, which case 'a' does not define (its vars: question)"
    )


def test_a_variable_only_some_jsonl_cases_define_names_the_first_case_without_it(tmp_path: Path) -> None:
    text = "suite: s\ncases: c.jsonl\nvariants: [{id: v, prompt: '{{ q }}'}]\n"
    error = config_error(tmp_path, text, **{"c.jsonl": '{"id": "has", "q": 1}\n{"id": "lacks", "r": 2}\n'})
    assert "case 'lacks'" in error.detail and "{{ q }}" in error.detail


def test_unknown_variable_in_the_system_template(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL + "    system: '{{ persona }}'\n")
    assert error.where == f"{suite_file(tmp_path)}:7"
    assert error.detail.startswith("variant 'plain' system uses {{ persona }}")


def test_template_variables_every_case_has_are_fine(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "{{ question }}", "{{ question }} {{ expected }} {{ case_id }} {{ tags }} {{ range(2) }}"
    )
    load_suite(write_suite(tmp_path, text))


def test_jinja_syntax_error(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL.replace("{{ question }}", "{{ question"))
    assert error.where == f"{suite_file(tmp_path)}:7"
    assert error.detail.startswith("variant 'plain' prompt: template syntax error on its line 1: ")


def test_jinja_syntax_error_in_a_prompt_file_names_that_file_and_line(tmp_path: Path) -> None:
    text = MINIMAL.replace('prompt: "Q: {{ question }}"', "prompt_file: p.j2")
    error = config_error(tmp_path, text, **{"p.j2": "line one {{ question }}\n{% if %}\n"})
    assert error.where == f"{tmp_path / 'p.j2'}:2"
    assert "template syntax error on its line 2" in error.detail


def test_unknown_filter_is_reported_like_a_syntax_error(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL.replace("{{ question }}", "{{ question | shout }}"))
    assert "No filter named 'shout'" in error.detail


# the document itself ------------------------------------------------------------------------------------


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL.replace("    question: What is 2 + 2?", "    question: [unclosed"))
    assert error.where is not None and error.where.startswith(f"{suite_file(tmp_path)}:")
    assert int(error.where.rsplit(":", 1)[1]) in (4, 5)
    assert error.detail.startswith("invalid YAML: ")


def test_tab_indentation_is_invalid_yaml(tmp_path: Path) -> None:
    error = config_error(tmp_path, "suite: s\ncases:\n\t- id: a\n")
    assert error.where == f"{suite_file(tmp_path)}:3"


def test_python_tags_are_refused(tmp_path: Path) -> None:
    error = config_error(tmp_path, MINIMAL + "seed: !!python/object/apply:os.getpid []\n")
    assert error.where == f"{suite_file(tmp_path)}:9"
    assert error.detail.startswith("invalid YAML: could not determine a constructor")


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n"])
def test_a_document_that_is_not_a_mapping(tmp_path: Path, text: str) -> None:
    error = config_error(tmp_path, text)
    assert error.where == suite_file(tmp_path)
    assert error.detail == "a suite file must be a mapping with 'suite', 'cases' and 'variants'"


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_an_empty_file(tmp_path: Path, text: str) -> None:
    error = config_error(tmp_path, text)
    assert error.where == suite_file(tmp_path)
    assert "must be a mapping" in error.detail


def test_a_missing_suite_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_suite(tmp_path / "absent.yaml")
    assert str(info.value) == f"{tmp_path / 'absent.yaml'}: file not found"


def test_a_suite_file_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "suite.yaml").write_bytes(b"suite: \xff\n")
    with pytest.raises(ConfigError) as info:
        load_suite(tmp_path)
    assert str(info.value) == f"{tmp_path / 'suite.yaml'}:1: not UTF-8 text: invalid start byte (byte 0xff)"
