"""Sample work on Ray (``mendoza run --executor ray``): the model call and the grading of each sample run in Ray
actors; the run loop, the limits and the one writer stay in this process (the driver).

- **Workers.** One actor per worker slot (``ray_workers``, default one per CPU of the cluster). Each builds the
  suite's plan once (``engine.plan_run``: the providers and graders, so an embedded model, an app or a sandbox
  is set up once per actor, not per sample) and draws samples with the same ``_VariantWorker.sample`` as a
  local run. An actor is an asyncio actor: a remote API's calls overlap in one actor, as in one process.
- **Limits.** The driver's loop keeps at most a variant's concurrency limit of its samples in flight, whatever
  the number of actors, so a provider's limit holds across the cluster. Each sample goes to the live actor
  with the fewest samples in flight.
- **Lost workers.** An actor whose process dies (an app's ``os._exit``, a segfault, the OOM killer, a lost
  node) is restarted by Ray (``max_restarts=-1``); its unfinished samples are given again to live actors,
  each alone on its actor (which of them killed the worker is not known; alone, a death is its own). A
  sample whose worker died ``MAX_TRIES`` times is stored as errored, saying so (one that kills every worker it
  touches must not stall the run). Nothing is written by an actor, so nothing is written twice.
- **Cache.** An actor reads the cache of model calls from the run's store when it can open it (this machine,
  or a shared disk) and sends every new entry back with the sample, for the writer's batch.
- **Resume.** The driver decides what is missing from the store, so ``--resume`` is the same as a local run's.

Ray is imported by this module only, and this module only by ``executor.executor_for`` when asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import pickle
import re
import signal
import socket
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from mendoza.core import Case, ModelResponse, Sample, Suite, Variant, sample_seed
from mendoza.errors import ConfigError, MendozaError, StoreError
from mendoza.providers.python_callable import IN_PROCESS
from mendoza.runner.engine import close_plan, plan_run, use_cache
from mendoza.runner.executor import Drawn, Executor, VariantSampler
from mendoza.runner.options import RunOptions
from mendoza.store import Store

__all__ = ["MAX_TRIES", "RayExecutor"]

#: How many times a sample is tried on a worker that dies under it before it is stored as errored.
MAX_TRIES = 3
#: How long the workers get to release their models and connections when the run ends.
_CLOSE_SECONDS = 10.0
#: A suite larger than this (pickled) goes to the workers through Ray's object store, not in their arguments
#: (Ray's own limit for arguments passed inline is 100 KiB).
_INLINE_BYTES = 64 * 1024
#: How long a cluster's address may take to answer a connection.
_CONNECT_SECONDS = 5.0

_COLOURS = re.compile(r"\x1b\[[0-9;]*m")
_INSTALL = "install it with: pip install 'mendoza[ray]'"


def _ray() -> Any:
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise ConfigError(f"the ray executor needs Ray, which is not installed; {_INSTALL}") from None


def _lost_worker_errors() -> tuple[type[BaseException], ...]:
    """The Ray errors that mean the worker process went away (not that the sample's code raised)."""
    exceptions = importlib.import_module("ray.exceptions")
    names = ("RayActorError", "WorkerCrashedError", "OutOfMemoryError", "NodeDiedError", "ObjectLostError")
    return tuple(getattr(exceptions, name) for name in names if hasattr(exceptions, name))


class _WorkerCache:
    """The cache of model calls as a worker sees it: read from the run's store when the worker can open it
    (read-only), written by the driver: new entries wait here until the sample that made them goes back."""

    def __init__(self, db: str) -> None:
        self._store: Store | None
        try:
            self._store = Store(db, readonly=True)
        except StoreError:
            self._store = None  # another machine without the file: every call is made, entries still go back
        self._new: list[tuple[str, ModelResponse]] = []

    def get(self, key: str) -> ModelResponse | None:
        return self._store.cache.get(key) if self._store is not None else None

    def put_many(self, entries: Sequence[tuple[str, ModelResponse]]) -> None:
        self._new.extend(entries)

    def drain(self) -> list[tuple[str, ModelResponse]]:
        new, self._new = self._new, []
        return new

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


class SampleActor:
    """One worker slot (a Ray actor): the suite's providers and graders, built once, drawing samples."""

    def __init__(self, suite: Suite | list[Any], concurrency: int | None, cache_db: str | None) -> None:
        if not isinstance(suite, Suite):  # a large suite comes by reference (see RayExecutor.open)
            suite = _ray().get(suite[0])
        assert isinstance(suite, Suite)
        self._plan = plan_run(suite, RunOptions(concurrency=concurrency))  # the local executor, in this actor
        self._workers = {worker.variant.id: worker for worker in self._plan.workers}
        self._cases = {case.id: case for case in suite.cases}
        self._cache = _WorkerCache(cache_db) if cache_db is not None else None
        use_cache(self._plan, self._cache)

    def pid(self) -> int:
        """This worker's process id (answered once the actor is up, again after a restart)."""
        return os.getpid()

    async def sample(self, variant_id: str, case_id: str, repeat: int) -> Drawn:
        """Draw and grade one sample, with the cache entries made since the last one went back."""
        sample, entry = await self._workers[variant_id].sample(self._cases[case_id], repeat)
        entries = [] if entry is None else [entry]
        if self._cache is not None:
            entries.extend(self._cache.drain())
        return Drawn(sample, tuple(entries))

    async def close(self) -> None:
        """Release the providers and graders (models, connections, judges)."""
        await close_plan(self._plan)
        if self._cache is not None:
            self._cache.close()


class _ActorPool:
    """The actors, how many samples each has in flight, which are down (restarting), and which are kept for a
    sample that must run alone (one that was on a worker when it died: alone, a death is its own doing)."""

    def __init__(self, make: Callable[[], Any], count: int) -> None:
        self._make = make
        self.actors = [make() for _ in range(count)]
        self._in_flight = [0] * count
        self._down: set[int] = set()
        self._kept: set[int] = set()
        self._changed = asyncio.Event()
        self._watchers: set[asyncio.Task[None]] = set()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _until(self, pick: Callable[[], int | None]) -> int:
        while (index := pick()) is None:
            await self._changed.wait()
        return index

    def _least_busy(self) -> int | None:
        free = [i for i in range(len(self.actors)) if i not in self._down and i not in self._kept]
        return min(free, key=lambda i: self._in_flight[i]) if free else None

    async def acquire(self, alone: bool = False) -> int:
        """The live actor with the fewest samples in flight; ``alone``: one kept for this sample only, once
        the samples it has in flight are done (waits while there is none)."""
        index = await self._until(self._least_busy)
        if alone:
            self._kept.add(index)
            await self._until(lambda: index if self._in_flight[index] == 0 else None)
        self._in_flight[index] += 1
        return index

    def release(self, index: int, alone: bool = False) -> None:
        self._in_flight[index] -= 1
        if alone:
            self._kept.discard(index)
        self._notify()

    def lost(self, index: int) -> None:
        """Actor ``index`` died: no new work for it until Ray has restarted it (or a new one replaces it)."""
        if index in self._down:
            return
        self._down.add(index)
        watcher = asyncio.create_task(self._back(index))
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)

    async def _back(self, index: int) -> None:
        try:
            await self.actors[index].pid.remote()  # answered once Ray has restarted it
        except _lost_worker_errors():
            self.actors[index] = self._make()  # restarts used up: a new actor in its slot
        finally:
            self._down.discard(index)
            self._notify()

    async def close(self, ray: Any) -> None:
        for watcher in list(self._watchers):
            watcher.cancel()
        with contextlib.suppress(Exception):
            closing = [actor.close.remote() for actor in self.actors]
            await asyncio.wait_for(asyncio.gather(*closing, return_exceptions=True), _CLOSE_SECONDS)
        for actor in self.actors:
            with contextlib.suppress(Exception):
                ray.kill(actor)


class RayExecutor(Executor):
    """Samples drawn and graded by Ray actors (see the module). Connects to the cluster when made, so a wrong
    address or a missing Ray is a set-up mistake, raised before the run is recorded."""

    name: ClassVar[str] = "ray"

    def __init__(self, address: str | None, workers: int | None, variants: Sequence[Variant]) -> None:
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
            raise ConfigError(f"ray_workers must be a whole number of at least 1, not {workers!r}")
        for variant in variants:
            if variant.model.startswith(f"python:{IN_PROCESS}:"):
                raise ConfigError(
                    f"variant {variant.id}: an app given as a Python object cannot run on Ray workers; give it "
                    "by its import path (python:pkg.module:func or python:path/to/app.py:func)"
                )
        self._ray = _ray()
        self._workers = workers
        self._owns_ray = False
        self._pool: _ActorPool | None = None
        self._suite_ref: Any = None
        if not self._ray.is_initialized():  # else: the connection this process already has (a script, a test)
            self._connect(address)

    def _connect(self, address: str | None) -> None:
        if address is not None:
            _check_reachable(address)
        # ray.init makes SIGTERM exit the process; the run's own handler (an interruption, samples kept) is put
        # back. (Ray cannot be started from another thread instead: its processes die with the thread.)
        on_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.getsignal(signal.SIGTERM) if on_main_thread else None
        try:
            self._ray.init(
                address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR
            )
        except SystemExit as exc:
            if exc.code == signal.SIGTERM:
                raise asyncio.CancelledError() from None  # terminated while Ray started: an interruption
            raise ConfigError(f"cannot start or reach the Ray cluster{_at(address)}: Ray exited ({exc.code})") from None
        except Exception as exc:
            raise ConfigError(f"cannot start or reach the Ray cluster{_at(address)}: {_reason(exc)}") from None
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        self._owns_ray = True

    async def open(self, suite: Suite, options: RunOptions, cache_db: Path | str | None) -> None:
        if self._pool is not None:
            return
        cpus = max(1.0, float(self._ray.cluster_resources().get("CPU", 1.0)))
        count = self._workers or int(cpus)
        # More workers than CPUs share them (fractional CPUs): an actor that cannot be placed would wait forever.
        actor_class = self._ray.remote(SampleActor).options(
            num_cpus=min(1.0, cpus / count), max_restarts=-1, max_task_retries=0
        )
        db = cache_db if cache_db is None or isinstance(cache_db, str) else str(cache_db.resolve())
        # A small suite travels in each actor's arguments. A large one is put in Ray's object store once and
        # kept by the driver until the run ends, so every actor, and every restart, reads that one copy. (Ray
        # warns, once per actor, that a restart would fail were the object lost; the driver holds it.)
        payload: Suite | list[Any] = suite
        if len(pickle.dumps(suite)) > _INLINE_BYTES:
            self._suite_ref = self._ray.put(suite)
            payload = [self._suite_ref]

        def make() -> Any:
            return actor_class.remote(payload, options.concurrency, db)

        pool = _ActorPool(make, count)
        self._pool = pool
        try:
            await asyncio.gather(*(actor.pid.remote() for actor in pool.actors))
        except Exception as exc:
            raise MendozaError(f"a Ray worker could not start: {_reason(exc, last=True)}") from None

    async def sample(self, worker: VariantSampler, case: Case, repeat: int) -> Drawn:
        pool = self._pool
        assert pool is not None, "open() starts the workers first"
        lost = _lost_worker_errors()
        deaths: list[str] = []
        while True:
            alone = bool(deaths)  # after a death, alone: a neighbour's crash is not counted against it again
            index = await pool.acquire(alone)
            try:
                drawn: Drawn = await pool.actors[index].sample.remote(worker.variant.id, case.id, repeat)
                return drawn
            except lost as exc:
                pool.lost(index)
                deaths.append(_reason(exc))
                if len(deaths) >= MAX_TRIES:
                    error = f"the Ray worker drawing this sample died {len(deaths)} times (last: {deaths[-1]})"
                    seed = sample_seed(worker.suite_seed, case.id, repeat)
                    return Drawn(Sample(case.id, worker.variant.id, repeat, None, None, error=error, seed=seed))
            finally:
                pool.release(index, alone)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        self._suite_ref = None
        try:
            if pool is not None:
                await pool.close(self._ray)
        finally:
            if self._owns_ray and self._ray.is_initialized():
                self._ray.shutdown()
            self._owns_ray = False


def _check_reachable(address: str) -> None:
    """Fail fast on a cluster address nothing listens at (Ray itself retries for minutes, then exits)."""
    host_port = address.removeprefix("ray://")
    host, _, port = host_port.rpartition(":")
    if not host or not port.isdigit():
        return  # "auto", "local", or a form Ray resolves itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=_CONNECT_SECONDS).close()
    except OSError as exc:
        raise ConfigError(
            f"cannot reach the Ray cluster at {address}: {exc.strerror or exc} (is `ray start --head` running there?)"
        ) from None


def _at(address: str | None) -> str:
    return f" at {address}" if address else ""


def _reason(exc: BaseException, *, last: bool = False) -> str:
    """The first line of a Ray error (``last``: its last line, where a worker's own exception is), without
    terminal colours, short enough for a sample's error or a one-line message."""
    lines = [line.strip() for line in _COLOURS.sub("", str(exc)).splitlines() if line.strip()]
    line = (lines[-1] if last else lines[0]) if lines else type(exc).__name__
    return line if len(line) <= 300 else line[:297] + "..."
