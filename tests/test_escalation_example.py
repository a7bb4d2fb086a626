"""The escalation example (issue 14), run for real on the embedded model (a few tickets), then designed around:
the replay finds the policies, measures them, and recommends or says why none reaches the target."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mendoza.api import load_suite, run_suite
from mendoza.cli.main import cli
from mendoza.report import build_design
from mendoza.store import Store

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "escalation" / "suite.yaml"

pytestmark = pytest.mark.slow


def test_the_example_runs_and_mendoza_design_measures_its_policies(store: Store) -> None:
    full = load_suite(EXAMPLE)
    assert [spec.name for spec in full.graders if spec.runtime] == ["is-a-queue"]
    suite = full.model_copy(update={"cases": full.cases[::7], "repeats": 3})
    run = run_suite(suite, db=store)
    assert store.runs.get(run.id).status == "complete"
    report = build_design(store, run.id, target=0.9)
    kinds = {design.kind for design in report.designs}
    assert {"single", "fallback", "cascade", "human review", "vote", "vote + human", "best-of-k", "audit"} <= kinds
    assert report.checks == ("is-a-queue",) and report.human.cost == pytest.approx(0.40)
    assert any(design.on_frontier for design in report.designs)
    shown = CliRunner().invoke(cli, ["design", run.id, "--db", str(store.path), "--target", "0.9"],
                               terminal_width=200)
    assert shown.exit_code == 0, shown.output
    assert "the frontier" in shown.output and "supervised (90.0%+)" in shown.output
