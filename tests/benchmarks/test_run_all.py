"""The benchmark command runs end to end in --quick mode (a smoke test: structure, never speed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.run_all import BENCHMARKS, main
from benchmarks.table import Row, render_table

MENDOZA_ONLY = ("harness", "latency", "memory", "big", "startup")


def _table_rows(output: str) -> list[list[str]]:
    lines = [line for line in output.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def test_quick_run_of_the_mendoza_parts_prints_one_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--quick", "--no-inspect", "--only", ",".join(MENDOZA_ONLY), "--workdir", str(tmp_path)]
    assert main(argv) == 0
    output = capsys.readouterr().out
    assert output.startswith("machine: ") and "Measured " in output
    header, *rows = _table_rows(output)
    assert header == ["benchmark", "measure", "mendoza", "reference", "ratio", "target", "holds"]
    assert {row[0] for row in rows} == {"harness overhead", "latency limit", "memory", "big runs", "start-up"}
    assert not [row for row in rows if row[1] == "crashed"], output
    assert all(row[6] in ("", "yes", "NO") for row in rows)
    # Every benchmark measured something it could compare with its target.
    assert {row[0] for row in rows if row[5]} == {"harness overhead", "latency limit", "memory", "big runs", "start-up"}


def test_unknown_benchmark_names_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--only", "harness,nonsense"])
    assert "nonsense" in capsys.readouterr().err
    assert set(BENCHMARKS) == {
        "harness", "latency", "memory", "local", "batched", "big", "steps", "ray", "stores", "startup"
    }


def test_table_aligns_columns_and_marks_verdicts() -> None:
    text = render_table([Row("a", "m", "1", ok=True), Row("bb", "measure", "22", "3", "2x", "t", False)])
    lines = text.splitlines()
    assert len({len(line) for line in lines}) == 1
    assert lines[2].endswith("| yes   |") and lines[3].endswith("| NO    |")


@pytest.mark.slow
def test_quick_local_model_benchmark_compares_with_raw_llama_cpp(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--quick", "--no-inspect", "--only", "local", "--workdir", str(tmp_path)]) == 0
    rows = _table_rows(capsys.readouterr().out)[1:]
    assert rows[0][0] == "local model" and "% (median of" in rows[0][4]
    assert rows[1][1].startswith("same tokens") and rows[1][2] == "yes"
