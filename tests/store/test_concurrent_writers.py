"""Several processes (as several machines would) on one PostgreSQL store at once: they migrate a new database
once, choose distinct run ids, and write the same run's samples in overlapping batches without losing or
duplicating one."""

from __future__ import annotations

import multiprocessing
import random
from collections import Counter

import pytest

from mendoza.core import Sample
from mendoza.store import Store
from tests.store.factories import grade, make_suite
from tests.support.postgres import PostgresCluster

WRITERS = 4
CASES, VARIANTS, REPEATS = 30, ("a", "b"), 5


def all_samples() -> list[Sample]:
    return [
        Sample(f"c{case}", variant, repeat, "p", f"{variant}-{case}-{repeat}", seed=repeat,
               grades=(grade(repeat % 2 == 0), grade(True, grader="second")))
        for variant in VARIANTS
        for case in range(1, CASES + 1)
        for repeat in range(REPEATS)
    ]


def write_everything(url: str, run_id: str, seed: int) -> None:
    """One writer: every sample of the run, in its own shuffled order and batch sizes (so writers overlap)."""
    rng = random.Random(seed)
    samples = all_samples()
    rng.shuffle(samples)
    with Store(url) as store:
        at = 0
        while at < len(samples):
            size = rng.randint(1, 40)
            store.samples.write(run_id, samples[at : at + size])
            at += size


def open_and_create_run(url: str, queue: multiprocessing.Queue[str]) -> None:
    """One writer opening a brand-new database (so migrating it) and creating a run there."""
    with Store(url) as store:
        queue.put(store.runs.create(make_suite()).id)


def run_all(target: object, args: list[tuple[object, ...]]) -> None:
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=target, args=arguments) for arguments in args]  # type: ignore[attr-defined]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0


@pytest.mark.timeout(240)
def test_writers_of_the_same_run_neither_lose_nor_duplicate_a_sample(postgres_cluster: PostgresCluster) -> None:
    url = postgres_cluster.new_schema()
    suite = make_suite(n_cases=CASES, variant_ids=VARIANTS, repeats=REPEATS)
    with Store(url) as store:
        run_id = store.runs.create(suite, "shared").id
    run_all(write_everything, [(url, run_id, seed) for seed in range(WRITERS)])
    with Store(url) as store:
        stored = list(store.samples.iterate(run_id))
        keys = Counter((s.variant_id, s.case_id, s.repeat) for s in stored)
        assert len(stored) == CASES * len(VARIANTS) * REPEATS and set(keys.values()) == {1}
        assert sorted(stored, key=lambda s: (s.variant_id, s.case_id, s.repeat)) == sorted(
            all_samples(), key=lambda s: (s.variant_id, s.case_id, s.repeat)
        )  # outputs, grades and all: each sample's grades written once, by the writer that stored it
        assert store.runs.get(run_id).done_samples == store.runs.get(run_id).expected_samples


@pytest.mark.timeout(240)
def test_writers_opening_a_new_database_migrate_it_once_and_take_distinct_run_ids(
    postgres_cluster: PostgresCluster,
) -> None:
    url = postgres_cluster.new_schema()
    queue: multiprocessing.Queue[str] = multiprocessing.get_context("spawn").Queue()
    run_all(open_and_create_run, [(url, queue) for _ in range(WRITERS)])
    ids = [queue.get(timeout=10) for _ in range(WRITERS)]
    assert len(set(ids)) == WRITERS
    with Store(url) as store:
        assert store.runs.count() == WRITERS
        assert len(store.applied_migrations()) == len(set(store.applied_migrations())) == 7
