"""Exit codes (the table in ``mendoza.cli.options`` and the README): each one, from the input that causes it."""

from __future__ import annotations

import importlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from mendoza.cli import main
from mendoza.cli.failures import describe_failure, is_machine_failure
from mendoza.cli.options import (
    EXIT_BAD_INPUT,
    EXIT_GATE_FAILED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
)
from mendoza.errors import ConfigError, StoreError

main_module = importlib.import_module("mendoza.cli.commands")  # where run, show... and their helpers are


def _main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 1), out, err


def test_the_table_is_stable() -> None:
    assert (EXIT_OK, EXIT_GATE_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED) == (0, 1, 2, 4, 130)


def test_ok_is_0_and_a_missed_threshold_is_1(
    write_suite: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "m.db")
    code, out, _ = _main(["run", str(write_suite()), "--db", db, "-q"], capsys)
    assert code == EXIT_OK and "run id:" in out
    cases = [{"id": f"c{i}", "word": f"w{i}", "expected": f"w{i}"} for i in range(12)]  # enough to decide
    failing = write_suite(cases=cases, repeats=2, graders=[{"contains": "never there"}],
                          thresholds={"min_pass_rate": 0.5}, name="f.yaml")
    code, out, _ = _main(["run", str(failing), "--db", db, "-q"], capsys)
    assert code == EXIT_GATE_FAILED and "min_pass_rate 50.0%" in out


def test_version_and_help_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(["--version"], capsys)[0] == EXIT_OK
    assert _main(["run", "--help"], capsys)[0] == EXIT_OK


@pytest.mark.parametrize(
    "argv",
    [
        ["run"],  # neither a suite nor --resume
        ["frobnicate"],  # no such command
        ["init", "--no-such-option"],
        ["show", "nope", "--db", "missing.db"],  # a MendozaError
    ],
)
def test_bad_input_is_2_with_one_line(argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = _main(argv, capsys)
    assert code == EXIT_BAD_INPUT
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in err


def test_a_crash_is_4_with_one_line_and_the_traceback_only_when_debugging(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in mendoza")

    monkeypatch.setattr(main_module, "make_console", crash)
    monkeypatch.delenv("MENDOZA_DEBUG", raising=False)
    code, _, err = _main(["providers"], capsys)
    assert code == EXIT_INTERNAL
    assert err == "internal error: RuntimeError: a bug in mendoza (set MENDOZA_DEBUG=1 for the traceback)\n"
    monkeypatch.setenv("MENDOZA_DEBUG", "1")
    code, _, err = _main(["providers"], capsys)
    assert code == EXIT_INTERNAL and "Traceback (most recent call last)" in err and "def crash" not in err
    assert err.strip().splitlines()[-1] == "internal error: RuntimeError: a bug in mendoza"


def test_ctrl_c_is_130(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(main_module, "make_console", interrupted)
    code, _, err = _main(["providers"], capsys)
    assert code == EXIT_INTERRUPTED and err.strip().splitlines()[-1] == "interrupted"


def test_an_exit_from_code_a_run_calls_is_never_mendozas_exit_status(
    write_suite: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def exits(*args: Any, **kwargs: Any) -> Any:
        sys.exit(0)

    monkeypatch.setattr(main_module.api, "run_suite", exits)
    code, _, err = _main(["run", str(write_suite()), "--db", str(tmp_path / "m.db"), "-q"], capsys)
    assert code == EXIT_INTERNAL
    assert "internal error" in err and "called exit(0)" in err


def test_sigterm_during_a_run_is_130_and_the_run_can_be_resumed(tmp_path: Path) -> None:
    (tmp_path / "slow_app.py").write_text(textwrap.dedent(
        """
        import time

        def answer(case):
            time.sleep(0.2)
            return case["word"]
        """
    ))
    suite = tmp_path / "suite.yaml"
    suite.write_text(textwrap.dedent(
        """
        suite: slow
        cases: [{id: c0, word: a}, {id: c1, word: b}, {id: c2, word: c}, {id: c3, word: d}]
        variants: [{id: app, model: "python:slow_app.py:answer", concurrency: 1}]
        graders: [{contains: "{{ word }}"}]
        repeats: 50
        """
    ))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "mendoza", "run", str(suite), "--db", str(tmp_path / "m.db"), "-q"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    time.sleep(4)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED, err
    assert "mendoza run --resume" in err


def test_a_full_disk_is_4_and_a_bad_database_is_2(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "full.db")
    connection.execute("CREATE TABLE t (x TEXT)")
    connection.execute("PRAGMA max_page_count = 2")
    try:
        try:
            connection.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,))
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to the database: {exc}") from None
    except StoreError as full:
        assert "full" in str(full)
        assert is_machine_failure(full)
        failure = describe_failure(full)
        assert failure.code == EXIT_INTERNAL and "the machine failed" in failure.line
    finally:
        connection.close()
    assert describe_failure(StoreError("x.db: no mendoza database here (run a suite first)")).code == EXIT_BAD_INPUT
    assert describe_failure(ConfigError("bad", where="suite.yaml:3")).code == EXIT_BAD_INPUT
    assert describe_failure(OSError(28, "No space left on device")).code == EXIT_INTERNAL


def test_a_closed_output_pipe_is_130_not_a_gate_failure(write_suite: Any, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "COLUMNS": "120"}
    command = [sys.executable, "-m", "mendoza"]
    subprocess.run([*command, "run", str(write_suite()), "-q"], cwd=tmp_path, env=env, check=True,
                   capture_output=True)
    process = subprocess.Popen([*command, "show", "--cases"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # `mendoza show | head -0`
    err = process.stderr.read()
    assert process.wait(timeout=60) == EXIT_INTERRUPTED, err
    assert err.strip().splitlines()[-1] == "interrupted: the output was closed"


def test_a_bare_mendoza_shows_the_whole_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _main([], capsys)
    assert code == EXIT_BAD_INPUT
    assert "Commands:" in err and "\n  run " in err and len(err.splitlines()) > 10


def test_a_commands_own_sys_exit_is_its_exit_status(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    namespace: dict[str, Any] = {"__name__": "mendoza.cli.gates", "sys": sys}
    exec("def exits(*args, **kwargs):\n    sys.exit(3)\n", namespace)  # as a command module would
    monkeypatch.setattr(main_module, "make_console", namespace["exits"])
    code, _, err = _main(["providers"], capsys)
    assert code == 3 and err == ""


def test_the_stores_disk_error_is_4() -> None:
    class DiskError(StoreError):  # the store's own class for a full or failing disk
        pass

    failure = describe_failure(DiskError("m.db: cannot write: the disk is full; free space, then resume"))
    assert failure.code == EXIT_INTERNAL and failure.line.startswith("error: m.db: cannot write")
