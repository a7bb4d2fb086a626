"""Item analysis and the subset of a run written straight into a store: the statistics against hand
computations, suspect and saturated cases, the order and suggestions, runs of the same suite pooled, and the
subset's measured error beside random subsets' on a synthetic benchmark whose truth is known."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from mendoza.config.datasets import load_cases_file
from mendoza.errors import ConfigError
from mendoza.report import (
    analyse_items,
    choose_subset,
    discrimination_words,
    flakiness_words,
    items_to_dict,
    subset_cases,
    subset_to_dict,
    subset_words,
    suspect_words,
)
from mendoza.stats import mean_interval
from mendoza.store import Store
from tests.report.items_factory import SMALL, VARIANTS, items_suite, synthetic_counts, write_counts


def _paris(case_id: str, variant_id: str, repeat: int) -> str:
    """Every failing output of 'wrong' is Paris (spaced differently); the others differ."""
    return (" Paris", "Paris\n")[repeat % 2] if case_id == "wrong" else f"no {case_id} {variant_id} {repeat}"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "items.db") as opened:
        yield opened  # type: ignore[misc]


def _textbook(passes: list[int], graded: int, rest: list[float]) -> float:
    """The point-biserial by hand: (M1 - M0) / s_n * sqrt(p q) over every sample of the case, each scored with
    its variant's rate on the other cases."""
    outcomes = np.array([1] * sum(passes) + [0] * (graded * len(passes) - sum(passes)))
    scores = np.array(
        [r for r, k in zip(rest, passes, strict=True) for _ in range(k)]
        + [r for r, k in zip(rest, passes, strict=True) for _ in range(graded - k)]
    )
    p = outcomes.mean()
    return float((scores[outcomes == 1].mean() - scores[outcomes == 0].mean()) / scores.std() * math.sqrt(p * (1 - p)))


def test_item_statistics_match_hand_computations(store: Store) -> None:
    run_id = write_counts(store, SMALL, VARIANTS, 2, outputs=_paris)
    analysis = analyse_items(store, run_id)
    totals = [sum(counts[v] for counts in SMALL.values()) for v in range(3)]
    assert totals == [6, 8, 9]
    assert [(a.variant_id, a.passed, a.graded) for a in analysis.variants] == [
        ("weak", 6, 14), ("mid", 8, 14), ("strong", 9, 14)
    ]
    for case_id, passes in SMALL.items():
        item = analysis.item(case_id)
        # Difficulty: passed over counted, its interval clustered by variant (the report's mean_interval).
        assert item.pass_rate == pytest.approx(sum(passes) / 6)
        scores = [1.0] * passes[0] + [0.0] * (2 - passes[0]) + [1.0] * passes[1] + [0.0] * (2 - passes[1])
        scores += [1.0] * passes[2] + [0.0] * (2 - passes[2])
        expected = mean_interval(scores, [v for v in VARIANTS for _ in range(2)])
        assert item.difficulty.reliability.interval == pytest.approx(expected)
        assert item.variants == 3
        # Discrimination: against each variant's rate on the other cases (12 samples each).
        rest = [(total - p) / 12 for total, p in zip(totals, passes, strict=True)]
        if 0 < sum(passes) < 6:
            assert item.discrimination == pytest.approx(_textbook(passes, 2, rest))
        else:
            assert item.discrimination is None
        assert item.discrimination_across_runs is None
        # Flakiness: the variants that both passed and failed it, of the three.
        assert (item.flaky_variants, item.repeated_variants) == (sum(1 for p in passes if p == 1), 3)
    assert analysis.item("flaky").discrimination == pytest.approx(0.0, abs=1e-12)
    assert analysis.item("sep").discrimination > 0.3 and analysis.item("rev").discrimination < -0.6
    assert analysis.item("flaky").flakiness == 1.0 and analysis.item("sep").flakiness == pytest.approx(1 / 3)
    assert flakiness_words(analysis.item("sep")) == "1/3"
    assert discrimination_words(analysis.item("rev").discrimination) == f"{analysis.item('rev').discrimination:+.2f}"


def test_flags_order_and_suggestions(store: Store) -> None:
    run_id = write_counts(store, SMALL, VARIANTS, 2, outputs=_paris)
    analysis = analyse_items(store, run_id)
    flags = {item.case_id: item.flags for item in analysis.items}
    assert flags == {
        "wrong": ("suspect",), "rev": ("reversed",), "easy": ("saturated",), "flaky": ("flaky",),
        "sep3": ("flaky",), "sep": (), "sep2": (),
    }
    order = [item.case_id for item in analysis.items]
    assert order[:5] == ["wrong", "rev", "easy", "flaky", "sep3"]  # the flakier first
    unflagged = analysis.items[5:]
    assert [item.discrimination for item in unflagged] == sorted(item.discrimination or 0 for item in unflagged)
    assert analysis.suggestions == [
        "Check 1 case that every variant fails (suspect; 1 with one output from several variants, likely a "
        "wrong expected answer): wrong.",
        "Check 1 case that the weaker variants pass more often than the stronger ones (discrimination below "
        "-0.2: a wrong expected answer, or a grader that rewards the wrong thing): rev.",
        "Drop 1 case that every variant always passes (saturated: they tell no variant apart), or make them "
        "harder: easy.",
        "Add repeats: 2 cases both passed and failed on at least 50% of their variants (flaky): flaky, sep3. "
        "Raise the suite's repeats (now 2) so their rates settle.",
    ]
    assert analysis.notes == ["Counted by human-adjusted verdicts; errored samples count as failures."]


def test_a_suspect_case_counts_its_identical_outputs(store: Store) -> None:
    run_id = write_counts(store, SMALL, VARIANTS, 2, outputs=_paris)
    wrong = analyse_items(store, run_id).item("wrong")
    assert wrong.suspect and not wrong.saturated
    # Six failing answers, all "Paris" once trimmed, from the three variants.
    assert (wrong.failing_outputs, wrong.same_output, wrong.same_output_variants) == (6, 6, 3)
    assert wrong.common_output == "Paris"
    assert suspect_words(wrong) == '6/6 say "Paris" (3 variants)'
    assert suspect_words(analyse_items(store, run_id).item("easy")) == ""


def test_a_case_every_variant_fails_differently_is_suspect_without_a_shared_output(store: Store) -> None:
    counts = {"hard": [0, 0], "ok": [1, 2], "ok2": [2, 1]}
    run_id = write_counts(store, counts, ["a", "b"], 2)
    analysis = analyse_items(store, run_id)
    hard = analysis.item("hard")
    assert hard.suspect and (hard.failing_outputs, hard.same_output, hard.same_output_variants) == (4, 1, 1)
    assert analysis.suggestions[0] == "Check 1 case that every variant fails (suspect): hard."


def test_a_case_whose_every_sample_errored_is_not_suspect(store: Store) -> None:
    counts = {"broken": [0, 0], "ok": [1, 2], "ok2": [2, 1]}
    errors = {("broken", "a"): 2, ("broken", "b"): 2}
    run_id = write_counts(store, counts, ["a", "b"], 2, errors=errors)
    broken = analyse_items(store, run_id).item("broken")
    assert broken.pass_rate == 0.0 and broken.difficulty.outcomes.errored == 4
    assert not broken.suspect and broken.failing_outputs == 0 and broken.flags == ()


def test_saturation_needs_every_variant_to_always_pass(store: Store) -> None:
    counts = {"all": [3, 3, 3], "almost": [3, 3, 2], "none": [0, 0, 0]}
    run_id = write_counts(store, counts, VARIANTS, 3)
    analysis = analyse_items(store, run_id)
    assert analysis.item("all").saturated and analysis.item("all").flags == ("saturated",)
    assert not analysis.item("almost").saturated and not analysis.item("none").saturated
    assert analysis.flagged("saturated") == [analysis.item("all")]


def test_one_variant_has_no_discrimination_and_its_interval_is_over_its_samples(store: Store) -> None:
    counts = {"a": [3], "b": [1], "c": [0]}
    run_id = write_counts(store, counts, ["only"], 4)
    analysis = analyse_items(store, run_id)
    b = analysis.item("b")
    assert b.discrimination is None and b.pass_rate == 0.25
    assert b.difficulty.reliability.interval == pytest.approx(mean_interval([1.0, 0.0, 0.0, 0.0]))
    assert any("Discrimination needs two variants" in note for note in analysis.notes)


def test_automatic_and_human_adjusted_verdicts(store: Store) -> None:
    run_id = write_counts(store, SMALL, VARIANTS, 2, outputs=_paris)
    first = store.browse.case_samples(run_id, "wrong", ["weak"])[0]
    store.labels.add(first.id, passed=True, score=None, note="Paris is right", author="tester")
    assert not analyse_items(store, run_id).item("wrong").suspect
    automatic = analyse_items(store, run_id, verdicts="automatic")
    assert automatic.item("wrong").suspect and automatic.verdicts == "automatic"


def test_runs_of_the_same_suite_are_pooled_on_the_cases_defined_the_same(store: Store) -> None:
    first = write_counts(store, SMALL, VARIANTS, 2, run_id="r1")
    # A later run of the suite with two new variants; its 'sep' has another expected answer.
    later = {case_id: [counts[0], counts[2]] for case_id, counts in SMALL.items()}
    write_counts(store, later, ["x", "y"], 2, run_id="r2", expected={"sep": "other"})
    write_counts(store, SMALL, VARIANTS, 2, run_id="r3", name="another suite")
    analysis = analyse_items(store, first)
    assert analysis.other_runs == ["r2"]
    assert any("pools this run with 1 other run" in note for note in analysis.notes)
    # By hand over five variants: this run's three and r2's two, r2's rated on the cases it shares.
    shared = [case_id for case_id in SMALL if case_id != "sep"]
    totals = [sum(SMALL[c][v] for c in SMALL) for v in range(3)]
    totals += [sum(later[c][v] for c in shared) for v in range(2)]
    for case_id in ("sep2", "rev", "flaky"):
        passes = SMALL[case_id] + later[case_id]
        rest = [(total - p) / (12 if v < 3 else 10) for v, (total, p) in enumerate(zip(totals, passes, strict=True))]
        assert analysis.item(case_id).discrimination_across_runs == pytest.approx(_textbook(passes, 2, rest))
    # 'sep' is another case in r2: only this run's variants count (its r2 rates are over the shared cases).
    rest = [(total - p) / 12 for total, p in zip(totals[:3], SMALL["sep"], strict=True)]
    assert analysis.item("sep").discrimination_across_runs == pytest.approx(_textbook(SMALL["sep"], 2, rest[:3]))
    data = items_to_dict(analysis)
    assert data["other_runs"] == ["r2"] and data["schema"] == "mendoza.items/1"


def test_the_json_carries_every_figure(store: Store) -> None:
    run_id = write_counts(store, SMALL, VARIANTS, 2, outputs=_paris)
    analysis = analyse_items(store, run_id)
    data = json.loads(json.dumps(items_to_dict(analysis), allow_nan=False))
    assert [case["case_id"] for case in data["cases"]] == [item.case_id for item in analysis.items]
    wrong = data["cases"][0]
    assert wrong["flags"] == ["suspect"] and wrong["common_output"] == "Paris" and wrong["same_output"] == 6
    assert wrong["difficulty"]["estimate"] == 0.0 and wrong["difficulty"]["counted"] == 6
    assert wrong["discrimination"] is None
    sep = next(case for case in data["cases"] if case["case_id"] == "sep")
    assert sep["discrimination"] == pytest.approx(analysis.item("sep").discrimination)
    assert sep["difficulty"]["low"] == pytest.approx(analysis.item("sep").difficulty.reliability.interval.low)
    assert data["suggestions"] == analysis.suggestions


# --- the subset -------------------------------------------------------------------------------------------------


def _synthetic(store: Store, seed: int = 0, *, name: str = "synthetic", draws_seed: int | None = None) -> str:
    """200 cases, 6 variants of increasing skill, 3 repeats (``items_factory.synthetic_counts``)."""
    passes, variants, truth = synthetic_counts(seed=seed)
    if draws_seed is not None:  # another run of the same benchmark: the same truth, new samples
        rng = np.random.default_rng(draws_seed)
        passes = {case_id: [int(x) for x in rng.binomial(3, truth[row])] for row, case_id in enumerate(passes)}
    return write_counts(store, passes, variants, 3, name=name)


def test_the_subset_beats_random_subsets_on_a_synthetic_benchmark(tmp_path: Path) -> None:
    """On the synthetic benchmark (seed 0) the stratified subset's held-out error (leave one variant out) is no
    worse than random subsets', and its true error (against the known pass probabilities) is smaller. One run's
    held-out figure is noisy (six variants, three repeats), so over five such benchmarks, each with a second run
    of it, the mean held-out errors (leave one variant out, and on the other run) are compared as well."""
    rows_of: list[tuple[float, float, float, float]] = []
    for seed in range(5):
        with Store(tmp_path / f"synthetic-{seed}.db") as store:
            run_id = _synthetic(store, seed)
            _synthetic(store, seed, draws_seed=seed + 1)
            report = choose_subset(store, run_id, 50, seed=0)
        assert len(report.case_ids) == 50 and report.candidates == 200
        by_variant, across = report.by_variant, report.across_runs
        assert by_variant is not None and across is not None
        assert len(by_variant.held_out) == 6 and len(across.held_out) == 6 and by_variant.draws == 200
        rows_of.append((by_variant.subset_mae, by_variant.random_mae, across.subset_mae, across.random_mae))
        print(
            f"\nseed {seed}: leave one variant out: subset {by_variant.subset_mae:.4f} vs random "
            f"{by_variant.random_mae:.4f} (noise floor {by_variant.noise_floor:.4f}); other run: subset "
            f"{across.subset_mae:.4f} vs random {across.random_mae:.4f} (noise floor {across.noise_floor:.4f})"
        )
        assert 0.01 < by_variant.noise_floor < by_variant.random_mae
        # The truth: each variant's pass probability averaged over the kept cases against over all 200.
        passes, _, truth = synthetic_counts(seed=seed)
        kept = [list(passes).index(case_id) for case_id in report.case_ids]
        true_error = np.abs(truth[kept].mean(axis=0) - truth.mean(axis=0)).mean()
        rng = np.random.default_rng(0)
        drawn = np.array([rng.choice(200, 50, replace=False) for _ in range(200)])
        random_error = np.abs(truth[drawn].mean(axis=1) - truth.mean(axis=0)).mean()
        print(f"seed {seed}: true error: subset {true_error:.4f} vs random {random_error:.4f}")
        assert true_error < random_error
        if seed == 0:
            assert by_variant.subset_mae <= by_variant.random_mae
            for held in by_variant.held_out:
                assert abs(held.subset_error) <= by_variant.subset_max + 1e-12 and 0 <= held.full_rate <= 1
            lines = subset_words(report)
            assert lines[1].startswith("  leave one variant out (6 variants): this subset ")
            assert "random subsets of 50" in lines[1] and lines[2].startswith("  other runs (6 variants of other runs)")
    means = np.mean(rows_of, axis=0)
    print(
        f"mean of 5: leave one variant out {means[0]:.4f} vs {means[1]:.4f}; "
        f"other run {means[2]:.4f} vs {means[3]:.4f}"
    )
    assert means[0] <= means[1] and means[2] <= means[3]


def test_the_subset_is_deterministic_and_writes_a_cases_file(store: Store, tmp_path: Path) -> None:
    run_id = _synthetic(store)
    report = choose_subset(store, run_id, 20)
    again = choose_subset(store, run_id, 20)
    assert report.case_ids == again.case_ids and report.by_variant == again.by_variant
    assert choose_subset(store, run_id, 20, seed=7).by_variant != report.by_variant  # other random draws
    rows = subset_cases(store, report)
    path = tmp_path / "kept.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    suite = store.runs.suite(run_id)
    assert load_cases_file(path) == [case for case in suite.cases if case.id in report.case_ids]
    data = subset_to_dict(report)
    assert data["schema"] == "mendoza.subset/1" and data["case_ids"] == list(report.case_ids)
    assert data["across_runs"] is None and data["leave_one_variant_out"]["draws"] == 200


def test_a_subset_must_keep_fewer_cases_than_the_run_has(store: Store) -> None:
    run_id = write_counts(store, SMALL, VARIANTS, 2)
    with pytest.raises(ConfigError, match=r"--keep 7: run .* has 7 cases with counted samples"):
        choose_subset(store, run_id, 7)
    report = choose_subset(store, run_id, 3)
    assert len(report.case_ids) == 3 and report.by_variant is not None


def test_a_one_variant_run_has_no_leave_one_out_check(store: Store) -> None:
    counts = {f"c{index}": [index % 3] for index in range(12)}
    run_id = write_counts(store, counts, ["only"], 2)
    report = choose_subset(store, run_id, 4)
    assert report.by_variant is None and report.across_runs is None
    assert any("No leave-one-variant-out check" in note for note in report.notes)
    assert "not measured" in subset_words(report)[1]


def test_a_run_without_samples(store: Store) -> None:
    run = store.runs.create(items_suite(["a", "b"], ["v"], 1))
    analysis = analyse_items(store, run.id)
    assert analysis.items == [] and analysis.suggestions == ["This run has no samples yet: nothing to analyse."]
    with pytest.raises(ConfigError, match="0 case"):
        choose_subset(store, run.id, 1)
