"""The Ray executor (``--executor ray``) beside the local one, in one process against one local Ray instance
(started once, before anything is timed; its start-up is a row of its own). Every figure is a run's steady
state: the time from its first finished sample to its last (a ``Progress`` that notes when each sample
finishes), over the samples finished in it, so the workers' start-up and shutdown, paid once per run, are
left out of the per-sample figures and shown apart.

- **overhead per sample** on ``echo`` (no work at all, so every millisecond is the executor's);
- **speed-up of a CPU-bound app** (``python:`` running a fixed number of pure-Python loop iterations, about
  50 ms on one core) from 1 Ray worker to 2, two samples in flight per worker (so a worker never waits for
  its next sample: on a loaded machine each hand-over waits for the scheduler, which would flatter the
  second worker), in alternating rounds, the median of the paired ratios; the local executor from
  concurrency 2 to 4 beside it as the control (threads in one process share the GIL: 1x where nothing else
  runs).

Run alone with ``python -m benchmarks --only ray`` (Ray must be installed: ``pip install 'mendoza[ray]'``).
"""

from __future__ import annotations

import importlib
import statistics
import textwrap
import time
from pathlib import Path
from typing import Any

from benchmarks.common import Settings
from benchmarks.table import Row
from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec, Suite, Variant
from mendoza.store import Store

__all__ = ["run"]

NAME = "ray executor"

_APP = '''
import time

def burn(vars):
    cpu = time.thread_time()
    total = 0
    for i in range(vars["loops"]):
        total += i * i
    return {"output": "say " + vars["word"], "cpu": time.thread_time() - cpu}
'''

#: Milliseconds of work per sample in the CPU-bound app (on one core of this machine, calibrated).
_MS = 50


class _Clock:
    """A ``Progress`` that notes when samples finish: ``steady`` is the seconds per sample between the first
    finished sample and the last."""

    def __init__(self) -> None:
        self.stamps: list[tuple[float, int]] = []

    def start(self, total: int, done: int) -> None:
        pass

    def advance(self, count: int, errors: int) -> None:
        if errors:
            raise RuntimeError("a benchmark sample failed")
        self.stamps.append((time.perf_counter(), count))

    def waiting(self, change: int) -> None:
        pass

    def finish(self) -> None:
        pass

    @property
    def steady(self) -> float:
        first, last = self.stamps[0][0], self.stamps[-1][0]
        return (last - first) / (sum(count for _, count in self.stamps) - self.stamps[0][1])


def _loops_for(ms: float) -> int:
    """How many loop iterations of the app take ``ms`` on one core here (the fastest of a few tries)."""
    namespace: dict[str, Any] = {}
    exec(textwrap.dedent(_APP), namespace)
    loops = 200_000
    best = min(_timed(namespace["burn"], loops) for _ in range(5))
    return max(1, int(loops * ms / 1000 / best))


def _timed(function: Any, loops: int) -> float:
    started = time.perf_counter()
    function({"loops": loops, "word": "w"})
    return time.perf_counter() - started


def _suite(variant: Variant, cases: int, **var: Any) -> Suite:
    return Suite(
        name=f"ray-bench-{variant.id}",
        cases=tuple(Case(id=f"c{i}", vars={"word": f"w{i}", **var}, expected=f"w{i}") for i in range(cases)),
        variants=(variant,),
        graders=(GraderSpec(type="contains", params={"value": "{{ expected }}"}, name="contains"),),
        cache=False,
    )


def _measure(suite: Suite, db: Path, **options: Any) -> tuple[float, float, float]:
    """One whole ``run_suite`` (the Ray executor's workers started and stopped inside): its wall seconds, its
    steady seconds per sample, and the cores it kept busy (the samples' own CPU seconds, as the app reports
    them, over the run's steady wall time; 0 for an app that reports none)."""
    clock = _Clock()
    with Store(db) as store:
        started = time.perf_counter()
        run = run_suite(suite, db=store, progress=clock, **options)
        seconds = time.perf_counter() - started
        if run.done_samples != len(suite.cases) or run.status != "complete":
            raise RuntimeError(f"{suite.name}: {run.done_samples} of {len(suite.cases)} samples ({run.status})")
        cpu = sum(float((s.metadata or {}).get("cpu", 0.0)) for s in store.samples.iterate(run.id))
    return seconds, clock.steady, cpu / len(suite.cases) / clock.steady


def run(settings: Settings) -> list[Row]:
    """Start a local Ray instance (2 CPUs), measure, stop it; rows side by side with the local executor."""
    try:
        ray = importlib.import_module("ray")
    except ImportError:
        return [Row(NAME, "skipped: Ray is not installed (pip install 'mendoza[ray]')", "")]
    folder = settings.workdir / "ray"
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    start_up = time.perf_counter() - started
    try:
        return [Row(NAME, "start-up: ray.init (a local instance, 2 CPUs), once per process", f"{start_up:.1f} s"),
                *_overhead(settings, folder), *_speed_up(settings, folder)]
    finally:
        ray.shutdown()


def _overhead(settings: Settings, folder: Path) -> list[Row]:
    echo = Variant(id="echo", model="echo", prompt="say {{ word }}")
    count, rounds = settings.size(3_000, 400), settings.size(3, 2)
    walls: dict[str, list[float]] = {"local": [], "ray": []}
    steady: dict[str, list[float]] = {"local": [], "ray": []}
    for index in range(rounds):
        for executor in ("local", "ray"):
            options = {"ray_workers": 2} if executor == "ray" else {}
            db = folder / f"echo-{executor}-{index}.db"
            wall, per_sample, _ = _measure(_suite(echo, count), db, executor=executor, **options)
            walls[executor].append(wall)
            steady[executor].append(per_sample)
    local_ms, ray_ms = (statistics.median(steady[name]) * 1000 for name in ("local", "ray"))
    fixed = {name: statistics.median(walls[name]) - count * statistics.median(steady[name]) for name in walls}
    work = f"(echo, {count:,} samples, 2 workers, {rounds} rounds)"
    return [
        Row(NAME, f"time per sample {work}", f"{ray_ms:.2f} ms (ray)", f"{local_ms:.3f} ms (local)",
            f"{ray_ms / local_ms:.0f}x", target="< 5 ms", ok=ray_ms < 5),
        Row(NAME, "overhead per sample: ray less local", f"{ray_ms - local_ms:.2f} ms",
            "a remote model call: 500-2,000 ms"),
        Row(NAME, f"samples/s on echo {work}", f"{1000 / ray_ms:,.0f} (ray)", f"{1000 / local_ms:,.0f} (local)"),
        Row(NAME, "fixed cost of a run (workers start and stop; local: set-up)", f"{fixed['ray']:.1f} s (ray)",
            f"{fixed['local']:.2f} s (local)"),
    ]


def _speed_up(settings: Settings, folder: Path) -> list[Row]:
    app_file = folder / "burn_app.py"
    app_file.write_text(textwrap.dedent(_APP), encoding="utf-8")
    loops = _loops_for(_MS)
    cases, rounds = settings.size(120, 40), settings.size(3, 2)

    def per_sample(workers: int, index: int, executor: str = "ray") -> tuple[float, float]:
        options: dict[str, Any] = {"ray_workers": workers} if executor == "ray" else {}
        variant = Variant(id="app", model=f"python:{app_file}:burn", concurrency=2 * workers)
        db = folder / f"burn-{executor}-{workers}-{index}.db"
        return _measure(_suite(variant, cases, loops=loops), db, executor=executor, **options)[1:]

    one: list[float] = []
    two: list[float] = []
    local_ratios: list[float] = []
    cores: dict[str, list[float]] = {"ray 1": [], "ray 2": [], "local": []}
    for index in range(rounds):
        (t1, c1), (t2, c2) = per_sample(1, index), per_sample(2, index)
        (l1, _), (l2, c_local) = per_sample(1, index, "local"), per_sample(2, index, "local")
        one.append(t1)
        two.append(t2)
        local_ratios.append(l1 / l2)
        for name, value in (("ray 1", c1), ("ray 2", c2), ("local", c_local)):
            cores[name].append(value)
    speed_up = statistics.median(a / b for a, b in zip(one, two, strict=True))
    work = f"({cases} samples x ~{_MS} ms of pure-Python CPU, {rounds} rounds)"
    return [
        Row(NAME, f"CPU-bound app: ms per sample, 1 -> 2 Ray workers (2 samples in flight each) {work}",
            f"{statistics.median(two) * 1000:.1f} ms (2)", f"{statistics.median(one) * 1000:.1f} ms (1)",
            f"{speed_up:.2f}x", target="close to 2x (>= 1.6x)", ok=speed_up >= 1.6),
        Row(NAME, "CPU-bound app: local executor, concurrency 2 -> 4 (threads, one GIL; control: 1x when quiet)",
            "", "", f"{statistics.median(local_ratios):.2f}x"),
        Row(NAME, "CPU-bound app: cores kept busy (samples' CPU s / wall s): 2 Ray workers vs local, 4 threads",
            f"{statistics.median(cores['ray 2']):.2f} (ray, 2)",
            f"{statistics.median(cores['local']):.2f} (local); {statistics.median(cores['ray 1']):.2f} (ray, 1)"),
    ]
