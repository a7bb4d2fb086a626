"""Cases from JSONL and CSV files and from mappings; each bad row named by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mendoza.config import load_cases_file
from mendoza.config.datasets import case_from_mapping
from mendoza.core import Case
from mendoza.errors import ConfigError


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def load_error(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_cases_file(path)
    assert "\n" not in str(info.value)
    return info.value


def test_case_from_mapping_without_vars_takes_other_keys_as_vars() -> None:
    case = case_from_mapping({"id": 7, "q": "x", "expected": ["a"], "tags": " t1 , ,t2"}, "d", "here")
    assert case == Case(id="7", vars={"q": "x"}, expected=["a"], tags=("t1", "t2"))


def test_case_from_mapping_with_vars_refuses_keys_beside_them() -> None:
    with pytest.raises(ConfigError) as info:
        case_from_mapping({"vars": {"q": 1}, "stray": 2}, "d", "file.jsonl:4")
    assert str(info.value).startswith("file.jsonl:4: unknown case key(s) 'stray' next to 'vars'")


def test_case_from_mapping_with_a_bad_field() -> None:
    with pytest.raises(ConfigError) as info:
        case_from_mapping({"id": ["not", "text"]}, "d", "file.jsonl:2")
    assert str(info.value) == "file.jsonl:2: case field 'id': Input should be a valid string"


def test_jsonl_with_blank_lines_unicode_and_default_ids(tmp_path: Path) -> None:
    path = write(tmp_path / "items.jsonl", '{"q": "café ☕"}\n\n   \n{"id": "named", "q": "x"}\n{"q": "y"}\n')
    cases = load_cases_file(path)
    assert [case.id for case in cases] == ["items-1", "named", "items-5"]
    assert cases[0].vars == {"q": "café ☕"}


def test_jsonl_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.jsonl", '\ufeff{"id": "a"}\n'.encode())
    assert load_cases_file(path) == [Case(id="a")]


def test_ndjson_suffix_is_jsonl(tmp_path: Path) -> None:
    assert load_cases_file(write(tmp_path / "c.NDJSON", '{"id": "a"}\n')) == [Case(id="a")]


def test_bad_jsonl_line(tmp_path: Path) -> None:
    path = write(tmp_path / "cases.jsonl", '{"id": "a"}\n{"id": "b",}\n')
    error = load_error(path)
    assert error.where == f"{path}:2"
    assert error.detail.startswith("invalid JSON: ") and "(column " in error.detail


@pytest.mark.parametrize(
    ("line", "kind"), [("[1, 2]", "list"), ('"text"', "str"), ("3", "int"), ("null", "NoneType")]
)
def test_non_mapping_jsonl_row(tmp_path: Path, line: str, kind: str) -> None:
    path = write(tmp_path / "cases.jsonl", f'{{"id": "a"}}\n{line}\n')
    error = load_error(path)
    assert (error.where, error.detail) == (f"{path}:2", f"a case must be a mapping, not {kind}")


def test_csv_cells_are_text_and_ids_default_to_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "rows.csv", 'q,expected,tags\n"multi\nline",42,"x,y"\nplain,,\n')
    cases = load_cases_file(path)
    assert cases[0] == Case(id="rows-3", vars={"q": "multi\nline"}, expected="42", tags=("x", "y"))
    assert cases[1] == Case(id="rows-4", vars={"q": "plain"}, expected="", tags=())


def test_csv_row_with_too_few_fields_keeps_what_it_has(tmp_path: Path) -> None:
    cases = load_cases_file(write(tmp_path / "c.csv", "id,a,b\nx,1\n"))
    assert cases == [Case(id="x", vars={"a": "1"})]


def test_csv_row_with_too_many_fields(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "id,a\nx,1\ny,2,3,4\n")
    error = load_error(path)
    assert (error.where, error.detail) == (f"{path}:3", "row has 4 fields, header has 2")


def test_empty_csv_has_no_header(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "")
    assert load_error(path).detail == "CSV file has no header row"


@pytest.mark.parametrize("name", ["c.jsonl", "c.csv"])
def test_not_utf8(tmp_path: Path, name: str) -> None:
    content = b'{"id": "\xff"}\n' if name.endswith(".jsonl") else b"id\n\xff\n"
    error = load_error(write(tmp_path / name, content))
    assert error.where == str(tmp_path / name)
    assert error.detail.startswith("not UTF-8 text")


def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    assert load_error(tmp_path / "none.jsonl").detail == "cases file not found"
    assert load_error(write(tmp_path / "c.txt", "x")).detail == "cases file must end in .jsonl or .csv"
