"""``mendoza design`` (issue 14): each policy replayed from a finished run's samples, checked against hand
computations on small synthetic runs; the refusal of reference-based checks; the coverage of the paired
bootstrap and of the reliability interval in a seeded simulation."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from mendoza.cli.main import cli
from mendoza.config.grader_specs import parse_grader_entry
from mendoza.core import Case, Grade, GraderSpec, HumanReview, Sample, Suite, Variant
from mendoza.errors import ConfigError
from mendoza.report import build_design, design_to_dict, design_to_html
from mendoza.report.design import evaluate_policies
from mendoza.report.policies import Check, Trial, audit, cascade, single, vote
from mendoza.store import Store

CORRECT = GraderSpec(type="contains", params={"value": "{{ expected }}"}, name="correct")
CHECK = GraderSpec(type="regex", params={"pattern": "^[A-Z]$"}, name="check", runtime=True)
HUMAN = HumanReview(cost=2.0, seconds=60.0)

# (variant, case, repeat): (correct, check passed, check score, errored, cost, latency ms, output)
ROWS = {
    ("a", "c1", 0): (True, True, 0.9, False, 0.01, 100.0, "A"),
    ("a", "c1", 1): (False, None, None, True, 0.0, 50.0, None),
    ("a", "c2", 0): (False, False, 0.2, False, 0.01, 100.0, "x"),
    ("a", "c2", 1): (False, True, 0.5, False, 0.01, 100.0, "B"),
    ("b", "c1", 0): (True, True, 0.8, False, 0.10, 1000.0, "A"),
    ("b", "c1", 1): (True, True, 0.7, False, 0.10, 1000.0, "A"),
    ("b", "c2", 0): (True, True, 0.9, False, 0.10, 1000.0, "B"),
    ("b", "c2", 1): (False, False, 0.1, False, 0.10, 1000.0, "y"),
}


def _suite(repeats: int = 2, human: HumanReview | None = HUMAN) -> Suite:
    return Suite(
        name="design",
        cases=(Case(id="c1", expected="A"), Case(id="c2", expected="B")),
        variants=(Variant(id="a", model="echo"), Variant(id="b", model="echo")),
        graders=(CORRECT, CHECK),
        repeats=repeats,
        human=human,
    )


def _write(store: Store) -> str:
    run = store.runs.create(_suite())
    samples = []
    for (variant, case, repeat), (correct, check, score, errored, cost, latency, output) in ROWS.items():
        grades = () if errored else (
            Grade("correct", correct, float(correct), grader_hash=CORRECT.definition_hash()),
            Grade("check", check, score, grader_hash=CHECK.definition_hash()),
        )
        samples.append(Sample(case, variant, repeat, "p", output, error="boom" if errored else None,
                              cost=cost, latency_ms=latency, grades=grades))
    store.samples.write(run.id, samples)
    return run.id


def _by_name(store: Store, run_id: str, **options: object) -> dict[str, object]:
    report = build_design(store, run_id, **options)  # type: ignore[arg-type]
    return {design.name: design for design in report.designs}


def test_single_fallback_cascades_and_human_review_match_hand_computations(store: Store) -> None:
    designs = _by_name(store, _write(store))
    expected = {
        # name: (reliability, cost per request, human share)
        "a": (0.25, 0.0075, 0.0),
        "b": (0.75, 0.10, 0.0),
        "a -> b (on error)": (0.5, (0.01 + 0.10 + 0.01 + 0.01) / 4, 0.0),
        "a -> b (on check)": (0.75, (0.01 + 0.10 + 0.11 + 0.01) / 4, 0.0),
        "a -> human (on check)": (0.75, (0.01 + 2.0 + 2.01 + 0.01) / 4, 0.5),
        "a -> b -> human (on check)": (0.75, (0.01 + 0.10 + 0.11 + 0.01) / 4, 0.0),
        "b -> human (on check)": (1.0, (0.1 + 0.1 + 0.1 + 2.1) / 4, 0.25),
        "a + human audit of 50%": (0.25 + 0.5 * 0.75, 0.0075 + 1.0, 0.5),
        "a person answers every request": (1.0, 2.0, 1.0),
    }
    for name, (rate, cost, human) in expected.items():
        design = designs[name]
        assert design.reliability.estimate == pytest.approx(rate), name  # type: ignore[attr-defined]
        assert design.cost == pytest.approx(cost), name  # type: ignore[attr-defined]
        assert design.human_share == pytest.approx(human), name  # type: ignore[attr-defined]
    review = designs["a -> human (on check)"]
    # latencies: 100; 50 + 60 s; 100 + 60 s; 100
    assert review.latency_p50_ms == pytest.approx((100 + 60_050) / 2)  # type: ignore[attr-defined]
    single_a = designs["a"]
    assert single_a.versus_best[0] == pytest.approx(-0.5)  # type: ignore[attr-defined]
    # The frontier: the best of 2 of b by the check (100% for $0.20, no person) beats b -> human (100% for
    # $0.60, a quarter to a person) and a person alone; a alone is the cheapest; a -> b on the check is 75%
    # for $0.0575, and a -> b -> human comes to the same figures, so only the simpler is on the frontier.
    frontier = {name for name, design in designs.items() if design.on_frontier}  # type: ignore[attr-defined]
    assert frontier == {"a", "a -> b (on check)", "best of 2 x a (by check)", "best of 2 x b (by check)"}


def test_the_single_variant_figure_is_the_reports_headline(store: Store) -> None:
    from mendoza.report import build_report

    run_id = _write(store)
    report = build_report(store, run_id)
    designs = _by_name(store, run_id)
    for variant in ("a", "b"):
        headline = report.variant(variant).rate.reliability.interval
        mine = designs[variant].reliability  # type: ignore[attr-defined]
        assert (mine.estimate, mine.low, mine.high) == pytest.approx((headline.estimate, headline.low, headline.high))


def _trial(ok: bool, output: str, score: float | None = None) -> Trial:
    return Trial(ok, False, output, 0.01, 100.0, {"check": Check(score is None or score >= 0.5, score)})


def _replay_rate(policy: object, trials: list[Trial]) -> tuple[float, float]:
    outcomes = policy.replay({"a": trials})  # type: ignore[attr-defined]
    return (sum(o.success for o in outcomes) / len(outcomes), sum(o.human for o in outcomes) / len(outcomes))


def test_the_vote_of_three_from_per_case_rates() -> None:
    # 3 of 5 samples say the right answer "A", 2 the same wrong "B": the majority of 3 drawn is right when at
    # least 2 of them are "A": (C(3,2) C(2,1) + C(3,3)) / C(5,3) = 7/10 (the hypergeometric majority).
    consistent = [_trial(True, "A"), _trial(False, "B"), _trial(True, " a "), _trial(False, "b"), _trial(True, "A")]
    assert _replay_rate(vote("a", 3), consistent)[0] == pytest.approx(
        (math.comb(3, 2) * math.comb(2, 1) + math.comb(3, 3)) / math.comb(5, 3)
    )
    # One right answer among four different wrong ones: no majority, the earliest answer wins the tie, so the
    # vote is right exactly when the first repeat is drawn: C(4,2) / C(5,3) = 6/10.
    scattered = [_trial(True, "A"), _trial(False, "W"), _trial(False, "X"), _trial(False, "Y"), _trial(False, "Z")]
    assert _replay_rate(vote("a", 3), scattered)[0] == pytest.approx(0.6)
    # With a person whenever the three disagree: always right; a person sees all but the unanimous draws.
    rate, human = _replay_rate(vote("a", 3, HUMAN), consistent)
    assert rate == pytest.approx(1.0) and human == pytest.approx(1 - 1 / 10)  # only A,A,A is unanimous
    assert _replay_rate(vote("a", 3, HUMAN), scattered) == pytest.approx((1.0, 1.0))


def test_the_cascade_to_a_person_with_a_sweep_of_the_threshold() -> None:
    # scores 0.2 (wrong), 0.4 (right), 0.6 (wrong), 0.8 (right): below t goes to a person (always right).
    trials = [_trial(False, "x", 0.2), _trial(True, "A", 0.4), _trial(False, "y", 0.6), _trial(True, "A", 0.8)]
    table = {"a": {"c1": trials[:2], "c2": trials[2:]}}
    by_threshold = {}
    for threshold in (0.1, 0.3, 0.5, 0.7, 0.9):
        policy = cascade("a", (), "check", HUMAN, threshold)
        (design,) = evaluate_policies([policy], table, 0.95, (0.6, 0.9, 0.99))
        by_threshold[threshold] = (design.reliability.estimate, design.human_share)
    assert by_threshold == {
        0.1: (0.5, 0.0),     # nothing escalated: 2 of 4 right
        0.3: (0.75, 0.25),   # 0.2 escalated: fixed
        0.5: (0.75, 0.5),    # 0.2 and 0.4 escalated: 0.4 was right anyway
        0.7: (1.0, 0.75),    # 0.6 too
        0.9: (1.0, 1.0),
    }


def test_designs_need_enough_repeats_for_a_vote_and_say_so(store: Store) -> None:
    report = build_design(store, _write(store))
    assert not any(design.kind == "vote" for design in report.designs)  # 2 repeats: no vote of 3
    assert any("at least 3 repeats" in note for note in report.notes)


def test_a_reference_based_check_is_refused(store: Store, tmp_path: Path) -> None:
    run_id = _write(store)
    with pytest.raises(ConfigError, match="cannot be a run-time check: its parameters read the case's 'expected'"):
        build_design(store, run_id, checks=["correct"])
    with pytest.raises(ConfigError, match="cannot be a run-time check"):
        parse_grader_entry({"equals": "{{ expected }}", "runtime": True}, 0)
    with pytest.raises(ConfigError, match="a rubric grader is a judgement"):
        parse_grader_entry({"type": "rubric", "criteria": ["polite"], "runtime": True}, 0)
    with pytest.raises(ConfigError, match="'runtime' must be true or false"):
        parse_grader_entry({"contains": "x", "runtime": "yes"}, 0)
    assert parse_grader_entry({"regex": "^[a-z]+$", "runtime": True}, 0).runtime is True
    # The flag changes no verdict, so not the grader's definition hash.
    plain = parse_grader_entry({"regex": "^[a-z]+$"}, 0)
    assert plain.definition_hash() == parse_grader_entry({"regex": "^[a-z]+$", "runtime": True}, 0).definition_hash()


def test_the_recommendation_for_a_target(store: Store) -> None:
    run_id = _write(store)
    report = build_design(store, run_id, target=0.7)
    assert report.recommended is not None and report.reach in ("shown", "estimate")
    assert report.recommended.reliability.estimate >= 0.7
    cheaper = [d for d in report.designs if d.reliability.estimate >= 0.7 and d.cost < report.recommended.cost]
    if report.reach == "estimate":
        assert not cheaper
    none = build_design(store, run_id, target=0.999, checks=())
    assert none.recommended is None or none.recommended.reliability.estimate >= 0.999


def test_cli_json_and_html(store: Store, tmp_path: Path) -> None:
    run_id = _write(store)
    page = tmp_path / "design.html"
    result = CliRunner().invoke(
        cli, ["design", run_id, "--db", str(store.path), "--target", "0.7", "--json", "--html", str(page)]
    )
    assert result.exit_code == 0, result.output
    import json

    data = json.loads(result.output)
    assert data["schema"] == "mendoza.design/1" and data["checks"] == ["check"]
    assert {"a", "b", "a -> b (on check)"} <= {design["name"] for design in data["designs"]}
    assert data["recommendation"]
    text = page.read_text(encoding="utf-8")
    assert "<svg" in text and "a -&gt; b (on check)" in text
    shown = CliRunner().invoke(cli, ["design", run_id, "--db", str(store.path), "--target", "0.7"],
                               terminal_width=200)
    assert shown.exit_code == 0 and "the frontier" in shown.output
    assert design_to_dict(build_design(store, run_id))["target"] is None
    assert "<script" not in design_to_html(build_design(store, run_id))


def _simulate(rng: random.Random, cases: int, repeats: int) -> dict[str, dict[str, list[Trial]]]:
    table: dict[str, list[Trial]] = {}
    for case in range(cases):
        p = rng.betavariate(2, 2)
        table[f"c{case}"] = [_trial(rng.random() < p, "o") for _ in range(repeats)]
    return {"a": table}


def test_coverage_of_the_paired_bootstrap_and_of_the_reliability_interval() -> None:
    """Seeded simulation: cases with rates drawn from Beta(2, 2) (mean 0.5), 3 repeats each; a person audits
    half of the outputs, so the audit's true gain over the variant alone is 0.5 x (1 - 0.5) = 0.25. Over 300
    runs of 40 cases, how often do the intervals hold the truth? (Nominal: 95%.)"""
    rng = random.Random(14)
    paired = covered = 0
    runs = 300
    for index in range(runs):
        table = _simulate(rng, cases=40, repeats=3)
        plain, audited = evaluate_policies([single("a"), audit("a", 0.5, HUMAN)], table, 0.95,
                                           (0.6, 0.9, 0.99), seed=index)
        _, low, high = audited.versus_best
        paired += low <= 0.25 <= high
        covered += plain.reliability.low <= 0.5 <= plain.reliability.high
    print(f"coverage: paired bootstrap {paired / runs:.3f}, reliability interval {covered / runs:.3f}")
    assert 0.90 <= paired / runs <= 0.99
    assert 0.92 <= covered / runs <= 0.99


def test_a_run_without_samples_has_no_designs_and_no_crash(store: Store) -> None:
    run = store.runs.create(_suite())
    report = build_design(store, run.id, target=0.9)
    assert report.designs == [] and report.recommended is None
    assert "no design in reach" in design_to_dict(report)["recommendation"]
