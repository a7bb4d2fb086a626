"""The judge section of a report: noise across judge repeats, agreement between judges, trust and warnings."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from mendoza import registry
from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec
from mendoza.graders import GraderParams, JudgeDetail, JudgeGrader, Verdict
from mendoza.graders.judged import JudgeCriterion, JudgeRun, JudgeVote
from mendoza.report import build_judge_report, build_report
from mendoza.soft import label_queue, record_label
from mendoza.stats import cohen_kappa
from mendoza.store import Store
from tests.soft_suites import J, rubric_spec, soft_suite


def test_no_judge_no_section(tmp_path: Path) -> None:
    with Store(tmp_path / "m.db") as store:
        run = run_suite(soft_suite(), db=store)
        assert build_judge_report(store, run.id) is None and build_report(store, run.id).judges is None


def test_noise_of_a_judge_that_flips(tmp_path: Path) -> None:
    noisy = rubric_spec({"model": "mock", "params": {"outputs": ["PASS", "FAIL", "PASS"]}}, judge_repeats=3,
                        combine="mean", threshold=0.5)
    with Store(tmp_path / "m.db") as store:
        run = run_suite(soft_suite((noisy,)), db=store)
        report = build_judge_report(store, run.id)
        assert report is not None
        rows = {row.variant_id: row for row in report.noise}
        assert set(rows) == {"app", "chatty"}
        grades = store.grades.current(run.id)
        for variant_id, row in rows.items():
            mine = [g for g in grades if g.variant_id == variant_id]
            flipped = sum(1 for g in mine if len({r["passed"] for r in g.detail["runs"]}) > 1)  # type: ignore[index]
            assert row.samples == row.repeated == 12 and row.flipped == flipped and row.answers == 36
            assert row.variance.within_sample > 0.0 and 0.0 <= row.variance.judge_share <= 1.0
        assert report.trust[0].status == "unmeasured" and "unmeasured" in report.warnings[0]


def test_agreement_between_two_judges_and_trust(tmp_path: Path) -> None:
    pair = rubric_spec(judges=[f"{J}:good_word", {"model": "mock", "name": "lenient", "params": {"output": "PASS"}}])
    pair = pair.model_copy(update={"params": {k: v for k, v in pair.params.items() if k != "judge"}})
    with Store(tmp_path / "m.db") as store:
        run = run_suite(soft_suite((pair,)), db=store)
        report = build_judge_report(store, run.id)
        assert report is not None
        overall = next(row for row in report.agreement if row.criterion == "*")
        assert (overall.judge_a, overall.judge_b, overall.n) == (f"{J}:good_word", "lenient", 24)
        word_judge = [g.case_id.startswith("g") or g.variant_id == "chatty" for g in store.grades.current(run.id)]
        assert overall.agreement == sum(word_judge) / 24
        assert overall.kappa == cohen_kappa(word_judge, [True] * 24)  # nan: the lenient judge never fails
        # the pair passes by majority only when both pass; label 12 samples exactly as the grader decided
        for grade in store.grades.current(run.id)[:12]:
            record_label(store, grade.sample_id, passed=bool(grade.passed), author="t")
        trust = build_judge_report(store, run.id).trust[0]  # type: ignore[union-attr]
        assert trust.labelled == 12 and trust.agreement == 1.0
        assert trust.status == ("good" if trust.kappa == trust.kappa else "unmeasured")


def test_poor_agreement_is_a_warning(tmp_path: Path) -> None:
    with Store(tmp_path / "m.db") as store:
        run = run_suite(soft_suite((rubric_spec(),)), db=store)
        for grade in store.grades.current(run.id):
            record_label(store, grade.sample_id, passed=not grade.passed, author="t")  # a person who disagrees
        report = build_report(store, run.id).judges
        assert report is not None and report.trust[0].status == "poor"
        kappa = report.trust[0].kappa
        assert kappa < 0 and "poor" in report.warnings[0] and f"kappa {kappa:.2f} < 0.6" in report.warnings[0]


class CoinJudge(JudgeGrader):
    """A judge-style grader that the rest of mendoza has never heard of: two scripted judges, a strict one (PASS
    when the output says 'good') and a lenient one (always PASS); the strict one decides."""

    name = "coin_judge"
    description = "Two scripted judges, one strict and one lenient."
    shorthand = None

    class Params(GraderParams):
        """No parameters."""

    def grade(self, output: str, case: Case) -> Verdict:
        strict = "good" in output
        votes = (JudgeVote(0, float(strict), 1), JudgeVote(1, 1.0, 1))
        detail = JudgeDetail(
            judges=("strict", "lenient"),
            score=float(strict),
            threshold=None,
            agreement=1.0 if strict else 0.5,
            criteria=(JudgeCriterion("says good", float(strict), None, 0.5, votes),),
            runs=(JudgeRun(0, 0, float(strict), strict), JudgeRun(1, 0, 1.0, True)),
        )
        return Verdict(strict, float(strict), "strict judge decides", detail.to_json())


@pytest.fixture
def coin_judge_plugin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``coin_judge`` registered as a plugin through its entry point, as a third-party package would."""
    entry = EntryPoint("coin_judge", f"{__name__}:CoinJudge", registry.GRADER_GROUP)
    real = registry.entry_points
    monkeypatch.setattr(
        registry, "entry_points", lambda group: [entry] if group == registry.GRADER_GROUP else real(group=group)
    )
    registry._table.cache_clear()
    registry.grader_class.cache_clear()
    yield
    registry._table.cache_clear()
    registry.grader_class.cache_clear()


def test_a_new_judge_style_grader_is_in_the_judge_report_and_label_queue(
    tmp_path: Path, coin_judge_plugin: None
) -> None:
    with Store(tmp_path / "m.db") as store:
        run = run_suite(soft_suite((GraderSpec(type="coin_judge", name="coin"),)), db=store)
        grades = store.grades.current(run.id)
        assert len(grades) == 24 and all(g.error is None for g in grades)
        report = build_judge_report(store, run.id)
        assert report is not None
        assert [(t.grader, t.judges, t.status) for t in report.trust] == [("coin", ["strict", "lenient"], "unmeasured")]
        noise = {(row.variant_id, row.judge): row for row in report.noise}
        assert set(noise) == {(v, j) for v in ("app", "chatty") for j in ("strict", "lenient")}
        assert all(row.samples == 12 and row.answers == 12 and row.flipped == 0 for row in noise.values())
        overall = next(row for row in report.agreement if row.criterion == "*")
        strict = [bool(g.passed) for g in grades]
        assert (overall.grader, overall.judge_a, overall.judge_b, overall.n) == ("coin", "strict", "lenient", 24)
        assert overall.agreement == sum(strict) / 24 < 1.0
        split = {g.sample_id for g in grades if not g.passed}
        queue = label_queue(store, run.id)
        assert split and {item.sample_id for item in queue[: len(split)]} == split
        assert all(item.reason == "judges disagree" for item in queue[: len(split)])
