"""Store write throughput, SQLite against PostgreSQL: the same samples (one grade each, the runner's batches of
500) written through ``store.samples.write`` into an SQLite file (WAL, ``synchronous = NORMAL``: the default
store) and into a PostgreSQL server started for the run (Debian's ``postgresql``, a cluster in the work folder:
``tests/support/postgres.py``), in one process each; then the same samples split over 4 writer processes on
PostgreSQL, all writing one run at once (what several machines sharing a store do), timed from the moment
all of them are connected.

PostgreSQL is measured twice: with durable commits (its default: each commit waits for its WAL on disk) and
with ``synchronous_commit = off``, which, like SQLite's ``synchronous = NORMAL`` in WAL mode, may lose the last
commits to a power cut but never corrupts anything: that is the like-for-like figure.
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

from benchmarks.common import Settings, rate
from benchmarks.table import Row
from mendoza.core import Case, Grade, GraderSpec, Sample, Suite, Variant
from mendoza.store import Store

__all__ = ["run", "write_samples"]

NAME = "store backends"
_BATCH = 500
_WRITERS = 4


def _suite(cases: int, repeats: int) -> Suite:
    return Suite(
        name="bench-store",
        cases=tuple(Case(id=f"c{i:06d}", vars={"word": f"w{i}"}, expected=f"w{i}") for i in range(cases)),
        variants=(Variant(id="echo", model="echo", prompt="say {{ word }}"),),
        graders=(GraderSpec(type="contains", params={"value": "{{ expected }}"}, name="contains"),),
        repeats=repeats,
    )


def _samples(suite: Suite, shard: int = 0, shards: int = 1) -> list[Sample]:
    """The run's samples (every ``shards``-th one from ``shard``): echo outputs with one grade each."""
    found = []
    index = 0
    for repeat in range(suite.repeats):
        for case in suite.cases:
            if index % shards == shard:
                output = f"say {case.vars['word']}"
                grade = Grade("contains", True, 1.0, "found", grader_hash="bench")
                found.append(Sample(case.id, "echo", repeat, output, output, tokens_in=2, tokens_out=2,
                                    latency_ms=0.05, seed=repeat, grades=(grade,)))
            index += 1
    return found


def write_samples(db: Path | str, samples: list[Sample], run_id: str) -> float:
    """Write ``samples`` into run ``run_id`` of ``db`` in the runner's batches; returns the seconds it took."""
    with Store(db) as store:
        started = time.perf_counter()
        for at in range(0, len(samples), _BATCH):
            store.samples.write(run_id, samples[at : at + _BATCH])
        return time.perf_counter() - started


def _one_writer(db: Path | str, suite: Suite) -> float:
    with Store(db) as store:
        run_id = store.runs.create(suite).id
    samples = _samples(suite)
    return rate(len(samples), write_samples(db, samples, run_id))


def _shard_writer(db: str, suite: Suite, run_id: str, shard: int, barrier: Any, queue: Any) -> None:
    samples = _samples(suite, shard, _WRITERS)
    with Store(db) as store:
        barrier.wait(timeout=120)
        started = time.time()
        for at in range(0, len(samples), _BATCH):
            store.samples.write(run_id, samples[at : at + _BATCH])
        queue.put((started, time.time(), len(samples)))


def _many_writers(db: str, suite: Suite) -> float:
    """Samples/s of ``_WRITERS`` processes writing one run's samples at once (from all connected to all done)."""
    with Store(db) as store:
        run_id = store.runs.create(suite).id
    context = multiprocessing.get_context("spawn")
    barrier, queue = context.Barrier(_WRITERS), context.Queue()
    processes = [
        context.Process(target=_shard_writer, args=(db, suite, run_id, shard, barrier, queue))  # type: ignore[attr-defined]
        for shard in range(_WRITERS)
    ]
    for process in processes:
        process.start()
    results = [queue.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    with Store(db) as store:
        stored = store.runs.get(run_id).done_samples
    if stored != len(suite.cases) * suite.repeats:
        raise RuntimeError(f"{_WRITERS} writers stored {stored} samples, expected {len(suite.cases) * suite.repeats}")
    seconds = max(end for _, end, _ in results) - min(start for start, _, _ in results)
    return rate(sum(count for _, _, count in results), seconds)


def run(settings: Settings) -> list[Row]:
    """SQLite and PostgreSQL write throughput, side by side."""
    from tests.support.postgres import PostgresCluster, postgres_bin

    samples = settings.size(100_000, 10_000)
    suite = _suite(cases=samples // 10, repeats=10)
    workload = f"{samples:,} samples, batches of {_BATCH}"
    folder = settings.workdir / "store-backends"
    folder.mkdir(parents=True, exist_ok=True)
    sqlite = _one_writer(folder / "bench.db", suite)
    rows = [Row(NAME, f"SQLite: samples/s written, 1 writer ({workload})", f"{sqlite:,.0f}")]
    unavailable = PostgresCluster.unavailable()
    if unavailable is not None:
        return [*rows, Row(NAME, "PostgreSQL", f"not measured: {unavailable}")]
    bin_dir = postgres_bin()
    assert bin_dir is not None
    cluster = PostgresCluster(bin_dir, fsync=True).start()
    try:
        durable = _one_writer(cluster.new_schema(), suite)
        relaxed_url = cluster.new_schema() + "%20-csynchronous_commit%3Doff"
        relaxed = _one_writer(relaxed_url, suite)
        many = _many_writers(cluster.new_schema() + "%20-csynchronous_commit%3Doff", suite)
    finally:
        cluster.stop()
    return [
        *rows,
        Row(NAME, "PostgreSQL: samples/s, 1 writer, synchronous_commit off (as SQLite's NORMAL)", f"{relaxed:,.0f}",
            f"{sqlite:,.0f} (SQLite)", f"{relaxed / sqlite:.2f}x"),
        Row(NAME, "PostgreSQL: samples/s, 1 writer, durable commits (its default)", f"{durable:,.0f}",
            f"{sqlite:,.0f} (SQLite)", f"{durable / sqlite:.2f}x"),
        Row(NAME, f"PostgreSQL: samples/s, {_WRITERS} writer processes on one run, synchronous_commit off",
            f"{many:,.0f}", f"{relaxed:,.0f} (1 writer)", f"{many / relaxed:.2f}x"),
    ]
