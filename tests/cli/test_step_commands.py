"""`mendoza show` on a run whose samples carry steps: the per step table, where failures start, and the
end-to-end line; nothing of the kind for a run without steps."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mendoza.cli import cli
from mendoza.store import Store
from tests.report.steps_factory import write_steps_run
from tests.store.factories import make_suite, sample


def _show(db: Path, *extra: str) -> str:
    args = ["show", "latest", "--db", str(db), *extra]
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, args, terminal_width=200)
    assert result.exit_code in (0, 1), result.output
    return result.output


def _row(output: str, first_cell: str) -> list[str]:
    """The cells of the table row whose first cell is ``first_cell``."""
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip("│ ").split("│")]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in:\n{output}")


def test_show_prints_each_step_under_its_variant(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    with Store(db) as store:
        write_steps_run(store)
    output = _show(db)
    assert "steps of app" in output and "steps of plain" not in output
    section = output[output.index("steps of app") :]
    router = _row(section, "router")
    assert router[:3] == ["router", "llm", "19/20 (95.0%)"] and router[3].startswith("85.0% [")
    assert router[4:] == ["0", "11/13", "95/19", "20.0%"]
    assert _row(section, "lookup") == ["lookup", "tool", "19/20 (95.0%), 23 runs", "-", "1 (4.3%)", "20/20", "0/0", "-"]
    assert _row(section, "answer")[-1] == "80.0%"
    assert _row(section, "final output")[3].startswith("75.0% [")
    assert (
        "where failures start: router 2 (40.0%), lookup 1 (20.0%), final output 1 (20.0%), errored 1 (20.0%) of "
        "the 5 samples that did not pass" in section
    )
    assert "end-to-end 75.0% vs 63.7% if its steps failed independently (router 85.0% x final output 75.0%)" in section
    data = json.loads(_show(db, "--json"))
    assert [step["name"] for step in data["variants"][0]["steps"]] == ["router", "lookup", "answer"]


def test_show_prints_no_step_section_for_a_run_without_steps(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    with Store(db) as store:
        run = store.runs.create(make_suite(n_cases=2, variant_ids=("a",), repeats=1))
        store.samples.write(run.id, [sample("c1", "a", 0), sample("c2", "a", 0, passed=False)])
    output = _show(db)
    assert "pass rate per variant" in output
    assert "steps of" not in output and "where failures start" not in output and "end-to-end" not in output
