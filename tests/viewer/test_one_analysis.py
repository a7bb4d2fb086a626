"""One analysis: every rate, interval, band and comparison in the viewer's JSON twins equals the CLI's
``--json``, on runs with human labels, errors, custom band edges and adaptive sampling."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from mendoza.api import run_suite
from mendoza.cli import cli
from mendoza.core import Case, GraderSpec, Suite, Variant
from mendoza.store import Store


def _cli_json(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code in (0, 1, 3), result.output
    return json.loads(result.output)


def _suite() -> Suite:
    cases = tuple(Case(id=f"c{i:02d}", tags=("hard",) if i % 3 == 0 else ()) for i in range(18))
    variants = (
        Variant(id="steady", model="mock", params={"pass_rate": 0.85, "pass_output": "yes", "fail_output": "no"}),
        Variant(
            id="flaky",
            model="mock",
            params={"pass_rate": 0.7, "pass_output": "yes", "fail_output": "no", "fail_rate": 0.2, "error": "fatal"},
        ),
    )
    return Suite(
        name="one-analysis",
        cases=cases,
        variants=variants,
        graders=(GraderSpec(type="equals", params={"value": "yes"}, name="equals"),),
        repeats=4,
        band_edges=(0.5, 0.75, 0.95),
        confidence=0.9,
    )


@pytest.fixture
def labelled_runs(tmp_path: Path) -> tuple[Path, str, str]:
    db = tmp_path / "m.db"
    with Store(db) as store:
        fixed = run_suite(_suite(), db=store)
        adaptive = run_suite(_suite(), db=store, until_decided=True, budget=300)
        for case_id in ("c00", "c01", "c02", "c03", "c04", "c05"):
            for record in store.browse.case_samples(fixed.id, case_id, ["steady", "flaky"]):
                store.labels.add(record.id, passed=record.repeat % 2 == 0, score=None, note="", author="t")
    return db, fixed.id, adaptive.id


def _close(viewer: float | None, cli_value: float | None) -> bool:
    if viewer is None or cli_value is None:
        return viewer is None and cli_value is None
    return abs(viewer - cli_value) < 1e-6


def _same_rate(viewer: dict[str, Any], cli_rate: dict[str, Any]) -> None:
    assert _close(viewer["rate"], cli_rate["pass_rate"]["estimate"])
    assert _close(viewer["low"], cli_rate["pass_rate"]["low"])
    assert _close(viewer["high"], cli_rate["pass_rate"]["high"])
    assert viewer["graded"] == cli_rate["counted"]
    assert viewer["decided"] == cli_rate["band"]["decided"]
    assert viewer["band"] == cli_rate["band"]["band"]
    assert (viewer["between"] or None) == cli_rate["band"]["between"]
    assert viewer["samples_to_decide"] == cli_rate["band"]["samples_to_decide"]
    assert viewer["errored"] == cli_rate["outcomes"]["errored"]
    bounds = cli_rate["bounds"]
    assert _close(viewer["bounds_low"], bounds and bounds["if_all_failed"]["estimate"])
    assert _close(viewer["bounds_high"], bounds and bounds["if_all_passed"]["estimate"])


def test_the_viewers_figures_are_the_clis(
    labelled_runs: tuple[Path, str, str], client_for: Callable[..., TestClient]
) -> None:
    db, fixed, adaptive = labelled_runs
    client = client_for(db)
    for run_id in (fixed, adaptive):
        human = _cli_json("show", run_id, "--db", str(db), "--json", "--verdicts", "human-adjusted")
        automatic = _cli_json("show", run_id, "--db", str(db), "--json", "--verdicts", "automatic")
        assert human["band_edges"] == [0.5, 0.75, 0.95] and human["confidence"] == 0.9
        overview = client.get(f"/runs/{run_id}.json").json()
        assert overview["confidence"] == 0.9 and overview["band_edges"] == [0.5, 0.75, 0.95]
        for shown, adjusted_cli, automatic_cli in zip(
            overview["variants"], human["variants"], automatic["variants"], strict=True
        ):
            assert shown["variant_id"] == adjusted_cli["id"]
            adjusted_rate = {**adjusted_cli, "outcomes": _outcomes(adjusted_cli)}
            automatic_rate = {**automatic_cli, "outcomes": _outcomes(automatic_cli)}
            _same_rate(shown["adjusted"], adjusted_rate)
            _same_rate(shown["automatic"], automatic_rate)
            assert shown["errors"] == adjusted_cli["errors"] and shown["labelled"] == adjusted_cli["labelled"]
            cli_breakdowns = [(item["name"], item) for item in adjusted_cli["by_grader"] + adjusted_cli["by_tag"]]
            for viewer_item, (name, cli_item) in zip(shown["breakdowns"], cli_breakdowns, strict=True):
                assert viewer_item["name"] == name
                _same_rate(viewer_item["rate"], cli_item)
            assert [point["pass_at_k"] for point in shown["curve"]] == pytest.approx(
                [value for value in adjusted_cli["pass_at_k"].values() if value is not None], abs=1e-6
            )
        grid = client.get(f"/runs/{run_id}/grid.json?per_page=100").json()
        cli_cells = {(case["variant"], case["case"]): case for case in human["cases"]}
        shown_cells = [cell for row in grid["rows"] for cell in row["cells"] if cell is not None]
        assert len(shown_cells) == len(cli_cells)
        for row in grid["rows"]:
            for cell in row["cells"]:
                if cell is not None:
                    cli_cell = cli_cells[(cell["variant_id"], row["case"]["case_id"])]
                    assert (cell["passed"], cell["graded"]) == (cli_cell["passed"], cli_cell["graded"])
        runs = {row["run"]["id"]: row for row in client.get("/runs.json").json()["runs"]}
        for headline, cli_variant in zip(runs[run_id]["variants"], human["variants"], strict=True):
            assert _close(headline["rate"], cli_variant["pass_rate"]["estimate"])
            assert _close(headline["low"], cli_variant["pass_rate"]["low"])
        labelled = sum(variant["labelled"] for variant in human["variants"])
        assert labelled == (48 if run_id == fixed else 0)
        if run_id == fixed:  # the labels move the human-adjusted figure away from the automatic one
            assert human["variants"][0]["pass_rate"] != automatic["variants"][0]["pass_rate"]
            assert human["variants"][0]["other_verdicts"]["pass_rate"] == automatic["variants"][0]["pass_rate"]


def _outcomes(variant: dict[str, Any]) -> dict[str, int]:
    return {key: variant[key] for key in ("passed", "failed", "undecided")} | {"errored": variant["errors"]}


@pytest.mark.parametrize("verdicts", ["human-adjusted", "automatic"])
def test_the_viewers_comparison_is_the_clis(
    labelled_runs: tuple[Path, str, str], client_for: Callable[..., TestClient], verdicts: str
) -> None:
    db, fixed, adaptive = labelled_runs
    client = client_for(db)
    view = "adjusted" if verdicts == "human-adjusted" else "auto"
    for a, va, b, vb, args in (
        (fixed, "steady", fixed, "flaky", [fixed, "--variants", "steady", "flaky"]),
        (fixed, "flaky", adaptive, "flaky", [fixed, adaptive, "--variant", "flaky"]),
    ):
        (cli_comparison,) = _cli_json("compare", *args, "--db", str(db), "--json", "--verdicts", verdicts)
        shown = client.get(f"/compare.json?a={a}&va={va}&b={b}&vb={vb}&view={view}").json()
        difference = cli_comparison["difference"]
        assert _close(shown["difference"], difference["estimate"])
        assert _close(shown["low"], difference["low"]) and _close(shown["high"], difference["high"])
        assert _close(shown["p_value"], difference["p_value"])
        assert shown["paired_cases"] == difference["cases"] and shown["confidence"] == difference["confidence"]
        assert shown["verdict"] == cli_comparison["verdict"]
        significant = {case["case"] for case in cli_comparison["cases"] if case["significant"]}
        viewer_significant = {row["case_id"] for row in shown["better"] + shown["worse"] if row["significant"]}
        assert viewer_significant == significant
        for row in shown["better"] + shown["worse"]:
            cli_case = next(case for case in cli_comparison["cases"] if case["case"] == row["case_id"])
            assert [row["a_passed"], row["a_graded"]] == cli_case["a"]
            assert _close(row["q_value"], cli_case["q_value"])
