"""Hostile case files (JSONL and CSV): one line naming the file and line, exit code 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mendoza.config import load_cases_file
from mendoza.config.datasets import MAX_CSV_FIELD, MAX_DEPTH
from mendoza.errors import ConfigError
from tests.hostile.input_support import Outcome, run_mendoza


def suite_over(tmp_path: Path, cases: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(
        f"suite: s\ncases: {cases}\nvariants:\n  - {{id: v, model: echo, prompt: 'say {{{{ q }}}}'}}\n",
        encoding="utf-8",
    )
    return path


def refused(tmp_path: Path, name: str, content: str | bytes) -> Outcome:
    cases = tmp_path / name
    if isinstance(content, bytes):
        cases.write_bytes(content)
    else:
        cases.write_text(content, encoding="utf-8")
    suite = suite_over(tmp_path, name)
    outcome = run_mendoza(["run", str(suite), "--db", str(tmp_path / "m.db"), "-q"])
    assert outcome.crash is None, outcome.crash
    assert outcome.code == 2, outcome
    assert len(outcome.stderr_lines) == 1, outcome.stderr
    assert str(cases) in outcome.stderr
    return outcome


def test_jsonl_nested_100k_deep_is_one_line(tmp_path: Path) -> None:
    row = '{"q": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
    outcome = refused(tmp_path, "cases.jsonl", '{"q": "fine"}\n' + row)
    assert f"{tmp_path / 'cases.jsonl'}:2: invalid JSON: nested too deeply" in outcome.stderr


def test_jsonl_nested_past_the_limit_but_parseable_is_refused(tmp_path: Path) -> None:
    depth = MAX_DEPTH + 5
    outcome = refused(tmp_path, "cases.jsonl", '{"q": ' + "[" * depth + "]" * depth + "}\n")
    assert f"values nest more than {MAX_DEPTH} levels deep" in outcome.stderr


def test_jsonl_5000_digit_number_is_one_line(tmp_path: Path) -> None:
    outcome = refused(tmp_path, "cases.jsonl", '{"q": ' + "7" * 5000 + "}\n")
    assert f"{tmp_path / 'cases.jsonl'}:1: invalid JSON" in outcome.stderr


def test_jsonl_duplicate_key_is_refused(tmp_path: Path) -> None:
    outcome = refused(tmp_path, "cases.jsonl", '{"q": "a"}\n{"q": "b", "q": "c"}\n')
    assert f"{tmp_path / 'cases.jsonl'}:2: duplicate key 'q'" in outcome.stderr


# A JSONL row with an escaped lone surrogate loads and runs: tests/hostile/test_run_surrogates.py.


def test_jsonl_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    refused(tmp_path, "cases.jsonl", b'{"q": "\xff"}\n')


def test_csv_duplicate_columns_are_refused(tmp_path: Path) -> None:
    outcome = refused(tmp_path, "cases.csv", "q,expected,q\nhi,hi,ho\n")
    assert f"{tmp_path / 'cases.csv'}:1: duplicate column 'q'" in outcome.stderr


def test_a_csv_field_over_131072_characters_is_read(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("q\n" + "x" * 200_000 + "\n", encoding="utf-8")
    [case] = load_cases_file(path)
    assert len(case.vars["q"]) == 200_000


def test_a_csv_field_over_the_cap_is_one_line(tmp_path: Path) -> None:
    outcome = refused(tmp_path, "cases.csv", "q\nshort\n" + "x" * (MAX_CSV_FIELD + 1) + "\n")
    assert f"{tmp_path / 'cases.csv'}:" in outcome.stderr
    assert f"at most {MAX_CSV_FIELD:,} characters" in outcome.stderr


def test_a_csv_with_nul_bytes_or_bad_quotes_is_one_line_or_loads(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_bytes(b'q\n"unterminated\x00\n')
    try:
        load_cases_file(path)
    except ConfigError as exc:
        assert str(path) in str(exc)


@pytest.mark.parametrize("value", [json.dumps({"q": 1}), json.dumps({"id": ["x"], "q": "a"}), "[1, 2]", "null"])
def test_rows_of_the_wrong_shape_are_one_line(tmp_path: Path, value: str) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text(value + "\n", encoding="utf-8")
    try:
        load_cases_file(path)
    except ConfigError as exc:
        assert exc.where == f"{path}:1"
