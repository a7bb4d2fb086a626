"""Drafting a rubric from a run's labels (``mendoza.soft.rubric_draft``, ``api.draft_rubric``): the seeded split
stratified by verdict, the refusal when labels are too few, the criteria read from the model's answer with
re-asks, the held-out grades kept out of the run, and kappa on the held-out labels against a hand computation.
A scripted drafting model and judge answer (``tests/soft/rubric_fakes.py``)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from mendoza import api
from mendoza.config.grader_specs import parse_grader_entry
from mendoza.errors import ConfigError
from mendoza.providers.app_models import AppModel
from mendoza.providers.json_answers import AnswerInvalid
from mendoza.soft.rubric_draft import (
    MAX_CRITERIA,
    MIN_EACH,
    PROMPT_CHARS,
    draft_prompt,
    drafted_entry,
    parse_criteria,
    split_labels,
)
from mendoza.store import LabelledOutput, Store
from tests.soft import rubric_fakes
from tests.soft.rubric_fakes import FAKES, REPLIES, labelled_run

GOOD = '["The reply says \'good answer\'"]'


def _labelled(passes: int, failures: int) -> list[LabelledOutput]:
    return [
        LabelledOutput(number, "v", f"c{number}", 0, f"output {number}", number < passes, f"note {number}")
        for number in range(passes + failures)
    ]


@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The drafting model's answers by attempt (a valid one unless a test sets them)."""
    answers = [GOOD]
    monkeypatch.setattr(rubric_fakes, "SCRIPT", answers)
    rubric_fakes.PROMPTS.clear()
    yield answers


def _draft(db: Path, **options: Any) -> api.DraftedRubric:
    chosen: dict[str, Any] = {"model": f"{FAKES}:drafter", "judge": f"{FAKES}:quoted_words", **options}
    with Store(db, readonly=True) as store:
        return api.draft_rubric(store, "latest", **chosen)


# --- the split -------------------------------------------------------------------------------------------


def test_the_split_is_stratified_by_verdict_and_the_same_for_the_same_seed() -> None:
    labelled = _labelled(passes=9, failures=5)
    split = split_labels(labelled, 0.5, seed=3)
    assert split.counts(split.held_out) == (4, 2)  # round(4.5) = 4 passes; round(2.5) = 2 failures, both halves
    assert split.counts(split.drafting) == (5, 3)
    assert sorted(item.sample_id for item in split.drafting + split.held_out) == list(range(14))
    again = split_labels(list(reversed(labelled)), 0.5, seed=3)  # the order the store gives does not matter...
    assert [i.sample_id for i in again.held_out] != [] and again.counts(again.held_out) == (4, 2)
    assert split_labels(labelled, 0.5, seed=3) == split  # ...the seed decides
    others = {tuple(item.sample_id for item in split_labels(labelled, 0.5, seed=s).held_out) for s in range(8)}
    assert len(others) > 1


def test_each_half_keeps_at_least_two_of_each_verdict_whatever_the_share() -> None:
    labelled = _labelled(passes=10, failures=4)
    small = split_labels(labelled, 0.05, seed=0)
    assert small.counts(small.held_out) == (MIN_EACH, MIN_EACH)
    large = split_labels(labelled, 0.95, seed=0)
    assert large.counts(large.drafting) == (MIN_EACH, MIN_EACH)


def test_a_cases_repeats_and_variants_stay_in_one_half() -> None:
    labelled = [
        LabelledOutput(10 * case + repeat, variant, f"c{case}", repeat, "out", case < 5, "")
        for case in range(10) for variant in ("a", "b") for repeat in range(2)
    ]
    for seed in range(6):
        split = split_labels(labelled, 0.5, seed=seed)
        drafted = {item.case_id for item in split.drafting}
        checked = {item.case_id for item in split.held_out}
        assert drafted and checked and not drafted & checked
        assert len(split.drafting) + len(split.held_out) == len(labelled)


def test_labels_in_too_few_cases_to_split_by_case_are_refused_in_one_line() -> None:
    one_case_each = [
        LabelledOutput(n, "v", "pass-case" if n < 5 else "fail-case", n, "o", n < 5, "") for n in range(10)
    ]
    with pytest.raises(ConfigError, match=r"split by case, the .* half has") as refused:
        split_labels(one_case_each, 0.5, seed=0, run_id="r1")
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(("passes", "failures"), [(3, 9), (9, 3), (0, 0)])
def test_too_few_labels_of_a_verdict_are_refused_saying_how_many_are_needed(passes: int, failures: int) -> None:
    with pytest.raises(ConfigError) as refused:
        split_labels(_labelled(passes, failures), 0.5, seed=0, run_id="r1")
    message = str(refused.value)
    assert f"{passes} labelled passes and {failures} labelled failures" in message
    assert "needs at least 4 of each (2 to draft from and 2 to check on)" in message
    assert "mendoza label r1" in message and "\n" not in message


@pytest.mark.parametrize("share", [0.0, 1.0, -0.5, 1.5])
def test_the_held_out_share_must_be_strictly_between_0_and_1(share: float) -> None:
    with pytest.raises(ConfigError, match="strictly between 0 and 1"):
        split_labels(_labelled(5, 5), share, seed=0)


# --- the prompt and the answer ---------------------------------------------------------------------------


def test_the_prompt_shows_verdicts_notes_and_current_criteria_alternating_passes_and_failures() -> None:
    labelled = _labelled(passes=3, failures=2)
    prompt = draft_prompt(labelled, {}, description="Answer tickets.", current=["The reply is polite"])
    assert "What the feature does: Answer tickets." in prompt and "- The reply is polite" in prompt
    verdicts = [line.split(": ")[1] for line in prompt.splitlines() if line.startswith("Example ")]
    assert verdicts == ["PASS", "FAIL", "PASS", "FAIL", "PASS"]
    assert "Note: note 4" in prompt and "Output: output 0" in prompt
    assert 'like ["<a criterion>", "<another criterion>"], with your criteria in place' in prompt


def test_the_prompt_stops_showing_examples_at_its_budget_but_shows_both_verdicts() -> None:
    long = [item._replace(output="x" * 5000) for item in _labelled(passes=30, failures=30)]
    prompt = draft_prompt(long, {})
    assert len(prompt) <= PROMPT_CHARS + 500  # the first example of each verdict is always shown
    assert "Example 1: PASS" in prompt and "Example 2: FAIL" in prompt
    assert prompt.count("Example ") < 60


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("I would check politeness.", "no JSON array"),
        ('["a", "b",]', "not valid JSON"),
        ("[]", "empty JSON array"),
        ('[{"criterion": "polite"}]', "criterion 1 is a dict, not a string"),
        ('["polite", "   "]', "criterion 2 is empty"),
        ('["The reply names {{ vars.customer }}"]', "criterion 1 holds template braces"),
        ('["It is short", "<another criterion>"]', "criterion 2 is a placeholder of the format"),
        ('["' + "x" * 301 + '"]', "longer than 300 characters"),
        (str([f"criterion {n}" for n in range(MAX_CRITERIA + 1)]).replace("'", '"'), "at most 6 are wanted"),
    ],
)
def test_an_invalid_answer_is_refused_with_the_reason(answer: str, reason: str) -> None:
    with pytest.raises(AnswerInvalid) as refused:
        parse_criteria(answer)
    assert reason in str(refused.value)


def test_criteria_are_read_from_a_fenced_block_with_repeats_dropped() -> None:
    answer = 'Here:\n```json\n["The reply is  polite", "the reply is polite", "It answers"]\n```'
    assert parse_criteria(answer) == ["The reply is polite", "It answers"]


# --- drafting, re-asks and the held-out half -------------------------------------------------------------


def test_kappa_on_the_held_out_half_matches_a_hand_computation(tmp_path: Path, script: list[str]) -> None:
    db = tmp_path / "m.db"
    labelled_run(db)
    drafted = _draft(db, seed=0)
    held = drafted.draft.split.held_out
    assert len(held) == 4 and drafted.calibration.labelled == 4
    # By hand: the judge passes an output that says 'good answer'; Cohen's kappa = (po - pe) / (1 - pe).
    pairs = [(item.human, "good answer" in REPLIES[item.case_id][0]) for item in held]
    n = len(pairs)
    agree = sum(human == judge for human, judge in pairs) / n
    human_pass = sum(human for human, _ in pairs) / n
    judge_pass = sum(judge for _, judge in pairs) / n
    chance = human_pass * judge_pass + (1 - human_pass) * (1 - judge_pass)
    kappa = (agree - chance) / (1 - chance)
    assert drafted.calibration.agreement == pytest.approx(agree)
    assert drafted.calibration.kappa.estimate == pytest.approx(kappa)
    assert (agree, kappa) == (0.75, 0.5)  # seed 0 holds out c5, a failure that says 'good answer'
    assert drafted.verdict.status == "unmeasured" and "4 labels are too few" in drafted.verdict.reason


def test_invalid_answers_are_asked_again_and_the_provenance_says_so(tmp_path: Path, script: list[str]) -> None:
    db = tmp_path / "m.db"
    labelled_run(db)
    script[:] = ["Criteria: be good.", '[{"c": 1}]', GOOD]
    drafted = _draft(db, seed=0)
    answer = drafted.draft.answer
    assert answer.value == ["The reply says 'good answer'"]
    assert (answer.attempts, answer.seed) == (3, 2)
    assert answer.rejected == ["the answer holds no JSON array", "criterion 1 is a dict, not a string"]
    assert "refused: criterion 1 is a dict" in rubric_fakes.PROMPTS[2]
    assert f"prompt sha256 {answer.prompt_sha256}, seed 2, 3 ask(s)" in drafted.yaml


def test_drafting_gives_up_after_three_reasks_in_one_line(tmp_path: Path, script: list[str]) -> None:
    db = tmp_path / "m.db"
    labelled_run(db)
    script[:] = ["no"]
    kept = tmp_path / "held.db"
    with pytest.raises(AnswerInvalid) as refused:
        _draft(db, held_out_db=kept)
    assert str(refused.value) == (
        f"{FAKES}:drafter gave no valid criteria after 3 re-asks; the last answer: the answer holds no JSON array"
    )
    assert len(rubric_fakes.PROMPTS) == 4 and not kept.exists()


def test_the_run_is_left_as_it_was_and_the_held_out_grades_are_kept_apart(tmp_path: Path, script: list[str]) -> None:
    db, kept = tmp_path / "m.db", tmp_path / "held.db"
    run_id = labelled_run(db)
    with Store(db) as store:
        before = (store.grades.version(), store.grades.grader_set(run_id), store.labels.verdicts(run_id))
    drafted = _draft(db, held_out_db=kept)
    with Store(db) as store:
        assert (store.grades.version(), store.grades.grader_set(run_id), store.labels.verdicts(run_id)) == before
    with Store(kept, readonly=True) as scratch:
        assert [spec.name for spec in scratch.grades.grader_set(run_id)] == [drafted.draft.spec.name]
        labelled = scratch.labels.labelled_outputs(run_id)
        assert sorted(item.case_id for item in labelled) == sorted(i.case_id for i in drafted.draft.split.held_out)
        assert {item.note for item in labelled} <= {note for _, _, note in REPLIES.values()}
        assert len(scratch.grades.current(run_id, drafted.draft.spec.name)) == 4
    with pytest.raises(ConfigError, match="already exists"):
        _draft(db, held_out_db=kept)


def test_too_few_labels_are_refused_before_any_model_is_asked(tmp_path: Path, script: list[str]) -> None:
    db = tmp_path / "m.db"
    labelled_run(db, labels=7)  # c8 unlabelled: 3 failures
    with pytest.raises(ConfigError, match="4 labelled passes and 3 labelled failures"):
        _draft(db)
    assert rubric_fakes.PROMPTS == []


# --- the drafted grader ----------------------------------------------------------------------------------


def test_the_draft_builds_on_the_runs_rubric_with_its_judge_as_the_drafting_model(
    tmp_path: Path, script: list[str]
) -> None:
    db = tmp_path / "m.db"
    base = parse_grader_entry({"type": "rubric", "name": "helpful", "criteria": ["The reply helps"],
                               "threshold": 0.5, "judge": f"{FAKES}:drafter_and_judge", "judge_repeats": 2}, 0)
    labelled_run(db, graders=(base,))
    with Store(db, readonly=True) as store:
        drafted = api.draft_rubric(store, "latest")
    draft = drafted.draft
    assert draft.base is not None and draft.base.name == "helpful"
    assert draft.answer.model == f"{FAKES}:drafter_and_judge"
    assert "The criteria in use now (write better ones):\n- The reply helps" in rubric_fakes.PROMPTS[0]
    assert draft.entry == {"type": "rubric", "name": draft.spec.name, "criteria": ["The reply says 'good answer'"],
                           "judge": f"{FAKES}:drafter_and_judge", "judge_repeats": 2}
    assert drafted.calibration.judges == [f"{FAKES}:drafter_and_judge"]
    assert math.isclose(drafted.calibration.kappa.estimate, 0.5)


def test_the_yaml_is_a_suite_grader_entry_with_the_provenance_as_comments(tmp_path: Path, script: list[str]) -> None:
    db = tmp_path / "m.db"
    labelled_run(db)
    drafted = _draft(db)
    comments = [line for line in drafted.yaml.splitlines() if line.startswith("#")]
    assert len(comments) == 3
    assert "(2 passes, 2 failures to draft from)" in comments[0]
    assert f"model {FAKES}:drafter, prompt sha256 {drafted.draft.answer.prompt_sha256}, seed 0" in comments[1]
    assert "held out: 4 labels, agreement 75%, Cohen's kappa 0.50 [" in comments[2]
    (entry,) = yaml.safe_load(drafted.yaml)
    assert parse_grader_entry(entry, 0) == drafted.draft.spec
    assert entry["name"].startswith("drafted-rubric-") and len(entry["name"]) == len("drafted-rubric-") + 8


def test_a_judge_given_replaces_the_base_graders_judges() -> None:
    base = parse_grader_entry({"type": "rubric", "name": "helpful", "criteria": ["x"],
                               "judges": ["mock", "mock/b"], "judge_repeats": 3}, 0)
    entry = drafted_entry(["The reply helps"], base, "openai/gpt-4o-mini", "local/gemma-3-270m")
    assert entry["judge"] == "openai/gpt-4o-mini" and "judges" not in entry and entry["judge_repeats"] == 3
    assert drafted_entry(["a"], None, None, "mock")["judge"] == "mock"
    assert "judge" not in drafted_entry(["a"], base.model_copy(update={"params": {"criteria": ["x"]}}), None, "m")


def test_a_named_grader_must_be_a_rubric_of_the_run(tmp_path: Path, script: list[str]) -> None:
    db = tmp_path / "m.db"
    labelled_run(db)
    with pytest.raises(ConfigError, match=r"no grader 'helpful' in run .* \(graders: says-good\)"):
        _draft(db, grader="helpful")
    with pytest.raises(ConfigError, match="'says-good' is a contains grader"):
        _draft(db, grader="says-good")


def test_the_embedded_model_drafts_by_default(
    tmp_path: Path, script: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "m.db"
    labelled_run(db)
    asked: list[str] = []
    real = AppModel

    def fake(model: str, **options: Any) -> Any:
        asked.append(model)
        client = real(f"{FAKES}:drafter")
        client.model = model
        return client

    monkeypatch.setattr("mendoza.soft.rubric_draft.AppModel", fake)
    drafted = _draft(db, model=None)
    assert asked == ["local/gemma-3-270m"] and drafted.draft.embedded
