"""``mendoza export``: every sample of a run as JSON Lines, with grades and steps (issue 13: export carries
steps), streamed; a closed pipe (``| head``) is an interruption, not an internal error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from mendoza.cli.main import cli
from mendoza.core import Grade, Sample, Step
from mendoza.store import Store
from tests.store.factories import make_suite


def _run_with_steps(db: Path) -> str:
    with Store(db) as store:
        run = store.runs.create(make_suite(n_cases=2, variant_ids=("a",), repeats=2))
        steps = (Step("router", "llm", span_id="1", output="billing"), Step("lookup", "tool", span_id="2",
                 parent_id="1", input='{"id": 7}', error="KeyError: 7"))
        store.samples.write(run.id, [
            Sample(f"c{case}", "a", repeat, "p", f"out {case}", steps=steps, failed_step="lookup",
                   grades=(Grade("g", repeat == 0, 1.0, "why \u202e"),))
            for case in (1, 2) for repeat in (0, 1)
        ])
        return run.id


def test_export_writes_the_run_then_every_sample_with_its_grades_and_steps(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    run_id = _run_with_steps(db)
    out = tmp_path / "samples.jsonl"
    result = CliRunner().invoke(cli, ["export", run_id, "--db", str(db), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 4 samples" in result.output
    header, *lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert header["schema"] == "mendoza.samples/1" and header["run"]["id"] == run_id
    assert [(s["case_id"], s["repeat"]) for s in lines] == [("c1", 0), ("c1", 1), ("c2", 0), ("c2", 1)]
    first = lines[0]
    assert first["outcome"] == "passed" and lines[1]["outcome"] == "failed"
    assert first["grades"][0]["explanation"] == "why \u202e" and first["failed_step"] == "lookup"
    assert [(s["name"], s["parent_id"], s["error"]) for s in first["steps"]] == [
        ("router", None, None), ("lookup", "1", "KeyError: 7")
    ]


def test_export_without_steps_and_to_standard_output(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    _run_with_steps(db)
    result = CliRunner().invoke(cli, ["export", "latest", "--db", str(db), "--no-steps"])
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert len(lines) == 5 and all(line["steps"] == [] for line in lines[1:])


def test_export_of_an_unknown_run_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    _run_with_steps(db)
    result = subprocess.run(
        [sys.executable, "-m", "mendoza", "export", "nope", "--db", str(db)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "no run 'nope'" in result.stderr


def test_a_closed_pipe_is_an_interruption_not_an_internal_error(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    with Store(db) as store:
        run = store.runs.create(make_suite(n_cases=2, variant_ids=("a",), repeats=1))
        store.samples.write(run.id, [Sample(f"c{i}", "a", 0, "p", "x" * 200_000) for i in (1, 2)])
    export = subprocess.Popen(
        [sys.executable, "-m", "mendoza", "export", "latest", "--db", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert export.stdout is not None and export.stderr is not None
    export.stdout.readline()
    export.stdout.close()  # like `| head -1`
    error = export.stderr.read().decode()
    assert export.wait(timeout=30) == 130
    assert "the output was closed" in error and "internal error" not in error
