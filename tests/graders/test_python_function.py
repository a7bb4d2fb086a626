"""python: a function the suite's author wrote, its return shapes, sync and async, and its errors."""

from __future__ import annotations

import asyncio
import inspect
import sys
from pathlib import Path
from typing import Any

import pytest

from mendoza.core import Case
from mendoza.errors import GraderError
from mendoza.graders.base import Verdict
from mendoza.graders.python_function import PythonFunction, load_function
from tests.graders import helpers

CASE = Case(id="c1", vars={"name": "Ana"}, expected="ok")
H = "tests.graders.helpers"


def grade(raw: Any, output: str, case: Case = CASE) -> Verdict:
    result = PythonFunction(PythonFunction.parse_params(raw)).grade(output, case)
    if inspect.isawaitable(result):
        result = asyncio.run(_wait(result))
    assert isinstance(result, Verdict)
    return result


async def _wait(result: Any) -> Any:
    return await result


@pytest.mark.parametrize(
    ("function", "output", "expected"),
    [
        ("says_yes", "Yes!", Verdict(True, 1.0, f"{H}:says_yes returned True")),
        ("says_yes", "no", Verdict(False, 0.0, f"{H}:says_yes returned False")),
        ("score_from_output", "0.5", Verdict(True, 0.5, "score 0.5 (threshold 0.5)")),
        ("score_from_output", "0.49", Verdict(False, 0.49, "score 0.49 (threshold 0.5)")),
        ("score_as_int", "", Verdict(True, 1.0, "score 1 (threshold 0.5)")),
        ("pair", "ok", Verdict(True, 1.0, "compared with 'ok'")),
        ("pair", "nope", Verdict(False, 0.0, "compared with 'ok'")),
        ("as_dict", "ok then", Verdict(True, 0.25, "from a dict")),
        ("dict_score_only", "", Verdict(True, 0.8, "score 0.8 (threshold 0.5)")),
        ("verdict", "", Verdict(False, 0.1, "a verdict")),
        ("uses_case_vars", "Hi Ana", Verdict(True, 1.0, f"{H}:uses_case_vars returned True")),
        ("Checks.nested", "", Verdict(True, 1.0, f"{H}:Checks.nested returned True")),
    ],
)
def test_return_shapes(function: str, output: str, expected: Verdict) -> None:
    assert grade(f"{H}:{function}", output) == expected


def test_threshold_decides_a_score() -> None:
    assert not grade({"function": f"{H}:dict_score_only", "threshold": 0.9}, "").passed
    assert grade({"function": f"{H}:score_from_output", "threshold": 0.2}, "0.3").passed


def test_async_functions_return_an_awaitable_verdict() -> None:
    grader = PythonFunction(PythonFunction.parse_params(f"{H}:async_score"))
    pending = grader.grade("x", CASE)
    assert inspect.isawaitable(pending)
    assert asyncio.run(_wait(pending)) == Verdict(False, 0.3, "score 0.3 (threshold 0.5)")
    assert grade(f"{H}:async_pair", "x") == Verdict(True, 1.0, "async and happy")


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ("returns_none", "returned None; return a bool, a score in [0, 1]"),
        ("returns_text", "returned 'looks good'; return a bool"),
        ("score_too_big", "returned 1.5; a score must be in [0, 1]"),
        ("long_tuple", "returned (True, 'x', 3); a tuple must be (passed, explanation)"),
        ("dict_unknown_key", "unknown keys ['pass', 'reason']; a dict may have passed, score, explanation"),
        ("raises", "raised ValueError: no good"),
        ("async_raises", "raised RuntimeError: async trouble"),
    ],
)
def test_bad_returns_and_crashes_are_grader_errors_naming_the_function(function: str, message: str) -> None:
    with pytest.raises(GraderError) as info:
        grade(f"{H}:{function}", "x")
    assert str(info.value).startswith(f"python grader '{H}:{function}' ")
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no_colon_here", "must look like 'pkg.module:func'"),
        ("tests.graders.no_such_module:fn", "cannot be imported: ModuleNotFoundError"),
        (f"{H}:no_such_function", "has no attribute 'no_such_function'"),
        (f"{H}:NOT_CALLABLE", "is not callable (it is a int)"),
        (f"{H}:one_argument", "must accept two arguments: (output, case)"),
        ("nowhere/checks.py:fn", "file 'nowhere/checks.py' not found"),
    ],
)
def test_import_problems_are_grader_errors_naming_the_target(target: str, message: str) -> None:
    with pytest.raises(GraderError) as info:
        PythonFunction(PythonFunction.parse_params(target))
    assert repr(target) in str(info.value)
    assert message in str(info.value)


def test_a_file_path_target_is_relative_to_the_current_directory_and_imported_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "evals").mkdir()
    (tmp_path / "evals" / "checks.py").write_text(
        "from tests.graders import helpers\n"
        "helpers.IMPORTS.append(__name__)\n"
        "def short(output, case):\n"
        "    return len(output) < 5, f'{len(output)} chars'\n"
    )
    monkeypatch.chdir(tmp_path)
    before = len(helpers.IMPORTS)
    first = PythonFunction(PythonFunction.parse_params("evals/checks.py:short"))
    second = PythonFunction(PythonFunction.parse_params({"function": "evals/checks.py:short"}))
    assert first.grade("abc", CASE) == Verdict(True, 1.0, "3 chars")
    assert second.grade("abcdef", CASE) == Verdict(False, 0.0, "6 chars")
    assert len(helpers.IMPORTS) == before + 1
    assert load_function("evals/checks.py:short") is load_function("evals/checks.py:short")


def test_a_module_in_the_current_directory_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mendoza_test_local_checks.py").write_text("def ok(output, case):\n    return True\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [entry for entry in sys.path if entry not in ("", str(tmp_path))])
    monkeypatch.delitem(sys.modules, "mendoza_test_local_checks", raising=False)
    assert grade("mendoza_test_local_checks:ok", "x").passed


def test_a_file_that_fails_to_import_is_a_grader_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom at import')\n")
    monkeypatch.chdir(tmp_path)
    message = r"'broken\.py:fn' cannot be imported: RuntimeError: boom at import"
    with pytest.raises(GraderError, match=message):
        PythonFunction(PythonFunction.parse_params("broken.py:fn"))


def test_threshold_must_be_a_probability() -> None:
    with pytest.raises(ValueError, match="less than or equal to 1"):
        PythonFunction.parse_params({"function": f"{H}:says_yes", "threshold": 2})
