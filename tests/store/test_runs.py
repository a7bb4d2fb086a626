"""Runs: created with a snapshot of their suite, found by id, prefix or 'latest', marked as they end."""

from __future__ import annotations

import pytest

from mendoza.errors import RunNotFound
from mendoza.store import Store, new_run_id
from mendoza.store import runs as runs_module
from tests.store.factories import make_suite, sample


def run_not_found(store: Store, ref: str) -> str:
    with pytest.raises(RunNotFound) as info:
        store.runs.get(ref)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_create_run_records_the_run(store: Store) -> None:
    suite = make_suite(n_cases=3, variant_ids=("a", "b"), repeats=4)
    run = store.runs.create(suite)
    assert run.status == "running" and run.finished_at is None
    assert (run.suite_name, run.suite_hash) == ("store-test", suite.content_hash())
    assert (run.repeats, run.variant_ids, run.n_cases) == (4, ("a", "b"), 3)
    assert (run.expected_samples, run.done_samples) == (3 * 2 * 4, 0)
    assert store.runs.get(run.id) == run


def test_run_suite_rebuilds_an_equal_suite(store: Store) -> None:
    suite = make_suite()
    run = store.runs.create(suite)
    rebuilt = store.runs.suite(run.id)
    assert rebuilt == suite.model_copy(update={"source": None})  # where the file lived is not part of it
    assert rebuilt.content_hash() == suite.content_hash() == run.suite_hash
    assert rebuilt.cases[0].tags == ("t",) and rebuilt.variants[0].pricing == suite.variants[0].pricing


def test_run_suite_of_an_unknown_run(store: Store) -> None:
    with pytest.raises(RunNotFound, match="no run 'nope'"):
        store.runs.suite("nope")


def test_new_run_ids_sort_by_time_and_differ() -> None:
    ids = {new_run_id() for _ in range(20)}
    assert len(ids) > 1
    for run_id in ids:
        date, time, suffix = run_id.split("-")
        assert (len(date), len(time), len(suffix)) == (8, 6, 4)


def test_get_run_by_exact_id_unique_prefix_and_latest(store: Store) -> None:
    suite = make_suite()
    for run_id in ("20260101-100000-aaaa", "20260101-100000-aabb", "20260102-090000-cccc", "r1", "r10"):
        store.runs.create(suite, run_id)
    assert store.runs.get("20260102").id == "20260102-090000-cccc"
    assert store.runs.get("20260101-100000-aab").id == "20260101-100000-aabb"
    assert store.runs.get("r1").id == "r1"  # an exact id wins over being the prefix of another
    assert store.runs.get("latest").id == "r10"


def test_an_ambiguous_prefix(store: Store) -> None:
    for run_id in ("20260101-100000-aaaa", "20260101-100000-aabb"):
        store.runs.create(make_suite(), run_id)
    message = run_not_found(store, "20260101-100000-a")
    assert message == (
        "'20260101-100000-a' matches several runs (20260101-100000-aaaa, 20260101-100000-aabb, ...): "
        "give more of the id"
    )


def test_unknown_id_empty_id_and_like_wildcards(store: Store) -> None:
    assert run_not_found(store, "latest") == f"{store.path}: no runs yet"
    store.runs.create(make_suite(), "a_b")
    store.runs.create(make_suite(), "axb-2")
    assert run_not_found(store, "zzz") == f"no run 'zzz' in {store.path} (see `mendoza runs`)"
    assert "no run id given" in run_not_found(store, "")
    assert "no run '%'" in run_not_found(store, "%")  # a LIKE wildcard is matched literally
    assert store.runs.get("a_").id == "a_b"  # and so is '_'


def test_latest_and_list_runs_in_creation_order_even_within_one_millisecond(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runs_module, "utc_now", lambda: "2026-01-01T00:00:00.000+00:00")
    for run_id in ("b", "a", "c"):
        store.runs.create(make_suite(), run_id)
    assert store.runs.get("latest").id == "c"
    assert [run.id for run in store.runs.latest()] == ["c", "a", "b"]
    assert [run.id for run in store.runs.latest(limit=1, offset=1)] == ["a"]


def test_set_run_status_sets_finished_at_unless_running(store: Store) -> None:
    run = store.runs.create(make_suite())
    store.runs.set_status(run.id, "interrupted")
    interrupted = store.runs.get(run.id)
    assert interrupted.status == "interrupted" and interrupted.finished_at is not None
    store.runs.set_status(run.id, "running")
    assert store.runs.get(run.id).finished_at is None
    store.runs.set_status(run.id, "complete")
    assert store.runs.get(run.id).status == "complete"


def test_done_samples_counts_what_is_stored(store: Store) -> None:
    run = store.runs.create(make_suite())
    store.samples.write(run.id, [sample(repeat=0), sample(repeat=1), sample("c2", "b", 0)])
    assert store.runs.get(run.id).done_samples == 3
    assert store.runs.latest()[0].done_samples == 3


def test_a_new_run_never_takes_the_id_of_an_existing_one(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = iter(["20260101-000000-aaaa", "20260101-000000-aaaa", "20260101-000000-bbbb"])
    monkeypatch.setattr(runs_module, "new_run_id", lambda: next(drawn))
    first = store.runs.create(make_suite())
    second = store.runs.create(make_suite())  # the same random part drawn again: another id, not a failure
    assert (first.id, second.id) == ("20260101-000000-aaaa", "20260101-000000-bbbb")


def test_the_runs_of_a_suite_newest_first(store: Store) -> None:
    suite = make_suite()
    for run_id in ("a", "b"):
        store.runs.create(suite, run_id)
    store.runs.create(suite.model_copy(update={"name": "other"}), "c")
    assert [run.id for run in store.runs.of_suite(suite.name)] == ["b", "a"]
    assert store.runs.of_suite("nope") == []
