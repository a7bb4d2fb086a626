"""Hostile suite files (YAML): each is refused with one line naming the file, exit code 2, no traceback, fast."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mendoza.config import load_suite
from mendoza.config.yaml_source import MAX_DEPTH, MAX_YAML_BYTES
from mendoza.errors import ConfigError
from tests.hostile.input_support import Outcome, run_mendoza

TAIL = """\
variants:
  - id: v
    model: echo
    prompt: "say {{ q }}"
"""


def laughs(indent: str) -> str:
    """The nine levels of the "billion laughs": 9**9 strings once every alias is expanded."""
    lines = [f'{indent}lol1: &lol1 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(2, 10):
        lines.append(f"{indent}lol{level}: &lol{level} [" + ", ".join([f"*lol{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


BILLION_LAUGHS = {
    "case vars": "suite: laughs\ncases:\n  - id: boom\n    q: hi\n" + laughs("    ") + TAIL,
    "case metadata": "suite: laughs\ncases:\n  - id: boom\n    q: hi\n    metadata:\n"
    + laughs("      ")
    + TAIL,
    "a grader": "suite: laughs\ncases:\n  - id: boom\n    q: hi\n    laughs:\n"
    + laughs("      ")
    + TAIL
    + "graders:\n  - contains_any: *lol9\n",
}


def refused(tmp_path: Path, text: str | bytes, *, name: str = "suite.yaml") -> Outcome:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    outcome = run_mendoza(["run", str(path), "--db", str(tmp_path / "m.db"), "-q"])
    assert outcome.crash is None, outcome.crash
    assert outcome.code == 2, outcome
    assert len(outcome.stderr_lines) == 1, outcome.stderr
    assert str(path) in outcome.stderr
    assert "Traceback" not in outcome.stderr + outcome.stdout
    return outcome


@pytest.mark.parametrize("place", sorted(BILLION_LAUGHS))
def test_the_billion_laughs_is_refused_promptly(tmp_path: Path, place: str) -> None:
    text = BILLION_LAUGHS[place]
    assert len(text.encode()) < 1_400  # the reported file was 1,157 bytes
    started = time.perf_counter()
    outcome = refused(tmp_path, text)
    assert time.perf_counter() - started < 2.0
    assert "aliases expand this document past" in outcome.stderr
    assert f"{tmp_path / 'suite.yaml'}:" in outcome.stderr  # with a line number


def test_a_modest_use_of_aliases_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(
        "suite: shared\nshared: &p 'say {{ q }}'\n".replace("shared: &p", "description: &p")
        + "cases: [{id: a, q: hi}, {id: b, q: ho}]\n"
        + "variants:\n  - {id: v1, model: echo, prompt: *p}\n  - {id: v2, model: echo, prompt: *p}\n",
        encoding="utf-8",
    )
    suite = load_suite(path)
    assert [variant.prompt for variant in suite.variants] == ["say {{ q }}", "say {{ q }}"]


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    outcome = refused(tmp_path, "suite: r\ncases: &c [{id: a, q: *c}]\n" + TAIL)
    assert "recursive" in outcome.stderr


@pytest.mark.parametrize("style", ["block", "flow"])
def test_yaml_nested_5000_deep_is_one_line(tmp_path: Path, style: str) -> None:
    # Flow style, or block style: a sequence in a sequence in ..., each on one line.
    deep = "[" * 5000 + "]" * 5000 if style == "flow" else "\n      " + "- " * 5000 + "x"
    outcome = refused(tmp_path, "suite: deep\ncases:\n  - id: a\n    q: " + deep + "\n" + TAIL)
    assert f"nested more than {MAX_DEPTH} levels deep" in outcome.stderr


def test_aliases_that_nest_past_the_limit_are_refused(tmp_path: Path) -> None:
    chain = ["l0: &l0 " + "[" * 60 + "]" * 60]
    chain += [f"l{n}: &l{n} " + "[" * 60 + f"*l{n - 1}" + "]" * 60 for n in range(1, 4)]
    text = "suite: deep\ncases:\n  - id: a\n    q: hi\n" + "".join(f"    {line}\n" for line in chain) + TAIL
    outcome = refused(tmp_path, text)
    assert "levels deep" in outcome.stderr


def test_a_5000_digit_integer_is_one_line(tmp_path: Path) -> None:
    outcome = refused(tmp_path, "suite: big\ncases:\n  - id: a\n    q: " + "7" * 5000 + "\n" + TAIL)
    assert "integer of 5,000 digits is too long" in outcome.stderr
    assert f"{tmp_path / 'suite.yaml'}:4:" in outcome.stderr


def test_an_impossible_date_is_one_line(tmp_path: Path) -> None:
    outcome = refused(tmp_path, "suite: d\ncases:\n  - id: a\n    q: 2024-13-45\n" + TAIL)
    assert f"{tmp_path / 'suite.yaml'}:4:" in outcome.stderr


def test_a_duplicate_key_is_refused_with_both_lines(tmp_path: Path) -> None:
    outcome = refused(tmp_path, "suite: one\nsuite: two\ncases: [{id: a, q: hi}]\n" + TAIL)
    assert f"{tmp_path / 'suite.yaml'}:2: invalid YAML: duplicate key 'suite' (first on line 1)" in outcome.stderr


def test_a_duplicate_key_inside_a_case_is_refused(tmp_path: Path) -> None:
    outcome = refused(tmp_path, "suite: s\ncases:\n  - id: a\n    q: hi\n    q: ho\n" + TAIL)
    assert f"{tmp_path / 'suite.yaml'}:5:" in outcome.stderr and "duplicate key 'q'" in outcome.stderr


def test_merge_keys_may_override_what_they_merge(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    base = "suite: s\ncases:\n  - &base {id: a, q: hi}\n  - {<<: *base, id: b}\n"
    path.write_text(base + TAIL, encoding="utf-8")
    assert [case.id for case in load_suite(path).cases] == ["a", "b"]


def test_a_lone_surrogate_is_refused(tmp_path: Path) -> None:
    outcome = refused(tmp_path, 'suite: s\ncases:\n  - id: a\n    q: "\\ud800"\n' + TAIL)
    assert "lone surrogate" in outcome.stderr and f"{tmp_path / 'suite.yaml'}:4:" in outcome.stderr


def test_a_control_character_is_one_line(tmp_path: Path) -> None:
    outcome = refused(tmp_path, "suite: s\ncases:\n  - id: a\n    q: \x07\n" + TAIL)
    assert "unacceptable character #x0007" in outcome.stderr and f"{tmp_path / 'suite.yaml'}:4:" in outcome.stderr


def test_a_key_with_a_line_break_stays_on_one_line(tmp_path: Path) -> None:
    outcome = refused(tmp_path, 'suite: s\n"bad\\nkey": 1\ncases: [{id: a, q: hi}]\n' + TAIL)
    assert "bad\\nkey" in outcome.stderr


def test_invalid_utf8_is_one_line(tmp_path: Path) -> None:
    refused(tmp_path, b"suite: s\ncases: [{id: a, q: \xed\xa0\x80}]\n" + TAIL.encode())


def test_an_oversized_suite_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    text = "suite: s\ncases: [{id: a, q: hi}]\n" + TAIL + "description: '" + "x" * MAX_YAML_BYTES + "'\n"
    outcome = refused(tmp_path, text)
    assert "a suite file may have at most 8 MB" in outcome.stderr


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("repeats: true", "repeats"),
        ("repeats: 2.5", "repeats"),
        ("repeats: '3'", "repeats"),
        ("seed: false", "seed"),
        ("max_retries: true", "max_retries"),
        ("timeout: true", "timeout"),
        ("confidence: true", "confidence"),
        ("cache: 1", "cache"),
    ],
)
def test_booleans_and_strings_are_not_taken_for_numbers(tmp_path: Path, line: str, key: str) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text("suite: s\ncases: [{id: a, q: hi}]\n" + TAIL + line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_suite(path)
    assert caught.value.where == f"{path}:7"
    assert caught.value.detail.startswith(f"'{key}': ")


def test_a_variant_concurrency_of_true_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text("suite: s\ncases: [{id: a, q: hi}]\n" + TAIL + "    concurrency: true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="concurrency"):
        load_suite(path)


def test_whole_numbers_still_work_for_float_settings(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text("suite: s\ncases: [{id: a, q: hi}]\n" + TAIL + "timeout: 30\nrepeats: 3\n", encoding="utf-8")
    suite = load_suite(path)
    assert (suite.timeout, suite.repeats) == (30.0, 3)


@pytest.mark.parametrize(
    ("lines", "shown"),
    [
        ("thresholds: {min_pass_rate: true}", "thresholds.min_pass_rate must be a rate between 0 and 1, not a boolean"),
        ("graders:\n  - length: {max: true}", "'max' must be a number, not a boolean"),
        ("graders:\n  - python: {function: 'json:dumps', threshold: false}", "'threshold' must be a number"),
    ],
)
def test_booleans_are_not_numbers_in_thresholds_or_grader_parameters(tmp_path: Path, lines: str, shown: str) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text("suite: s\ncases: [{id: a, q: hi}]\n" + TAIL + lines + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_suite(path)
    assert shown in caught.value.detail


def test_a_prompt_file_that_never_ends_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(
        "suite: s\ncases: [{id: a, q: hi}]\nvariants:\n  - {id: v, model: echo, prompt_file: /dev/zero}\n",
        encoding="utf-8",
    )
    started = time.perf_counter()
    with pytest.raises(ConfigError, match="over 8 MB"):
        load_suite(path)
    assert time.perf_counter() - started < 5.0


def test_a_yaml_schema_file_with_the_billion_laughs_is_refused(tmp_path: Path) -> None:
    schema = tmp_path / "schema.yaml"
    schema.write_text("type: object\nlaughs:\n" + laughs("  "), encoding="utf-8")
    path = tmp_path / "suite.yaml"
    path.write_text(
        "suite: s\ncases: [{id: a, q: hi}]\n" + TAIL + f"graders:\n  - json: {{schema: '{schema}'}}\n", encoding="utf-8"
    )
    started = time.perf_counter()
    with pytest.raises(ConfigError, match="aliases expand this document"):
        load_suite(path)
    assert time.perf_counter() - started < 2.0
