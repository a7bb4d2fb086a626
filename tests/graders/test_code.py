"""code: programs built from the case and the output run in a sandboxed process; pass on a positive signal."""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

import pytest

from mendoza.core import Case
from mendoza.errors import GraderError
from mendoza.graders.base import Verdict
from mendoza.graders.code import Code
from mendoza.graders.sandbox import available_backend

PROMPT = 'def add(a, b):\n    """Add two numbers."""\n'
TEST = "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n"
CASE = Case(id="HumanEval/x", vars={"prompt": PROMPT, "test": TEST, "entry_point": "add"})
FAST = {"timeout": 2}

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def grade(raw: Any, output: str, case: Case = CASE) -> Verdict:
    grader = Code(Code.parse_params({**FAST, **raw} if isinstance(raw, dict) else {**FAST, "preset": raw}))
    Code.check(grader.params)
    return asyncio.run(grader.grade(output, case))


def test_a_canonical_humaneval_solution_passes_and_names_its_sandbox() -> None:
    verdict = grade("humaneval", "    return a + b\n")
    assert verdict.passed and verdict.score == 1.0
    assert f"[sandbox: {available_backend()}]" in verdict.explanation
    assert verdict.detail is not None and verdict.detail["backend"] == available_backend()


def test_a_broken_humaneval_solution_fails_with_the_assertion_in_the_reason() -> None:
    verdict = grade("humaneval", "    return a - b\n")
    assert not verdict.passed
    assert "AssertionError" in verdict.explanation
    assert verdict.detail is not None and "AssertionError" in verdict.detail["stderr"]


def test_a_syntax_error_fails() -> None:
    verdict = grade("humaneval", "    return a +\n")
    assert not verdict.passed and "SyntaxError" in verdict.explanation


def test_the_shorthand_is_the_preset() -> None:
    assert Code.parse_params("humaneval") == Code.parse_params({"preset": "humaneval"})


def test_unittest_preset_runs_the_tests_against_the_output_module() -> None:
    tests = (
        "from solution import add\n\nclass T(unittest.TestCase):\n"
        "    def test_add(self):\n        self.assertEqual(add(2, 2), 4)\n"
    )
    case = Case(id="u", vars={"test": tests})
    assert grade("unittest", "def add(a, b):\n    return a + b\n", case).passed
    failed = grade("unittest", "def add(a, b):\n    return a * b + 1\n", case)
    assert not failed.passed and "no pass signal" in failed.explanation


def test_unittest_preset_with_no_tests_fails() -> None:
    assert not grade("unittest", "x = 1\n", Case(id="u", vars={"test": "pass"})).passed


def test_stdout_preset_compares_what_the_program_printed() -> None:
    case = Case(id="s", vars={"numbers": "3 4"}, expected="7\n")
    raw = {"preset": "stdout", "stdin": "{{ numbers }}"}
    assert grade(raw, "print(sum(map(int, input().split())))", case).passed
    wrong = grade(raw, "print(12)", case)
    assert not wrong.passed and "stdout differs" in wrong.explanation and "'12'" in wrong.explanation


def test_stdout_preset_fails_a_program_that_crashes_after_printing_the_answer() -> None:
    case = Case(id="s", expected="7")
    assert not grade({"preset": "stdout"}, "print(7)\nraise ValueError('late')", case).passed


def test_a_custom_program_needs_the_signal() -> None:
    with pytest.raises(GraderError, match="signal"):
        Code.check(Code.parse_params({"program": "{{ output }}"}))
    verdict = grade({"program": "{{ output }}\nassert f() == 1\n{{ signal }}"}, "def f():\n    return 1\n")
    assert verdict.passed


def test_printing_to_stdout_cannot_fake_the_signal() -> None:
    verdict = grade({"program": "{{ output }}\nassert False\n{{ signal }}"}, "print('checks passed')")
    assert not verdict.passed


def test_preset_and_program_are_exclusive_and_one_is_needed() -> None:
    with pytest.raises(ValueError, match="either"):
        Code.parse_params({"preset": "humaneval", "program": "{{ signal }}"})
    with pytest.raises(ValueError, match="either"):
        Code.parse_params({"timeout": 3})


def test_an_unknown_language_needs_its_command_line() -> None:
    with pytest.raises(ValueError, match="not built in"):
        Code.parse_params({"preset": "stdout", "language": "ruby"})


def test_a_missing_command_is_refused_when_the_suite_loads() -> None:
    command = ["no-such-binary-xyz", "{file}"]
    params = Code.parse_params({"preset": "stdout", "language": "x", "command": command, "file": "m"})
    with pytest.raises(GraderError, match="not found"):
        Code.check(params)


def test_the_output_tail_is_kept_under_the_cap() -> None:
    noisy = "    print('x' * 100000 + 'END')\n    return a + b\n"
    verdict = grade({"preset": "humaneval", "output_kb": 1}, noisy)
    assert verdict.passed
    assert verdict.detail is not None
    assert verdict.detail["stdout"].startswith("[…]") and "END" in verdict.detail["stdout"]
    assert len(verdict.detail["stdout"]) < 1100


def test_many_grades_run_concurrently_within_the_limit() -> None:
    grader = Code(Code.parse_params({"preset": "humaneval", "timeout": 5, "concurrency": 2}))

    async def several() -> list[Verdict]:
        return await asyncio.gather(*(grader.grade("    return a + b\n", CASE) for _ in range(6)))

    assert all(verdict.passed for verdict in asyncio.run(several()))


@needs_node
def test_javascript_with_node() -> None:
    program = "{{ output }}\nconst assert = require('assert');\nassert.strictEqual(add(1, 2), 3);\n{{ signal }}\n"
    raw = {"language": "javascript", "program": program}
    assert grade(raw, "function add(a, b) { return a + b; }").passed
    broken = grade(raw, "function add(a, b) { return a - b; }")
    assert not broken.passed and "AssertionError" in broken.explanation
    assert not grade(raw, "function add(a, b) { process.exit(0); }").passed


@needs_node
def test_javascript_stdout_preset() -> None:
    case = Case(id="s", expected="hello")
    assert grade({"language": "javascript", "preset": "stdout"}, "console.log('hello')", case).passed


def test_sandbox_bwrap_is_refused_where_it_does_not_work(monkeypatch: pytest.MonkeyPatch) -> None:
    import mendoza.graders.code as code_module

    monkeypatch.setattr(code_module, "available_backend", lambda: "rlimits")
    with pytest.raises(GraderError, match="bubblewrap"):
        Code.check(Code.parse_params({"preset": "humaneval", "sandbox": "bwrap"}))


def test_the_rlimits_fallback_grades_too() -> None:
    assert grade({"preset": "humaneval", "sandbox": "rlimits"}, "    return a + b\n").passed
    verdict = grade({"preset": "humaneval", "sandbox": "rlimits"}, "    return a - b\n")
    assert not verdict.passed and "[sandbox: rlimits]" in verdict.explanation


def test_stdout_preset_without_an_expected_output_cannot_decide() -> None:
    with pytest.raises(GraderError, match="expected is empty"):
        grade({"preset": "stdout"}, "print(1)", Case(id="s"))


@pytest.mark.parametrize("name", ["../escape.py", "/etc/passwd", "a/../../b", "", "sp ace"])
def test_extra_files_stay_inside_the_working_directory(name: str) -> None:
    with pytest.raises(ValueError, match="inside the working directory"):
        Code.parse_params({"preset": "humaneval", "files": {name: "x"}})


def test_extra_files_are_written_beside_the_program() -> None:
    raw = {"program": "{{ output }}\nassert helper.VALUE == 7\n{{ signal }}", "files": {"helper.py": "VALUE = 7"}}
    assert grade(raw, "import helper").passed
