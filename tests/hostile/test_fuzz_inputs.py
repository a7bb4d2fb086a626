"""Fuzz: mutated suite files (YAML) and case files (JSONL, CSV) never give a traceback. A mutant that loads is
fine (it is not run); one that does not gives exit code 2 and exactly one line on stderr naming the file.

Mutations: truncations, byte flips and deletions, inserted hostile snippets (aliases, lone surrogates, deep
nesting, 5,000-digit numbers, tags, control characters), duplicated lines (duplicate keys and columns), and a
key of the suite or a row set to a value of the wrong type. Derandomized, so CI sees the same inputs each run;
3,100 inputs in all take about 50 s on a slow shared machine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hostile.input_support import Outcome, run_mendoza

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SUITE: dict[str, Any] = {
    "suite": "fuzz",
    "description": "a suite to mutate",
    "cases": [
        {"id": "a", "q": "hello", "expected": "hello", "tags": ["t"]},
        {"id": "b", "vars": {"q": "bye"}, "expected": ["bye"], "metadata": {"k": 1}},
    ],
    "variants": [
        {"id": "m", "model": "mock", "prompt": "say {{ q }}", "params": {"output": "{{ q }}", "pass_rate": 0.5}},
        {"id": "e", "model": "echo", "prompt": "{{ q }}", "concurrency": 2, "timeout": 5},
    ],
    "graders": [{"contains": "{{ expected }}"}, {"regex": "^\\w+$", "name": "word"}, {"not-contains": "As an AI"}],
    "repeats": 2,
    "thresholds": {"min_pass_rate": 0.5},
    "band_edges": [0.6, 0.9, 0.99],
    "confidence": 0.95,
    "seed": 7,
    "max_retries": 1,
    "cache": False,
}
ROWS: list[dict[str, Any]] = [
    {"id": "r1", "q": "one", "expected": "one"},
    {"id": "r2", "vars": {"q": "two", "n": 2}, "expected": "two", "tags": ["x", "y"], "metadata": {"src": "z"}},
    {"q": "three"},
]
CSV = "id,q,expected,tags\nr1,one,one,\"a,b\"\nr2,\"two, with a comma\",two,\nr3,\"multi\nline\",x,c\n"

#: Text that hostile input is made of, inserted at random places.
SNIPPETS = [
    "&a [lol, lol, lol, lol, lol, lol, lol, lol, lol]",
    "[&a [x,x,x,x,x,x,x,x,x], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a], &c [*b,*b,*b,*b,*b,*b,*b,*b,*b],"
    " &d [*c,*c,*c,*c,*c,*c,*c,*c,*c], &e [*d,*d,*d,*d,*d,*d,*d,*d,*d], &f [*e,*e,*e,*e,*e,*e,*e,*e,*e],"
    " &g [*f,*f,*f,*f,*f,*f,*f,*f,*f], &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]]",
    "*a",
    "&r [*r]",
    "<<: *a",
    '"\\ud800"',
    "\\ud83d",
    '"\\x00"',
    "\x00",
    "\x07",
    "\t",
    "\ufeff",
    "\r",
    "{{ q ",
    "{% for %}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "!!python/object/apply:os.system ['id']",
    "!!binary ZZZ",
    "!!timestamp 2024-13-45",
    "2024-02-30",
    "!!int x",
    "!!float ..",
    "7" * 5000,
    "0x" + "f" * 5000,
    "1e99999",
    ".nan",
    "-.inf",
    "[" * 150 + "]" * 150,
    "[" * 5000,
    "{" * 99 + "}" * 99,
    "- " * 150 + "x",
    "? [a, b]\n: c",
    "? {a: 1}\n: c",
    ": : :",
    "---\nsuite: again",
    "...",
    "%YAML 1.1\n---",
    "'unterminated",
    '"unterminated',
    "|\n",
    "&",
    "*",
    "!",
    '"',
    ",,,",
    '"a""b"',
    "\n  - \n",
    "true",
    "null",
    "~",
    "yes",
    "[]",
    "{}",
    '{"id": 1}',
    "\u2028",
    "é",
    "🙂",
]

#: Values of the wrong type (or a hostile one) for any key.
WRONG_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "x", "\ud800", "a\nb", "{{ q", "python:nowhere:f", "mock", "../../etc/passwd", "7" * 5000]),
    st.lists(st.sampled_from([None, 1, "x", True, [], {}]), max_size=3),
    st.dictionaries(
        st.sampled_from(["id", "q", "x", "vars", "type", "value"]), st.sampled_from([None, 1, "x"]), max_size=3
    ),
    st.sampled_from([[[[[[[[[[]]]]]]]]], [[]] * 3, {"a": {"b": {"c": {}}}}]),
)


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path and list index in ``data`` (the places a wrong value can go)."""
    found: list[tuple[Any, ...]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            found.append((*prefix, key))
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.append((*prefix, index))
            found.extend(_paths(value, (*prefix, index)))
    return found


def _replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(data))
    node = copy
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return copy


@st.composite
def _text_mutants(draw: st.DrawFn, base: str, extra: tuple[str, ...] = ()) -> bytes:
    """``base`` with one to three textual mutations (``extra``: more snippets to insert)."""
    data = bytearray(base.encode("utf-8"))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        kind = draw(st.sampled_from(["truncate", "flip", "delete", "insert", "insert", "duplicate_line", "swap_lines"]))
        at = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
        if kind == "truncate":
            del data[at:]
        elif kind == "flip" and data:
            data[at] = draw(st.integers(min_value=0, max_value=255))
        elif kind == "delete":
            del data[at : at + draw(st.integers(min_value=1, max_value=8))]
        elif kind == "insert":
            snippet = draw(st.sampled_from(SNIPPETS + list(extra)))
            data[at:at] = snippet.encode("utf-8", "surrogatepass")
        else:
            lines = bytes(data).split(b"\n")
            if len(lines) > 1:
                index = draw(st.integers(min_value=0, max_value=len(lines) - 2))
                if kind == "duplicate_line":
                    lines.insert(index, lines[index])
                else:
                    lines[index], lines[index + 1] = lines[index + 1], lines[index]
                data = bytearray(b"\n".join(lines))
    return bytes(data)


@st.composite
def _suite_mutants(draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):
        return draw(_text_mutants(_dump(SUITE)))
    path = draw(st.sampled_from(_paths(SUITE)))
    return _dump(_replaced(SUITE, path, draw(WRONG_VALUES))).encode("utf-8", "surrogatepass")


@st.composite
def _jsonl_mutants(draw: st.DrawFn) -> bytes:
    text = "".join(json.dumps(row) + "\n" for row in ROWS)
    if draw(st.booleans()):
        return draw(_text_mutants(text))
    index = draw(st.integers(min_value=0, max_value=len(ROWS) - 1))
    path = draw(st.sampled_from([(), *_paths(ROWS[index])]))
    value = draw(WRONG_VALUES)
    row = value if path == () else _replaced(ROWS[index], path, value)
    rows = [*ROWS[:index], row, *ROWS[index + 1 :]]
    return "".join(json.dumps(item) + "\n" for item in rows).encode("utf-8", "surrogatepass")


def _check(folder: Path, suite: Path, named: tuple[Path, ...]) -> Outcome:
    outcome = run_mendoza(["run", str(suite), "--db", str(folder / "m.db"), "-q"], load_only=True)
    assert outcome.crash is None, outcome.crash
    if not outcome.loaded:
        assert outcome.code == 2, outcome
        assert len(outcome.stderr_lines) == 1, outcome.stderr
        assert outcome.stderr.startswith("error: ") and any(str(path) in outcome.stderr for path in named), outcome
    return outcome


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


FAST = settings(
    max_examples=1300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


@FAST
@given(content=_suite_mutants())
def test_fuzz_suite_files(folder: Path, content: bytes) -> None:
    suite = folder / "suite.yaml"
    suite.write_bytes(content)
    _check(folder, suite, (suite,))


@settings(FAST, max_examples=900)
@given(content=_jsonl_mutants())
def test_fuzz_jsonl_case_files(folder: Path, content: bytes) -> None:
    cases = folder / "cases.jsonl"
    cases.write_bytes(content)
    suite = folder / "suite-jsonl.yaml"
    suite.write_text(_dump({**SUITE, "cases": "cases.jsonl", "thresholds": {}}), encoding="utf-8")
    _check(folder, suite, (cases, suite))


@settings(FAST, max_examples=900)
@given(content=_text_mutants(CSV, extra=("x" * 140_000, '"' + "y" * 140_000 + '"', "q,q", '"a""')))
def test_fuzz_csv_case_files(folder: Path, content: bytes) -> None:
    cases = folder / "cases.csv"
    cases.write_bytes(content)
    suite = folder / "suite-csv.yaml"
    suite.write_text(_dump({**SUITE, "cases": "cases.csv", "thresholds": {}}), encoding="utf-8")
    _check(folder, suite, (cases, suite))
