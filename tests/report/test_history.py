"""A suite's history (issue 15, part 5): runs written straight into a store; a planted change is flagged, an
unchanged rerun is not, a suite-hash change is marked with what changed, a case that newly passes consistently
is listed; every figure is ``build_report``'s and every comparison ``mendoza compare``'s."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from mendoza.cli import cli, main
from mendoza.errors import RunNotFound
from mendoza.report import (
    HISTORY_SCHEMA,
    build_history,
    build_report,
    compare_variants,
    history_svg,
    history_to_dict,
    iter_history,
    suite_runs,
)
from mendoza.store import Store
from tests.report.history_factory import CORRECT, REPEATS, SHORT, at_rate, make_suite, write_run


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "history.db") as opened:
        yield opened


def test_a_planted_change_is_flagged_and_an_unchanged_rerun_is_not(store: Store) -> None:
    suite = make_suite()
    first = write_run(store, suite, {"v": at_rate(0.3)}, seed=1)
    second = write_run(store, suite, {"v": at_rate(0.9)}, seed=2)
    third = write_run(store, suite, {"v": at_rate(0.9)}, seed=3)  # the same rate, other random draws
    history = build_history(store, "history")
    assert [entry.run.id for entry in history.runs] == [first, second, third]
    points = history.series("v")
    assert points[0].step is None
    planted, rerun = points[1].step, points[2].step
    assert planted is not None and rerun is not None
    assert planted.flagged and planted.direction == "better"
    assert planted.comparison.paired.difference > 0.4
    assert not rerun.flagged and rerun.direction == "same"
    assert history.flagged == [planted]
    assert (planted.before.id, planted.after.id) == (first, second)
    # The same comparison `mendoza compare FIRST SECOND --variant v` makes (labelled for the history).
    assert planted.comparison.a_label == f"v in run {first}" and planted.comparison.b_label == f"v in run {second}"
    labels = {"a_label": planted.comparison.a_label, "b_label": planted.comparison.b_label}
    assert planted.comparison == replace(compare_variants(store, first, "v", second, "v"), **labels)
    labels = {"a_label": rerun.comparison.a_label, "b_label": rerun.comparison.b_label}
    assert rerun.comparison == replace(compare_variants(store, second, "v", third, "v"), **labels)
    # Every point is the report's figure.
    for point in points:
        report = build_report(store, point.run.id, judges=False)
        assert point.result == report.variant("v")
    # Nothing changed in the suite.
    assert all(entry.suite_change is None for entry in history.runs)


def test_an_unchanged_rerun_is_rarely_flagged(store: Store) -> None:
    """Over ten reruns at one rate, with heterogeneous cases, the flags stay near the 5% chance rate."""
    suite = make_suite(n_cases=20)
    difficulty = [random.Random(index).random() for index in range(20)]
    passes = {"v": lambda case, repeat, rng: rng.random() < difficulty[case]}
    for seed in range(11):
        write_run(store, suite, passes, seed=100 + seed)
    history = build_history(store, "history")
    assert len(history.steps) == 10
    assert len(history.flagged) <= 2


def test_a_case_that_newly_passes_consistently_is_listed(store: Store) -> None:
    suite = make_suite()

    def before(case: int, repeat: int, rng: random.Random) -> bool:
        if case == 0:
            return False  # c00: fails every time
        if case == 1:
            return repeat == 0  # c01: 1/3
        if case == 2:
            return True  # c02: passes every time
        return rng.random() < 0.6

    def after(case: int, repeat: int, rng: random.Random) -> bool:
        if case == 0:
            return True  # c00: now passes every time
        if case == 1:
            return repeat < 2  # c01: 2/3, better but not consistently
        if case == 2:
            return False  # c02: now fails every time
        return rng.random() < 0.6

    write_run(store, suite, {"v": before}, seed=5)
    write_run(store, suite, {"v": after}, seed=5)
    step = build_history(store, "history").series("v")[1].step
    assert step is not None
    passing = {flip.case_id: flip for flip in step.newly_passing}
    failing = {flip.case_id: flip for flip in step.newly_failing}
    assert "c00" in passing and passing["c00"].reason == "every sample"
    assert passing["c00"].words == "c00: 0/3 -> 3/3 (every sample)"
    assert "c01" not in passing
    assert "c02" in failing and failing["c02"].words == "c02: 3/3 -> 0/3 (every sample)"
    for flip in [*step.newly_passing, *step.newly_failing]:  # every flip is all-or-nothing here, or significant
        case = flip.case
        assert flip.reason == "exact test" or {case.a_passed, case.b_passed} == {0, REPEATS}


def test_a_significant_case_counts_as_newly_passing(store: Store) -> None:
    suite = make_suite(n_cases=4, repeats=12)

    def before(case: int, repeat: int, rng: random.Random) -> bool:
        return case > 0 and repeat % 2 == 0  # c00 never passes; the others half the time

    def after(case: int, repeat: int, rng: random.Random) -> bool:
        return repeat > 0 if case == 0 else before(case, repeat, rng)  # c00 passes 11 of 12

    write_run(store, suite, {"v": before}, seed=1)
    write_run(store, suite, {"v": after}, seed=1)
    step = build_history(store, "history").series("v")[1].step
    assert step is not None
    [flip] = step.newly_passing
    assert flip.case_id == "c00" and flip.reason == "exact test" and flip.case.b_passed == 11
    assert flip.words.startswith("c00: 0/12 -> 11/12 (exact test, q = ")


def test_a_suite_hash_change_is_marked_with_what_changed(store: Store) -> None:
    write_run(store, make_suite(), {"v": at_rate(0.5)}, seed=1)
    write_run(store, make_suite(), {"v": at_rate(0.5)}, seed=2)
    write_run(store, make_suite(graders=(CORRECT, SHORT), n_cases=25), {"v": at_rate(0.5)}, seed=3)
    write_run(
        store, make_suite(graders=(CORRECT, SHORT), n_cases=25, variants=(("v", "mock"),)), {"v": at_rate(0.5)}, 4
    )
    history = build_history(store, "history")
    changes = [entry.suite_change for entry in history.runs]
    assert changes[0] is None and changes[1] is None
    assert changes[2] is not None and changes[2].parts == ("cases", "graders")
    assert changes[2].cases_or_graders and changes[2].words == "suite changed: cases, graders"
    assert changes[2].previous_hash == history.runs[1].run.suite_hash != changes[2].hash
    assert changes[3] is not None and changes[3].parts == ("variants",) and not changes[3].cases_or_graders
    # Across the cases change, the comparison pairs the 25 cases both runs have.
    across = history.series("v")[2].step
    assert across is not None and across.comparison.paired.n == 25 and len(across.comparison.only_in_a) == 5
    # The model change is the variant's own.
    model_step = history.series("v")[3].step
    assert model_step is not None and model_step.variant_changed
    assert (model_step.before_model, model_step.after_model) == ("echo", "mock")


def test_runs_are_matched_by_suite_name_and_variants_filtered(store: Store) -> None:
    ours = make_suite(variants=(("a", "echo"), ("b", "echo")))
    first = write_run(store, ours, {"a": at_rate(0.5), "b": at_rate(0.5)}, seed=1)
    write_run(store, make_suite("other"), {"v": at_rate(0.5)}, seed=2)
    second = write_run(store, ours, {"a": at_rate(0.5), "b": at_rate(0.5)}, seed=3)
    assert [run.id for run in suite_runs(store, "history")] == [first, second]
    only_b = build_history(store, "history", variants=["b"])
    assert only_b.variant_ids == ["b"] and [len(entry.points) for entry in only_b.runs] == [1, 1]
    with pytest.raises(RunNotFound, match="no run of suite 'nope'"):
        build_history(store, "nope")


def test_it_streams_one_run_at_a_time(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    for seed in range(3):
        write_run(store, make_suite(), {"v": at_rate(0.5)}, seed=seed)
    built: list[str] = []
    import mendoza.report.history as module

    real = module.build_report
    monkeypatch.setattr(module, "build_report", lambda s, ref, **kw: built.append(ref) or real(s, ref, **kw))
    entries = iter_history(store, "history")
    first = next(entries)
    assert built == [first.run.id]  # one report made, no more, until the next run is asked for
    assert len(list(entries)) == 2 and len(built) == 3


def test_a_run_without_samples_is_a_point_without_a_rate_and_no_step(store: Store) -> None:
    suite = make_suite()
    write_run(store, suite, {"v": at_rate(0.3)}, seed=1)
    store.runs.create(suite)  # started, nothing stored
    write_run(store, suite, {"v": at_rate(0.9)}, seed=2)
    points = build_history(store, "history").series("v")
    assert points[1].result.pass_rate is None and points[1].step is None
    assert points[2].step is not None and points[2].step.before.id == points[0].run.id and points[2].step.flagged


def test_the_json_is_complete_and_strict(store: Store) -> None:
    suite = make_suite()
    first = write_run(store, suite, {"v": at_rate(0.3)}, seed=1)
    second = write_run(store, suite, {"v": at_rate(0.9)}, seed=2)
    history = build_history(store, "history")
    data = json.loads(json.dumps(history_to_dict(history), allow_nan=False))
    assert data["schema"] == HISTORY_SCHEMA == "mendoza.history/1"
    assert data["suite"] == "history" and [run["id"] for run in data["runs"]] == [first, second]
    point = data["runs"][1]["variants"][0]
    assert point["variant"] == "v" and point["model"] == "echo"
    assert point["rate"]["pass_rate"]["estimate"] == pytest.approx(history.series("v")[1].result.pass_rate)
    change = point["change"]
    assert change["previous_run"] == first and change["flagged"] is True and change["direction"] == "better"
    assert change["comparison"]["significant"] is True and "cases" not in change["comparison"]
    assert data["runs"][0]["variants"][0]["change"] is None
    assert data["flagged"] == [
        {"variant": "v", "from_run": first, "to_run": second, "direction": "better",
         "verdict": history.flagged[0].comparison.verdict}
    ]


HOSTILE = "<script>alert('x')</script>\u202eevil"


def test_the_chart_is_svg_without_style_or_script_and_escapes_names(store: Store) -> None:
    hostile_variant = "b<img src=x onerror=alert(1)>"
    write_run(store, make_suite(HOSTILE, variants=(("a", "echo"), (hostile_variant, "echo"))),
              {"a": at_rate(0.3), hostile_variant: at_rate(0.5)}, seed=1)
    write_run(store, make_suite(HOSTILE, variants=(("a", "echo"), (hostile_variant, "echo")), n_cases=29),
              {"a": at_rate(0.95), hostile_variant: at_rate(0.5)}, seed=2)
    history = build_history(store, HOSTILE)
    svg = history_svg(history, 600, 280)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" class="history-chart"')
    assert "style" not in svg and "<script" not in svg and "<img" not in svg and "href" not in svg
    assert "&lt;script&gt;" in svg and "&lt;img src=x onerror=alert(1)&gt;" in svg
    assert svg.count('class="flagged"') == len(history.flagged) == 1
    assert 'stroke-dasharray="3 3"' in svg  # the suite changed (a case fewer)
    assert svg.count("<polyline ") == 2
    revealed = history_svg(history, names=lambda name: name.replace("\u202e", "[RLO]"))
    assert "\u202e" not in revealed and "[RLO]evil" in revealed


def test_mendoza_history_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cli.db"
    with Store(db) as opened:
        suite = make_suite()
        first = write_run(opened, suite, {"v": at_rate(0.3)}, seed=1)
        second = write_run(opened, suite, {"v": at_rate(0.9)}, seed=2)
        write_run(opened, suite, {"v": at_rate(0.9)}, seed=3)
    runner = CliRunner(env={"COLUMNS": "200"})
    result = runner.invoke(cli, ["history", "history", "--db", str(db)], terminal_width=200)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "history of suite history: 3 runs" in out
    assert out.count("really better: +") == 1 and out.count("no real change: ") == 1
    assert "statistically real changes (1 of 2 compared)" in out
    assert f"  v in run {second} is really better than v in run {first}: +" in out
    assert "✌" not in out
    as_json = json.loads(runner.invoke(cli, ["history", "history", "--db", str(db), "--json"]).output)
    assert as_json["schema"] == "mendoza.history/1" and len(as_json["runs"]) == 3 and len(as_json["flagged"]) == 1
    only = runner.invoke(cli, ["history", "history", "--db", str(db), "--variant", "v", "--json"])
    assert only.exit_code == 0 and json.loads(only.output) == as_json
    unknown = runner.invoke(cli, ["history", "history", "--db", str(db), "--variant", "w"])
    assert unknown.exit_code == 2 and "has variant 'w' (its variants: v)" in unknown.output
    with pytest.raises(SystemExit) as exited:
        main(["history", "nope", "--db", str(db)])
    assert exited.value.code == 2
    assert capsys.readouterr().err == f"error: no run of suite 'nope' in {db} (see `mendoza runs`)\n"


def test_history_of_a_model_matrix_by_its_id(tmp_path: Path) -> None:
    db = tmp_path / "matrix.db"
    variants = (("few-shot@a", "echo"), ("few-shot@b", "mock"), ("other", "echo"))
    rates = {"few-shot@a": at_rate(0.5), "few-shot@b": at_rate(0.5), "other": at_rate(0.5)}
    with Store(db) as opened:
        for seed in range(2):
            write_run(opened, make_suite(variants=variants), rates, seed=seed)
    result = CliRunner().invoke(cli, ["history", "history", "--db", str(db), "--variant", "few-shot", "--json"])
    assert result.exit_code == 0, result.output
    shown = [point["variant"] for point in json.loads(result.output)["runs"][0]["variants"]]
    assert shown == ["few-shot@a", "few-shot@b"]
