"""mendoza.soft: regrading stored outputs without calling the model under test, pairwise judging, and the
label queue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mendoza.api import run_suite
from mendoza.core import GraderSpec
from mendoza.errors import ConfigError
from mendoza.report import build_report, rank_variants
from mendoza.runner import GradeOptions
from mendoza.soft import judge_run_pairs, label_queue, parse_grader_option, record_label, regrade_run
from mendoza.store import Store
from tests.graders import judges
from tests.soft_suites import J, rubric_spec, soft_suite


@pytest.fixture
def ran(tmp_path: Path) -> Iterator[tuple[Store, str]]:
    store = Store(tmp_path / "m.db")
    run = run_suite(soft_suite(), db=store)
    judges.reset()
    yield store, run.id
    store.close()


@pytest.fixture
def no_model_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any call to the model under test fails the test: the python app and the mock provider raise."""
    from mendoza.providers.mock import MockProvider
    from mendoza.providers.python_callable import PythonProvider

    async def forbidden(self: Any, request: Any) -> Any:
        raise AssertionError(f"the model under test was called: {self.variant.id}")

    monkeypatch.setattr(MockProvider, "complete", forbidden)
    original = PythonProvider.complete

    async def judges_only(self: Any, request: Any) -> Any:
        if not self.variant.id.startswith("judge "):
            raise AssertionError(f"the model under test was called: {self.variant.id}")
        return await original(self, request)

    monkeypatch.setattr(PythonProvider, "complete", judges_only)


def test_a_regrade_never_calls_the_model_under_test(ran: tuple[Store, str], no_model_calls: None) -> None:
    store, run_id = ran
    result = regrade_run(store, run_id, graders=[rubric_spec()])
    assert judges.APP_CALLS == []  # the app under test was not called...
    assert len(judges.PROMPTS) == 24  # ...but the judge graded all 24 stored outputs
    assert result.samples.written == 24 and result.samples.errors == 0
    assert [spec.name for spec in result.grader_set] == ["says-good", "helpful"] and result.revision == 1


def test_old_and_new_verdicts_sit_side_by_side_and_the_latest_definition_counts(ran: tuple[Store, str]) -> None:
    store, run_id = ran
    before = {c.variant_id: c.passed for c in store.samples.variant_counts(run_id)}
    assert before == {"app": 8, "chatty": 12}
    changed = soft_suite((GraderSpec(type="contains", params={"value": "answer about g"}, name="says-good"),))
    result = regrade_run(store, run_id, suite=changed)
    assert result.samples.written == 24
    sample = next(s for s in store.samples.iterate(run_id) if s.variant_id == "chatty" and s.case_id == "bad")
    hashes = {grade.grader_hash for grade in sample.grades if grade.grader == "says-good"}
    assert len(hashes) == 2  # the old definition's grade and the new one's
    after = {c.variant_id: c.passed for c in store.samples.variant_counts(run_id)}
    assert after == {"app": 8, "chatty": 8}  # only the words starting with g pass now, in both variants
    report = build_report(store, run_id)
    assert report.variant("chatty").passed == 8
    current = store.grades.current(run_id)
    assert {g.grader_hash for g in current} == {changed.graders[0].definition_hash()}


def test_an_unchanged_regrade_skips_what_is_stored_unless_forced(ran: tuple[Store, str]) -> None:
    store, run_id = ran
    first = regrade_run(store, run_id, graders=[rubric_spec()])
    again = regrade_run(store, run_id, graders=["helpful"])
    assert first.samples.written == 24 and again.samples.written == 0 and again.samples.skipped == 24
    assert again.revision == first.revision  # same definitions: no new revision
    forced = regrade_run(store, run_id, graders=["helpful"], options=GradeOptions(force=True))
    assert forced.samples.written == 24


def test_errored_judge_grades_are_retried_by_a_plain_regrade(ran: tuple[Store, str]) -> None:
    store, run_id = ran
    broken = rubric_spec({"model": "mock", "params": {"output": "no idea"}}, max_reasks=0)
    result = regrade_run(store, run_id, graders=[broken])
    assert result.samples.errors == 24
    assert all(c.passed == 0 and c.undecided == 12 for c in store.samples.variant_counts(run_id))
    retried = regrade_run(store, run_id, graders=["helpful"])
    assert retried.samples.written == 24 and retried.samples.skipped == 0


def test_bad_regrades_are_config_errors(ran: tuple[Store, str]) -> None:
    store, run_id = ran
    with pytest.raises(ConfigError, match="no grader named 'nope'"):
        regrade_run(store, run_id, graders=["nope"])
    store.runs.set_status(run_id, "interrupted")
    with pytest.raises(ConfigError, match="finish it first"):
        regrade_run(store, run_id, graders=[rubric_spec()])


def test_grader_options_are_names_or_inline_yaml() -> None:
    assert parse_grader_option("helpful") == "helpful"
    spec = parse_grader_option("contains: refund")
    assert isinstance(spec, GraderSpec) and spec.type == "contains" and spec.params == {"value": "refund"}
    with pytest.raises(ConfigError, match="invalid YAML"):
        parse_grader_option("{contains: [")


def test_pairwise_judging_then_ranking(ran: tuple[Store, str], no_model_calls: None) -> None:
    store, run_id = ran
    with pytest.raises(ConfigError, match="no pairwise grader"):
        judge_run_pairs(store, run_id)
    spec = GraderSpec(type="pairwise", params={"judge": f"{J}:prefers_longer"}, name="longer")
    result = regrade_run(store, run_id, graders=[spec])
    assert result.pairs.written == 12 and result.pairs.errors == 0  # 6 cases x 2 repeats, one pair of variants
    assert len(judges.PROMPTS) == 24  # each pair in both orders
    _, again = judge_run_pairs(store, run_id)
    assert again.written == 0 and again.skipped == 12
    assert {c.variant_id: c.passed for c in store.samples.variant_counts(run_id)} == {
        "app": 8,
        "chatty": 12,
    }  # unchanged
    ranking = rank_variants(store, run_id, n_boot=50)
    assert [rating.variant_id for rating in ranking.ratings] == ["chatty", "app"]
    assert ranking.ratings[0].wins == 12 and ranking.inconsistent == 0
    assert "no finite maximum-likelihood rating" in " ".join(ranking.notes)
    assert ranking.ratings[0].rating.estimate > ranking.ratings[1].rating.estimate


def test_label_queue_puts_split_judges_first(tmp_path: Path) -> None:
    noisy = rubric_spec({"model": "mock", "params": {"outputs": ["PASS", "FAIL", "PASS"]}}, judge_repeats=2)
    with Store(tmp_path / "q.db") as store:
        run = run_suite(soft_suite((noisy,)), db=store)
        queue = label_queue(store, run.id)
        assert len(queue) == 24 and len({item.sample_id for item in queue}) == 24
        split = {g.sample_id for g in store.grades.current(run.id) if g.detail and g.detail["agreement"] < 1}
        assert split, "the scripted judge should split on some samples"
        assert {item.sample_id for item in queue[: len(split)]} == split
        assert all(item.reason == "judges disagree" for item in queue[: len(split)])
        record_label(store, queue[0].sample_id, passed=True, author="t")
        assert queue[0].sample_id not in {item.sample_id for item in label_queue(store, run.id)}
        shuffled = label_queue(store, run.id, order="random", seed=3)
        assert len(shuffled) == 23 and all(item.reason == "random sample" for item in shuffled)
        assert shuffled == label_queue(store, run.id, order="random", seed=3)
        only_app = label_queue(store, run.id, variant_ids=["app"])
        assert {store.browse.sample(item.sample_id).variant_id for item in only_app} == {"app"}  # type: ignore[union-attr]
        assert len(only_app) in (11, 12)
