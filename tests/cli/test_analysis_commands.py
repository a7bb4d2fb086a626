"""show's export formats, compare, plan, and run's adaptive and baseline options, end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from mendoza.cli import cli

SUITE: dict[str, Any] = {
    "suite": "two-prompts",
    "cases": [{"id": f"c{i:02d}", "x": i} for i in range(16)],
    "variants": [
        {"id": "weak", "model": "mock", "params": {"pass_rate": 0.2, "pass_output": "yes", "fail_output": "no"}},
        {"id": "strong", "model": "mock", "params": {"pass_rate": 0.95, "pass_output": "yes", "fail_output": "no"}},
    ],
    "graders": [{"equals": "yes"}],
    "repeats": 4,
}


def _invoke(*args: str) -> Any:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, list(args), terminal_width=200)
    return result


def _run(write_suite: Any, db: Path, *extra: str, **changes: Any) -> str:
    result = _invoke("run", str(write_suite(SUITE, **changes)), "--db", str(db), "-q", *extra)
    assert result.exit_code in (0, 1), result.output
    return result.output.split("run id: ")[1].split()[0]


def test_show_formats(write_suite: Any, tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    run_id = _run(write_suite, db)
    data = json.loads(_invoke("show", run_id, "--db", str(db), "--json").output)
    assert data["schema"] == "mendoza.report/2" and len(data["variants"]) == 2
    markdown = _invoke("report", run_id, "--db", str(db), "--markdown").output
    assert markdown.startswith("# two-prompts") and "| strong |" in markdown
    page = tmp_path / "r.html"
    assert _invoke("show", run_id, "--db", str(db), "--html", str(page)).exit_code == 0
    assert "<svg" in page.read_text()
    terminal = _invoke("show", run_id, "--db", str(db)).output
    assert ("pass@k" in terminal and "strong" in terminal and "Undecided" in terminal) or "Do not" in terminal


def test_compare_variants_of_a_run_and_two_runs(write_suite: Any, tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    run_id = _run(write_suite, db)
    result = _invoke("compare", run_id, "--variants", "weak", "strong", "--db", str(db))
    assert result.exit_code == 0 and "strong is really better than weak" in result.output
    as_json = json.loads(_invoke("compare", run_id, "--variants", "weak", "strong", "--db", str(db), "--json").output)
    assert as_json[0]["significant"] is True and as_json[0]["difference"]["estimate"] > 0.5
    other = _run(write_suite, db)
    both = _invoke("compare", run_id, other, "--db", str(db))
    assert both.exit_code == 0 and both.output.count("paired on 16 cases") == 2
    missing = _invoke("compare", run_id, "--variants", "weak", "nope", "--db", str(db))
    assert missing.exit_code == 2 and "no variant" in missing.output


def test_run_with_baseline_gates_on_max_regression(write_suite: Any, tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    base = _run(write_suite, db, thresholds={"max_regression": 0.05, "variants": ["strong"]})
    worse_variants = [dict(SUITE["variants"][0]),
                      {"id": "strong", "model": "mock", "params": {"pass_rate": 0.1, "pass_output": "yes",
                                                                 "fail_output": "no"}}]
    path = write_suite(SUITE, name="worse.yaml", variants=worse_variants,
                       thresholds={"max_regression": 0.05, "variants": ["strong"]})
    result = _invoke("run", str(path), "--db", str(db), "-q", "--baseline", base)
    assert result.exit_code == 1, result.output
    assert "gate fail:" in result.output
    assert "a regression is shown, estimated beyond max_regression 5.0%" in result.output
    compared = _invoke("compare", base, result.output.split("run id: ")[1].split()[0], "--db", str(db))
    assert compared.exit_code == 1 and "a regression is shown" in compared.output


def test_run_until_decided_reports_the_samples_used(write_suite: Any, tmp_path: Path) -> None:
    result = _invoke("run", str(write_suite(SUITE)), "--db", str(tmp_path / "m.db"), "-q", "--until-decided",
                     "--budget", "400")
    assert result.exit_code == 0, result.output
    assert "adaptive sampling" in result.output and "takes 64 per variant" in result.output


def test_plan_from_assumptions_and_from_a_run(write_suite: Any, tmp_path: Path) -> None:
    assumed = _invoke("plan", "--delta", "0.05", "--between", "0.02", "--within", "0.1")
    assert assumed.exit_code == 0 and "fewest samples" in assumed.output and "assumed" in assumed.output
    db = tmp_path / "m.db"
    run_id = _run(write_suite, db)
    from_run = _invoke("plan", "--delta", "0.05", "--from-run", run_id, "--variants", "weak", "strong",
                       "--db", str(db))
    assert from_run.exit_code == 0 and "estimated from run" in from_run.output
    precision = _invoke("plan", "--halfwidth", "0.05", "--from-run", run_id, "--db", str(db))
    assert precision.exit_code == 0 and "interval of ±5.0%" in precision.output
    assert _invoke("plan", "--delta", "0.05").exit_code == 2
