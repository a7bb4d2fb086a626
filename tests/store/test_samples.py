"""Samples and grades: written in one transaction, idempotently; streamed back in order; counted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from mendoza.core import Grade, Sample
from mendoza.errors import StoreError
from mendoza.store import Store, VariantCounts
from tests.store.factories import count_rows as count
from tests.store.factories import make_suite, sample


@pytest.fixture
def store(db_address: Path | str) -> Iterator[Store]:
    with Store(db_address) as opened:
        opened.runs.create(make_suite(), "r")
        yield opened


def test_samples_come_back_equal_with_their_grades(store: Store) -> None:
    human = Grade("review", False, 0.0, "rude", source="human", author="ana", grader_hash="")
    broken = Grade("python", None, None, "", grader_hash="h2", error="ZeroDivisionError: division by zero")
    written = [
        sample("c1", "a", 0),
        Sample("c2", "a", 0, "p", "o", tokens_in=None, tokens_out=None, cost=None, latency_ms=0.25,
               cached=True, seed=2**31 - 1, attempts=3, grades=(human, broken)),
        sample("c1", "b", 0, error="ProviderError: timeout"),
    ]
    assert store.samples.write("r", written) == 3
    assert list(store.samples.iterate("r")) == written
    assert count(store, "grades") == 2 + 2 + 0


def test_text_round_trips_unchanged(store: Store) -> None:
    text = 'He said "don\'t"\n\ttab — ünïcödé 😀 中文 <script>alert("x")</script> \\n end\r\n'
    written = sample(output=text, prompt=text)
    store.samples.write("r", [written])
    (read,) = store.samples.iterate("r")
    assert read.output == text and read.prompt == text
    assert read == written


def test_a_nul_character_is_kept_where_the_database_can_hold_it(store: Store) -> None:
    text = "before \x00 after"
    store.samples.write("r", [sample(output=text, prompt="p")])
    (read,) = store.samples.iterate("r")
    if store.url is None:  # SQLite's text holds NUL
        assert read.output == text and read.notes is None
    else:  # PostgreSQL's cannot: U+FFFD in its place, and a note saying so; the sample is kept
        assert read.output == "before \ufffd after" and read.error is None and read.passed is True
        assert read.notes is not None and "NUL" in read.notes and "output" in read.notes


def test_writing_the_same_sample_twice_keeps_one(store: Store) -> None:
    first = sample("c1", "a", 0, output="first")
    assert store.samples.write("r", [first, sample("c1", "a", 1)]) == 2
    grades_before = count(store, "grades")
    again = sample("c1", "a", 0, output="second", passed=False)
    assert store.samples.write("r", [again, sample("c2", "a", 0)]) == 1
    assert store.samples.write("r", [again]) == 0
    assert count(store, "samples") == 3
    assert count(store, "grades") == grades_before + 2  # only the new sample's grades
    stored = next(store.samples.iterate("r", case_id="c1", variant_id="a"))
    assert stored == first  # the first write is kept, grades and all


def test_a_sample_sqlite_refuses_costs_no_other_sample_of_its_batch(store: Store) -> None:
    bad = Sample("c2", "a", 0, "p", "o", attempts=None)  # type: ignore[arg-type]
    assert store.samples.write("r", [sample("c1", "a", 0), bad, sample("c1", "a", 1)]) == 3
    stored = {(s.case_id, s.repeat): s for s in store.samples.iterate("r")}
    assert stored[("c1", 0)] == sample("c1", "a", 0)  # grades and all
    assert stored[("c1", 1)] == sample("c1", "a", 1)
    stand_in = stored[("c2", 0)]
    assert stand_in.output is None and stand_in.grades == () and stand_in.passed is None
    assert stand_in.error is not None and "could not store this sample" in stand_in.error
    assert re.search("(?i)not.null", stand_in.error)
    assert count(store, "grades") == 4  # the two good samples' grades, none of the refused one's
    assert store.samples.delete_errored("r") == 1  # so --retry-errors samples it again


def test_a_batch_the_database_refuses_as_a_whole_writes_nothing(store: Store) -> None:
    with pytest.raises(StoreError, match=r"(?i)foreign key"):
        store.samples.write("no-such-run", [sample("c1", "a", 0), sample("c1", "a", 1)])
    assert count(store, "samples") == 0
    assert count(store, "grades") == 0
    assert store.samples.write("r", [sample("c1", "a", 0)]) == 1  # and the store is still usable


def test_same_key_in_another_run_is_another_sample(store: Store) -> None:
    store.runs.create(make_suite(), "other")
    assert store.samples.write("r", [sample()]) == 1
    assert store.samples.write("other", [sample()]) == 1
    assert len(list(store.samples.iterate("other"))) == 1


def written_out_of_order(store: Store) -> list[Sample]:
    samples = [
        sample("c2", "b", 0), sample("c1", "a", 1), sample("c2", "a", 0), sample("c1", "b", 0),
        sample("c1", "a", 0, passed=False),
    ]
    store.samples.write("r", samples[:2])
    store.samples.write("r", samples[2:])
    return sorted(samples, key=lambda s: (s.variant_id, s.case_id, s.repeat))


@pytest.mark.parametrize("batch", [1, 2, 5, 500])
def test_iter_samples_streams_in_variant_case_repeat_order(store: Store, batch: int) -> None:
    expected = written_out_of_order(store)
    assert list(store.samples.iterate("r", batch=batch)) == expected


def test_iter_samples_filters_by_variant_and_case(store: Store) -> None:
    expected = written_out_of_order(store)
    by_variant = list(store.samples.iterate("r", variant_id="a", batch=2))
    assert by_variant == [s for s in expected if s.variant_id == "a"]
    by_case = list(store.samples.iterate("r", case_id="c1", batch=2))
    assert by_case == [s for s in expected if s.case_id == "c1"]
    both = list(store.samples.iterate("r", variant_id="a", case_id="c1", batch=2))
    assert [(s.variant_id, s.case_id, s.repeat) for s in both] == [("a", "c1", 0), ("a", "c1", 1)]
    assert list(store.samples.iterate("r", variant_id="nope")) == []
    assert list(store.samples.iterate("no-such-run")) == []


def test_iter_samples_is_lazy_and_sees_samples_written_past_its_position(store: Store) -> None:
    written_out_of_order(store)
    stream = store.samples.iterate("r", batch=2)
    seen = [next(stream), next(stream), next(stream)]
    store.samples.write("r", [sample("c9", "b", 0)])
    seen.extend(stream)
    keys = [(s.variant_id, s.case_id, s.repeat) for s in seen]
    assert keys == sorted(keys) and len(keys) == len(set(keys)) == 6
    assert keys[-1] == ("b", "c9", 0)


def test_done_keys(store: Store) -> None:
    assert store.samples.done_keys("r") == set()
    written_out_of_order(store)
    assert store.samples.done_keys("r") == {
        ("b", "c2", 0), ("a", "c1", 1), ("a", "c2", 0), ("b", "c1", 0), ("a", "c1", 0)
    }


def test_delete_errored_samples_removes_them_and_their_grades(store: Store) -> None:
    errored_with_grades = Sample("c2", "a", 0, "p", None, error="boom", grades=(Grade("g", None, None),))
    errored = sample("c1", "b", 0, error="timeout")
    store.samples.write("r", [sample("c1", "a", 0), errored_with_grades, errored])
    store.runs.create(make_suite(), "other")
    store.samples.write("other", [sample(error="kept: another run")])
    assert count(store, "grades") == 2 + 1
    assert store.samples.delete_errored("r") == 2
    assert store.samples.done_keys("r") == {("a", "c1", 0)}
    assert count(store, "grades") == 2  # the errored sample's grade went with it (ON DELETE CASCADE)
    assert store.samples.done_keys("other") == {("a", "c1", 0)}
    assert store.samples.delete_errored("r") == 0


def test_variant_and_case_counts(store: Store) -> None:
    store.samples.write("r", [
        sample("c1", "a", 0, passed=True, cost=0.5, tokens_in=1, tokens_out=2, latency_ms=10.0),
        sample("c1", "a", 1, passed=True, cost=0.25, tokens_in=3, tokens_out=4, latency_ms=20.0),
        sample("c2", "a", 0, passed=False, cost=None, tokens_in=None, tokens_out=None, latency_ms=30.0),
        sample("c2", "a", 1, passed=None, cost=0.25, latency_ms=40.0, tokens_in=0, tokens_out=0),
        sample("c2", "a", 2, error="ProviderError: 500", cost=None, latency_ms=50.0, tokens_in=None,
               tokens_out=None),
        sample("c1", "b", 0, passed=True, cost=None, tokens_in=None, tokens_out=None, latency_ms=5.0),
    ])
    counts = {row.variant_id: row for row in store.samples.variant_counts("r")}
    assert counts["a"] == VariantCounts("a", samples=5, passed=2, failed=1, undecided=1, errors=1,
                                        tokens_in=4, tokens_out=6, cost=1.0, mean_latency_ms=30.0)
    assert counts["b"] == VariantCounts("b", samples=1, passed=1, failed=0, undecided=0, errors=0,
                                        tokens_in=0, tokens_out=0, cost=None, mean_latency_ms=5.0)
    cells = [(c.variant_id, c.case_id, c.samples, c.passed, c.failed, c.errors)
             for c in store.outcomes.cell_verdicts("r")]
    assert cells == [("a", "c1", 2, 2, 0, 0), ("a", "c2", 3, 0, 1, 1), ("b", "c1", 1, 1, 0, 0)]
    assert store.samples.variant_counts("no-such-run") == [] and store.outcomes.cell_verdicts("no-such-run") == []


def test_a_sample_without_grades_is_undecided(store: Store) -> None:
    store.samples.write("r", [Sample("c1", "a", 0, "p", "o")])
    (row,) = store.samples.variant_counts("r")
    assert (row.passed, row.failed, row.undecided, row.errors) == (0, 0, 1, 0)
