"""The sample writer when the store fails: the error is raised once, by whoever meets it, saying how to finish."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from mendoza.core import Sample
from mendoza.errors import DiskError
from mendoza.runner.writer import SampleWriter
from mendoza.store import Store
from mendoza.store.connection import Connection
from mendoza.store.samples import SampleRows
from tests.store.factories import make_suite, sample


class _FullDiskSamples(SampleRows):
    """Samples on a disk that fills after ``room`` samples."""

    room = 2

    def write(self, run_id: str, samples: Sequence[Sample]) -> int:
        if len(samples) > self.room:
            raise DiskError(f"{self.path}: the disk is full (database or disk is full); free some space")
        self.room -= len(samples)
        return super().write(run_id, samples)


class _FullDisk(Store):
    """A store whose disk fills after two samples."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.samples = _FullDiskSamples(Connection(self.path, False, self._db))


@pytest.fixture
def full(tmp_path: Path) -> _FullDisk:
    store = _FullDisk(tmp_path / "m.db")
    store.runs.create(make_suite(n_cases=2, variant_ids=("a",), repeats=3), "r")
    return store


def test_a_full_disk_met_by_a_batch_says_what_is_stored_and_how_to_finish(full: _FullDisk) -> None:
    async def write() -> None:
        async with SampleWriter(full, "r", batch_size=2, interval=60) as writer:
            for repeat in range(4):
                writer.add(sample("c1", "a", repeat))

    with pytest.raises(DiskError) as info:
        asyncio.run(write())
    assert str(info.value).endswith("; 2 of 6 samples are stored; finish the run with: mendoza run --resume r")
    assert str(info.value).count("samples are stored") == 1


def test_a_full_disk_met_by_a_timed_flush_is_raised_by_the_next_add(full: _FullDisk) -> None:
    async def write() -> None:
        async with SampleWriter(full, "r", batch_size=100, interval=0.02) as writer:
            for repeat in range(3):
                writer.add(sample("c1", "a", repeat))
            await asyncio.sleep(0.2)  # the timer flushes 3 samples: no room
            with pytest.raises(DiskError, match="0 of 6 samples are stored"):
                writer.add(sample("c2", "a", 0))
            raise KeyboardInterrupt  # leaving with another error: the exit's flush does not replace it

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(write())
    full.close()


def test_a_timed_flush_failure_with_nothing_after_is_raised_on_exit(full: _FullDisk) -> None:
    async def write() -> None:
        async with SampleWriter(full, "r", batch_size=100, interval=0.02) as writer:
            for repeat in range(3):
                writer.add(sample("c1", "a", repeat))
            await asyncio.sleep(0.2)

    with pytest.raises(DiskError, match="finish the run with"):
        asyncio.run(write())


class _SlowSamples(SampleRows):
    """Samples on a slow disk: each commit takes ``delay`` seconds (the thread's, not the loop's)."""

    delay = 0.3
    commits: list[int]

    def write(self, run_id: str, samples: Sequence[Sample]) -> int:
        time.sleep(self.delay)
        self.commits.append(len(samples))
        return super().write(run_id, samples)


class _SlowDisk(Store):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.samples = _SlowSamples(Connection(self.path, False, self._db))
        self.samples.commits = []


def _slow_store(path: Path, delay: float, cases: int) -> _SlowDisk:
    slow = _SlowDisk(path)
    slow.samples.delay = delay
    slow.runs.create(make_suite(n_cases=cases, variant_ids=("a",), repeats=1), "r")
    return slow


def test_commits_run_off_the_event_loop_and_a_batch_filled_meanwhile_joins_the_next(tmp_path: Path) -> None:
    slow = _slow_store(tmp_path / "m.db", 0.3, 12)
    lags: list[float] = []

    async def write() -> int:
        async def tick() -> None:  # how late the loop runs a 10 ms timer while the writer commits
            while True:
                started = time.monotonic()
                await asyncio.sleep(0.01)
                lags.append(time.monotonic() - started - 0.01)

        ticker = asyncio.create_task(tick())
        async with SampleWriter(slow, "r", batch_size=5, interval=60) as writer:
            for case in range(12):
                writer.add(sample(f"c{case}", "a", 0))
                await asyncio.sleep(0.01)
        ticker.cancel()
        return writer.written

    assert asyncio.run(write()) == 12
    assert max(lags) < 0.15  # the 0.3 s commit of the first 5 ran while the loop went on
    assert slow.samples.commits == [5, 7]  # the 7 that came meanwhile went in one commit, not two
    with Store(tmp_path / "m.db") as store:
        assert store.runs.get("r").done_samples == 12
    slow.close()


def test_samples_faster_than_the_store_wait_for_it_rather_than_pile_up(tmp_path: Path) -> None:
    slow = _slow_store(tmp_path / "m.db", 0.05, 40)

    async def write() -> int:
        async with SampleWriter(slow, "r", batch_size=5, interval=60) as writer:
            for case in range(40):  # no pause: far faster than 5 samples per 50 ms
                writer.add(sample(f"c{case}", "a", 0))
        return writer.written

    assert asyncio.run(write()) == 40
    commits = slow.samples.commits
    assert sum(commits) == 40 and max(commits) <= 2 * 5  # never more than two batches waiting
    slow.close()
