"""The code grader against hostile completions (issue 12): each ends failed with a clear reason (or, for an
API key, not leaked), nothing outside the working directory changes, and a run with one hostile completion
among several stores every sample. Assertions that only the bubblewrap sandbox can keep are skipped, with the
reason, where bubblewrap does not work (``make install`` installs it)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest
import yaml

from mendoza.api import load_suite, run_suite
from mendoza.core import Case, GraderSpec
from mendoza.graders import sandbox
from mendoza.graders.base import Verdict, bind_grader
from mendoza.graders.code import Code
from mendoza.store import Store

PROMPT = 'def add(a, b):\n    """Add two numbers."""\n'
TEST = "def check(candidate):\n    assert candidate(1, 2) == 3\n"
CASE = Case(id="add", vars={"prompt": PROMPT, "test": TEST, "entry_point": "add"})
BACKEND = sandbox.available_backend()
AS_ROOT = os.geteuid() == 0

needs_bwrap = pytest.mark.skipif(
    BACKEND != "bwrap", reason="bubblewrap does not work here: the rlimits fallback cannot keep this promise"
)


def grade(completion: str, **params: object) -> Verdict:
    grader = Code(Code.parse_params({"preset": "humaneval", "timeout": 2, **params}))
    return asyncio.run(grader.grade(completion, CASE))


def body(*lines: str) -> str:
    """A completion: the lines as the function's body."""
    return "".join(f"    {line}\n" for line in lines)


HOSTILE = {
    "loops forever": (body("while True: pass"), "timed out after 2 s"),
    "os._exit(0)": (body("import os; os._exit(0)"), "exit code 0, no pass signal"),
    "raise SystemExit": (body("raise SystemExit"), "no pass signal"),
    "exit(0) in check": (body("import sys; sys.exit(0)"), "exit code 0, no pass signal"),
    "ctypes segfault": (body("import ctypes; ctypes.string_at(0)"), "killed by SIGSEGV"),
    "input()": (body("return int(input()) + a + b - a - b + a + b"), "EOFError"),
    "10 GB allocation": (body("x = bytearray(10 * 1024**3)", "return a + b"), "MemoryError"),
    "kills itself": (body("import os, signal; os.kill(os.getpid(), signal.SIGKILL)"), "killed by SIGKILL"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_completion_fails_with_a_clear_reason(name: str) -> None:
    completion, reason = HOSTILE[name]
    verdict = grade(completion)
    assert verdict.passed is False, verdict
    assert reason in verdict.explanation
    assert f"[sandbox: {BACKEND}]" in verdict.explanation


def test_an_endless_loop_is_killed_at_the_wall_clock_limit() -> None:
    verdict = grade(body("import os", "os.fork()", "while True: pass"))
    assert not verdict.passed and verdict.detail is not None
    assert verdict.detail["timed_out"] and verdict.detail["seconds"] < 4


def test_a_background_child_does_not_outlive_the_grade(tmp_path: Path) -> None:
    # A child that sleeps, then writes beside the test: killed with its process group. (Under bubblewrap it
    # could not write there at all, and dies with the sandbox's process tree.)
    marker = tmp_path / "late"
    completion = body(
        "import os, time",
        "if os.fork() == 0:",
        "    time.sleep(1.5)",
        f"    open({str(marker)!r}, 'w').write('late')",
        "    os._exit(0)",
        "return a + b",
    )
    assert grade(completion, sandbox="rlimits").passed
    time.sleep(2)
    assert not marker.exists()


@pytest.mark.skipif(
    BACKEND != "bwrap" and AS_ROOT,
    reason="as root without bubblewrap the kernel ignores the process limit: a fork bomb would run until killed",
)
def test_a_fork_bomb_fails_and_leaves_nothing_running() -> None:
    verdict = grade(body("import os", "while True:", "    os.fork()"))
    assert not verdict.passed
    assert "Resource temporarily unavailable" in verdict.explanation or "timed out" in verdict.explanation


@needs_bwrap
def test_removing_a_file_outside_the_working_directory_fails_and_the_file_survives(tmp_path: Path) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me", encoding="utf-8")
    verdict = grade(body("import os", f"os.remove({str(precious)!r})", "return a + b"))
    assert not verdict.passed and "FileNotFoundError" in verdict.explanation
    assert precious.read_text(encoding="utf-8") == "keep me"


@needs_bwrap
def test_removing_a_system_file_fails_on_the_read_only_root() -> None:
    verdict = grade(body("import os", "os.remove('/etc/hostname')", "return a + b"))
    assert not verdict.passed
    assert "Read-only file system" in verdict.explanation or "Permission" in verdict.explanation
    assert Path("/etc/hostname").exists()


@needs_bwrap
def test_writing_outside_the_working_directory_fails(tmp_path: Path) -> None:
    target = tmp_path / "written.txt"
    verdict = grade(body(f"open({str(target)!r}, 'w').write('x')", "return a + b"))
    assert not verdict.passed
    assert not target.exists()


def test_writing_inside_the_working_directory_is_allowed() -> None:
    assert grade(body("open('scratch.txt', 'w').write('x')", "return a + b")).passed


def test_a_file_larger_than_the_limit_fails() -> None:
    verdict = grade(body("open('big', 'wb').write(b'x' * 4 * 1024**2)", "return a + b"), file_mb=1)
    assert not verdict.passed
    assert "SIGXFSZ" in verdict.explanation or "File too large" in verdict.explanation


def test_an_api_key_in_mendozas_environment_is_not_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-test-do-not-leak-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    completion = body("import os", "print(sorted(os.environ), os.environ.get('OPENAI_API_KEY'))", "return a + b")
    verdict = grade(completion)
    assert verdict.passed and verdict.detail is not None
    assert secret not in verdict.detail["stdout"] and "OPENAI_API_KEY" not in verdict.detail["stdout"]


@needs_bwrap
def test_an_api_key_is_not_readable_through_proc_either(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-test-do-not-leak-proc-987"
    monkeypatch.setenv("ANTHROPIC_API_KEY", secret)
    completion = body(
        "import glob",
        "for path in glob.glob('/proc/*/environ'):",
        "    try: print(open(path, 'rb').read())",
        "    except OSError: pass",
        "return a + b",
    )
    verdict = grade(completion, output_kb=256)
    assert verdict.detail is not None and secret not in verdict.detail["stdout"]


@needs_bwrap
def test_opening_a_network_socket_fails() -> None:
    verdict = grade(body("import socket", "socket.create_connection(('1.1.1.1', 53), timeout=1)", "return a + b"))
    assert not verdict.passed
    assert "Network is unreachable" in verdict.explanation or "OSError" in verdict.explanation


def test_a_sandbox_that_cannot_start_is_a_grader_error_never_a_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "_bwrap_prefix", lambda workdir, extra: ["bwrap", "--no-such-option"])
    bound = bind_grader(GraderSpec(type="code", name="code", params={"preset": "humaneval", "sandbox": "bwrap"}), Code)
    grade_ = asyncio.run(bound.grade("    return a + b\n", CASE, 10))
    assert grade_.passed is None and grade_.error is not None
    assert "bubblewrap could not start the sandbox" in grade_.error


def test_a_program_that_cannot_be_started_is_a_grader_error() -> None:
    command = ["/no/such/interpreter", "{file}"]
    params = {"preset": "stdout", "language": "x", "command": command, "file": "m", "expected": "1"}
    bound = bind_grader(GraderSpec(type="code", name="code", params=params), Code)
    grade_ = asyncio.run(bound.grade("print(1)", CASE, 10))
    assert grade_.passed is None and grade_.error is not None
    assert "/no/such/interpreter" in grade_.error and "No such file" in grade_.error


def test_a_run_with_one_hostile_completion_stores_every_sample(tmp_path: Path, store: Store) -> None:
    problems = [
        {"id": f"p{i}", "vars": {"prompt": PROMPT, "test": TEST, "entry_point": "add"}} for i in range(4)
    ]
    completions = [
        {"task_id": "p0", "completion": body("return a + b")},
        {"task_id": "p1", "completion": body("import os; os._exit(0)")},
        {"task_id": "p2", "completion": body("raise SystemExit")},
        {"task_id": "p3", "completion": body("return a + b")},
    ]
    (tmp_path / "completions.jsonl").write_text("".join(json.dumps(c) + "\n" for c in completions))
    suite = {
        "suite": "hostile-code",
        "cases": problems,
        "variants": [{"id": "replayed", "model": "replay/completions.jsonl"}],
        "graders": [{"code": {"preset": "humaneval", "timeout": 2}}],
    }
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    run = run_suite(load_suite(tmp_path / "suite.yaml"), db=store)
    samples = {sample.case_id: sample for sample in store.samples.iterate(run.id)}
    assert store.runs.get(run.id).status == "complete" and len(samples) == 4
    assert {case: sample.passed for case, sample in samples.items()} == {
        "p0": True,
        "p1": False,
        "p2": False,
        "p3": True,
    }
    assert "no pass signal" in samples["p1"].grades[0].explanation
