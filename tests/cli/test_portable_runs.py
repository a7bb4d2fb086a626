"""Portable runs on the command line (issue 15, part 4): ``mendoza export RUN -o FILE.mdz``, ``mendoza import
FILE.mdz`` and ``mendoza run SUITE --baseline FILE.mdz`` from a fresh checkout; ``mendoza show`` of an imported
run is the original's to the character; a bad file is one line on stderr and exit 2, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import mendoza
from mendoza.cli.main import cli, main
from mendoza.core import Grade, Sample, Step
from mendoza.store import Store, read_run_file
from tests.store.factories import make_suite
from tests.store.transfer_runs import make_rich_run

ROOT = Path(__file__).resolve().parents[2]


def _main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``mendoza ARGV`` in this process, as the console script runs it: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 1), out, err


def _small_run(db: Path) -> str:
    with Store(db) as store:
        run = store.runs.create(make_suite(n_cases=2, variant_ids=("a",), repeats=2))
        steps = (Step("router", "llm", span_id="1", output="billing"),)
        store.samples.write(run.id, [
            Sample(f"c{case}", "a", repeat, "p", f"out {case}", steps=steps,
                   grades=(Grade("contains", repeat == 0, 1.0, "why"),))
            for case in (1, 2) for repeat in (0, 1)
        ])
        return run.id


def _mendoza(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]), COLUMNS="120")
    return subprocess.run(
        [sys.executable, "-m", "mendoza", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_export_writes_a_run_file_for_mdz_and_json_lines_for_any_other_name(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    run_id = _small_run(db)
    runner = CliRunner()
    result = runner.invoke(cli, ["export", run_id, "--db", str(db), "-o", str(tmp_path / "run.mdz")])
    assert result.exit_code == 0, result.output
    assert f"wrote run {run_id} (4 samples) to " in result.output and "(mendoza.run-file/1)" in result.output
    assert read_run_file(tmp_path / "run.mdz").run_id == run_id
    upper = runner.invoke(cli, ["export", "latest", "--db", str(db), "-o", str(tmp_path / "RUN.MDZ")])
    assert upper.exit_code == 0 and read_run_file(tmp_path / "RUN.MDZ").samples == 4
    lines = runner.invoke(cli, ["export", "latest", "--db", str(db), "-o", str(tmp_path / "run.jsonl")])
    assert lines.exit_code == 0 and "wrote 4 samples" in lines.output
    first = json.loads((tmp_path / "run.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["schema"] == "mendoza.samples/1"
    refused = runner.invoke(cli, ["export", "latest", "--db", str(db), "--no-steps", "-o", str(tmp_path / "x.mdz")])
    assert refused.exit_code == 2 and "--no-steps is for JSON Lines" in refused.output
    assert not (tmp_path / "x.mdz").exists()


def test_import_then_again_then_a_different_run_with_the_same_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "source.db"
    run_id = _small_run(db)
    runner = CliRunner()
    assert runner.invoke(cli, ["export", run_id, "--db", str(db), "-o", str(tmp_path / "one.mdz")]).exit_code == 0
    target = tmp_path / "target.db"
    first = runner.invoke(cli, ["import", str(tmp_path / "one.mdz"), "--db", str(target)])
    assert first.exit_code == 0, first.output
    assert first.output.startswith(f"imported run {run_id} (4 samples) from ")
    assert f"mendoza show {run_id}" in first.output
    again = runner.invoke(cli, ["import", str(tmp_path / "one.mdz"), "--db", str(target)])
    assert again.exit_code == 0 and "is already in" in again.output and "nothing imported" in again.output
    with Store(db) as store:  # the run changes after it was exported: a label
        sample_id = store.browse.case_samples(run_id, "c1", ("a",))[0].id
        mendoza.api.record_label(store, sample_id, passed=False, author="ana")
    assert runner.invoke(cli, ["export", run_id, "--db", str(db), "-o", str(tmp_path / "two.mdz")]).exit_code == 0
    code, out, err = _main(capsys, "import", "two.mdz", "--db", "target.db")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("error: two.mdz: target.db already holds a different run") and "--as ID" in err
    renamed = runner.invoke(cli, ["import", str(tmp_path / "two.mdz"), "--db", str(target), "--as", "labelled"])
    assert renamed.exit_code == 0 and "imported run labelled" in renamed.output
    with Store(target, readonly=True) as store:
        assert {run.id for run in store.runs.latest()} == {"labelled", run_id}
        assert store.labels.verdicts("labelled") and not store.labels.verdicts(run_id)


def _truncated(run_file: Path, target: Path) -> None:
    data = run_file.read_bytes()
    target.write_bytes(data[: len(data) // 2])


def _foreign(_: Path, target: Path) -> None:
    db = sqlite3.connect(target)
    db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)")
    db.commit()
    db.close()


def _newer(run_file: Path, target: Path) -> None:
    shutil.copyfile(run_file, target)
    db = sqlite3.connect(target)
    db.execute("UPDATE mdz_meta SET value = 'mendoza.run-file/7' WHERE key = 'format'")
    db.commit()
    db.close()


def _noise(_: Path, target: Path) -> None:
    target.write_bytes(os.urandom(8192))


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (_noise, "not a mendoza run file (not an SQLite database)"),
        (_truncated, "a damaged run file"),
        (_foreign, "not a mendoza run file (it holds other tables: orders)"),
        (_newer, "written by a newer mendoza (format mendoza.run-file/7; this mendoza reads mendoza.run-file/1)"),
        (None, "no such run file"),
    ],
)
def test_a_bad_run_file_is_one_line_and_exit_2(
    tmp_path: Path, make: Any, said: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run_id = _small_run(tmp_path / "source.db")
    assert _main(capsys, "export", run_id, "--db", "source.db", "-o", "good.mdz")[0] == 0
    if make is not None:
        make(tmp_path / "good.mdz", tmp_path / "bad.mdz")
    code, out, err = _main(capsys, "import", "bad.mdz", "--db", "target.db")
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("error: bad.mdz: ") and said in err
    _write_suite(tmp_path, "say {{ word }}")
    code, out, err = _main(capsys, "run", "suite.yaml", "--baseline", "bad.mdz", "--db", "target.db")
    assert code == 2 and err == f"error: bad.mdz: {err.split('bad.mdz: ', 1)[1]}" and said in err
    with Store(tmp_path / "target.db", readonly=True) as store:
        assert store.runs.count() == 0  # refused before sampling


def test_a_bad_run_file_is_one_line_in_a_real_process_too(tmp_path: Path) -> None:
    (tmp_path / "noise.mdz").write_bytes(os.urandom(4096))
    result = _mendoza("import", "noise.mdz", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "error: noise.mdz: not a mendoza run file (not an SQLite database)\n"


def test_show_of_an_imported_run_is_the_originals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with Store(tmp_path / "source.db") as store:
        run_id = make_rich_run(store, tmp_path)
    assert _main(capsys, "export", run_id, "--db", "source.db", "-o", "r.mdz")[0] == 0
    assert _main(capsys, "import", "r.mdz", "--db", "fresh.db")[0] == 0
    for view in ([], ["--json"], ["--markdown"], ["--verdicts", "automatic", "--cases"]):
        before = _main(capsys, "show", run_id, "--db", "source.db", *view)
        after = _main(capsys, "show", run_id, "--db", "fresh.db", *view)
        assert before == after and before[1]
    assert "judges (graders that ask a model)" in before[1] and "steps of app" in before[1]
    lines = [_main(capsys, "export", run_id, "--db", db)[1] for db in ("source.db", "fresh.db")]
    assert lines[0] == lines[1] and lines[0].count("\n") == 25
    # and the run file itself is a store `mendoza show` reads
    assert _main(capsys, "show", "--db", "r.mdz") == _main(capsys, "show", run_id, "--db", "source.db")


SUITE: dict[str, Any] = {
    "suite": "portable-baseline",
    "cases": [{"id": f"c{i}", "word": f"w{i}", "expected": f"w{i}"} for i in range(8)],
    "variants": [{"id": "echo", "model": "echo", "prompt": "say {{ word }}"}],
    "graders": [{"contains": "{{ expected }}"}],
    "repeats": 3,
    "thresholds": {"max_regression": 0.05},
}


def _write_suite(folder: Path, prompt: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    data = dict(SUITE, variants=[{"id": "echo", "model": "echo", "prompt": prompt}])
    (folder / "suite.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_a_baseline_run_file_gates_a_run_in_a_fresh_checkout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    laptop = tmp_path / "laptop"
    _write_suite(laptop, "say {{ word }}")
    monkeypatch.chdir(laptop)
    code, out, _ = _main(capsys, "run", "suite.yaml", "-q")
    assert code == 0
    base_id = out.rsplit("run id: ", 1)[1].split()[0]
    assert _main(capsys, "export", "latest", "-o", "base.mdz")[0] == 0

    # CI: a fresh checkout holding the suite and the baseline file, no .mendoza folder
    regressed = tmp_path / "ci-regressed"
    _write_suite(regressed, "say nothing")
    (regressed / "evals").mkdir()
    shutil.copyfile(laptop / "base.mdz", regressed / "evals" / "base.mdz")
    result = _mendoza("run", "suite.yaml", "--baseline", "evals/base.mdz", cwd=regressed)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"baseline: run {base_id} of evals/base.mdz (imported into the store)" in result.stderr
    assert f":echo vs {base_id}:echo" in result.stdout
    assert "a regression is shown, estimated beyond max_regression 5.0%" in " ".join(result.stdout.split())
    with Store(regressed / ".mendoza" / "mendoza.db", readonly=True) as store:
        assert store.runs.count() == 2 and store.runs.get(base_id).done_samples == 24

    unchanged = tmp_path / "ci-unchanged"
    _write_suite(unchanged, "say {{ word }}")
    shutil.copyfile(laptop / "base.mdz", unchanged / "base.mdz")
    monkeypatch.chdir(unchanged)
    code, out, err = _main(capsys, "run", "suite.yaml", "--baseline", "base.mdz")
    assert code == 0, out + err
    assert "no regression beyond max_regression 5.0%" in " ".join(out.split())
    code, out, err = _main(capsys, "run", "suite.yaml", "-q", "--baseline", "base.mdz")
    assert code == 0 and err == ""  # -q: no word on the baseline either
    code, out, err = _main(capsys, "run", "suite.yaml", "--baseline", "base.mdz")
    assert f"baseline: run {base_id} of base.mdz (already in the store)" in err
    with Store(unchanged / ".mendoza" / "mendoza.db", readonly=True) as store:
        assert store.runs.count() == 4  # the baseline once, and three runs


def test_a_missing_baseline_file_stops_before_sampling(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_suite(tmp_path, "say {{ word }}")
    monkeypatch.chdir(tmp_path)
    code, _, err = _main(capsys, "run", "suite.yaml", "--baseline", "nowhere/base.mdz")
    assert code == 2 and err == "error: nowhere/base.mdz: no such run file\n"
    with Store(tmp_path / ".mendoza" / "mendoza.db", readonly=True) as store:
        assert store.runs.count() == 0


def test_the_python_api_takes_a_baseline_run_file(tmp_path: Path) -> None:
    _write_suite(tmp_path, "say {{ word }}")
    base = mendoza.api.run(tmp_path / "suite.yaml", db=tmp_path / "a.db")
    mendoza.api.export_run(base.run.id, tmp_path / "base.mdz", db=tmp_path / "a.db")
    result = mendoza.api.run(tmp_path / "suite.yaml", db=tmp_path / "b.db", baseline=tmp_path / "base.mdz")
    assert [c.a_label for c in result.regressions] == [f"{base.run.id}:echo"] and result.passed


def test_compare_takes_a_run_file_as_a_side(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "source.db"
    run_id = _small_run(source)
    base = tmp_path / "base.mdz"
    assert _main(capsys, "export", run_id, "--db", str(source), "-o", str(base))[0] == 0
    here = tmp_path / "here.db"
    other = _small_run(here)  # a run of the same data in another store: no difference to find
    code, out, err = _main(capsys, "compare", str(base), other, "--db", str(here), "--json")
    assert code == 0, err
    (comparison,) = json.loads(out)
    assert comparison["difference"]["estimate"] == 0.0 and comparison["difference"]["cases"] == 2
    with Store(here, readonly=True) as store:
        assert {run.id for run in store.runs.latest()} == {run_id, other}  # the file's run was imported
    assert _main(capsys, "compare", str(base), other, "--db", str(here), "--json")[0] == 0  # again: a no-op
