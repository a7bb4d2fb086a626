"""mendoza.soft's labels and review queue: recording a person's label (pass, fail or a score, with a note),
clearing it, the human-adjusted verdict, and the queue of samples most worth a look."""

from __future__ import annotations

from pathlib import Path

import pytest

from mendoza.api import run_suite
from mendoza.core import adjusted_verdict
from mendoza.errors import ConfigError, RunNotFound
from mendoza.soft import (
    MAX_NOTE_CHARS,
    clear_label,
    default_author,
    record_label,
    review_queue,
)
from mendoza.store import Store
from tests.viewer.suites import ticket_suite


@pytest.fixture
def ran(tmp_path: Path) -> tuple[Store, str]:
    db = tmp_path / "m.db"
    run = run_suite(ticket_suite(), db=db)
    store = Store(db)
    yield store, run.id  # type: ignore[misc]
    store.close()


def first_failure(store: Store, run_id: str) -> int:
    return next(
        cell.first_failing_id
        for cell in store.outcomes.cell_verdicts(run_id)
        if cell.first_failing_id is not None and cell.failed
    )


@pytest.mark.parametrize(
    ("automatic", "human", "expected"),
    [(True, None, True), (False, None, False), (None, None, None), (False, True, True), (True, False, False)],
)
def test_the_human_verdict_wins_where_there_is_one(
    automatic: bool | None, human: bool | None, expected: bool | None
) -> None:
    assert adjusted_verdict(automatic, human) is expected


def test_a_label_is_pass_or_fail_or_a_score(ran: tuple[Store, str]) -> None:
    store, run_id = ran
    sample_id = first_failure(store, run_id)
    grade = record_label(store, sample_id, passed=True, note="fine", author="ana")
    assert (grade.passed, grade.score, grade.author, grade.explanation) == (True, 1.0, "ana", "fine")
    assert record_label(store, sample_id, score=0.4, author="ana").passed is False
    assert record_label(store, sample_id, score=0.5, author="ana").passed is True
    assert record_label(store, sample_id, passed=False, score=0.9, author="ana").passed is False
    record = store.browse.sample(sample_id)
    assert record is not None and record.human_passed is False and record.passed is False


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "needs a verdict"),
        ({"score": 1.2}, "between 0 and 1"),
        ({"score": -0.1}, "between 0 and 1"),
        ({"score": float("inf")}, "between 0 and 1"),
        ({"score": True}, "must be a number"),
        ({"passed": True, "note": "x" * (MAX_NOTE_CHARS + 1)}, "limited to"),
    ],
)
def test_a_bad_label_is_a_config_error(ran: tuple[Store, str], options: dict[str, object], message: str) -> None:
    store, run_id = ran
    with pytest.raises(ConfigError, match=message):
        record_label(store, first_failure(store, run_id), **options)  # type: ignore[arg-type]


def test_clearing_a_label_brings_back_the_automatic_verdict(ran: tuple[Store, str]) -> None:
    store, run_id = ran
    sample_id = first_failure(store, run_id)
    record_label(store, sample_id, passed=True)
    cleared = clear_label(store, sample_id, note="mis-click")
    assert cleared.passed is None and cleared.author == default_author()
    record = store.browse.sample(sample_id)
    assert record is not None and record.human_passed is None and record.adjusted_passed is False


def test_the_queue_is_most_worth_a_look_first_and_labels_do_not_reshuffle_it(ran: tuple[Store, str]) -> None:
    store, run_id = ran
    queue = review_queue(store, run_id)
    assert queue and queue[0].reason == "graders disagree"
    order = ["graders disagree", "failed in a flaky case", "failed", "passed in a flaky case"]
    ranks = [order.index(entry.reason) for entry in queue]
    assert ranks == sorted(ranks)
    for entry in queue[:5]:
        record_label(store, entry.sample_id, passed=True)
    assert review_queue(store, run_id) == queue
    only = review_queue(store, run_id, ["few-shot"])
    assert {store.browse.sample(entry.sample_id).variant_id for entry in only} == {"few-shot"}  # type: ignore[union-attr]
    with pytest.raises(RunNotFound):
        review_queue(store, "no-such-run")
