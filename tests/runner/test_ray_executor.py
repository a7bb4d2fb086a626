"""The Ray executor against a real local Ray cluster (``ray.init(num_cpus=2)``): every sample stored once, drawn
and graded on the workers, a worker killed mid-sample redone elsewhere, limits held across workers, the cache
shared with local runs, and a run whose driver was killed resumed.

Skipped, with the reason, where Ray is not installed (``pip install 'mendoza[ray]'``; ``make install`` does).
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec, Suite, Variant
from mendoza.errors import ConfigError
from mendoza.runner.ray_executor import _INLINE_BYTES
from mendoza.store import Store

ray = pytest.importorskip("ray", reason="the Ray executor's tests need Ray: pip install 'mendoza[ray]'")

APPS = Path(__file__).with_name("ray_apps.py").resolve()
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A local Ray cluster of 2 CPUs for this module's tests; its address, for a second driver to join."""
    context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        yield str(context.address_info["gcs_address"])
    finally:
        ray.shutdown()


def _suite(function: str, *, cases: int = 6, repeats: int = 2, extra: dict[str, Any] | None = None,
           variants: tuple[Variant, ...] = (), graders: tuple[GraderSpec, ...] = (), **fields: Any) -> Suite:
    app = Variant.model_validate({"id": "app", "model": f"python:{APPS}:{function}"})
    return Suite(
        name="ray",
        cases=tuple(
            Case(id=f"c{i}", vars={"word": f"w{i}", **(extra or {})}, expected=f"w{i}") for i in range(cases)
        ),
        variants=(app, *variants),
        graders=graders or (GraderSpec(type="contains", params={"value": "{{ expected }}"}, name="contains"),),
        repeats=repeats,
        **fields,
    )


def _keys(store: Store, run_id: str) -> Counter[tuple[str, str, int]]:
    return Counter((s.variant_id, s.case_id, s.repeat) for s in store.samples.iterate(run_id))


def test_a_run_on_ray_stores_every_sample_once_drawn_and_graded_on_the_workers(cluster: str, store: Store) -> None:
    echo = Variant.model_validate({"id": "echo", "model": "echo", "prompt": "say {{ word }}"})
    where = GraderSpec(type="python", params={"function": f"{APPS}:grade_where"}, name="where")
    contains = GraderSpec(type="contains", params={"value": "{{ expected }}"}, name="contains")
    suite = _suite("burn", variants=(echo,), graders=(contains, where))
    run = run_suite(suite, db=store, executor="ray", ray_workers=2)
    assert run.status == "complete" and run.done_samples == run.expected_samples == 6 * 2 * 2
    keys = _keys(store, run.id)
    assert len(keys) == 24 and set(keys.values()) == {1}
    samples = list(store.samples.iterate(run.id))
    assert all(s.error is None and s.passed for s in samples)
    app_pids = {s.metadata["pid"] for s in samples if s.variant_id == "app" and s.metadata}
    assert len(app_pids) == 2 and os.getpid() not in app_pids  # both workers drew, the driver did not
    graded_in = {g.explanation for s in samples for g in s.grades if g.grader == "where"}
    assert graded_in and graded_in <= {f"graded in {pid}" for pid in app_pids}  # graded on the workers too
    # The same seeds give the same samples as a local run.
    local = run_suite(suite, db=store)
    outputs = {(s.variant_id, s.case_id, s.repeat, s.seed, s.output) for s in store.samples.iterate(local.id)}
    assert outputs == {(s.variant_id, s.case_id, s.repeat, s.seed, s.output) for s in samples}


# A small suite travels in the workers' arguments, a large one through Ray's object store: a restarted worker
# must find either.
@pytest.mark.parametrize("padding", [0, 80_000], ids=["small suite", "large suite"])
def test_a_worker_that_dies_mid_sample_has_its_samples_redone_none_lost_none_twice(
    cluster: str, store: Store, tmp_path: Path, padding: int
) -> None:
    marker = tmp_path / "died"
    suite = _suite("dies_once", cases=8, extra={"marker": str(marker), "ms": 30, "padding": "x" * padding})
    assert (len(pickle.dumps(suite)) > _INLINE_BYTES) is (padding > 0)
    run = run_suite(suite, db=store, executor="ray", ray_workers=2)
    assert marker.exists()  # a worker really died under a sample
    assert run.status == "complete" and run.done_samples == 16
    keys = _keys(store, run.id)
    assert len(keys) == 16 and set(keys.values()) == {1}
    samples = list(store.samples.iterate(run.id))
    assert all(s.error is None and s.passed for s in samples)
    assert len({s.metadata["pid"] for s in samples if s.metadata}) >= 2


@pytest.mark.slow  # three worker restarts: about 20 s on 2 loaded cores
def test_a_sample_that_kills_every_worker_is_stored_as_errored_and_the_run_completes(
    cluster: str, store: Store, tmp_path: Path
) -> None:
    deaths = tmp_path / "deaths"
    suite = _suite("poison", cases=3, repeats=1, extra={"deaths": str(deaths)}).model_copy(
        update={"cases": (Case(id="bad", vars={"word": "x", "poison": True, "deaths": str(deaths)}),
                          *[Case(id=f"c{i}", vars={"word": f"w{i}"}, expected=f"w{i}") for i in range(3)])}
    )
    run = run_suite(suite, db=store, executor="ray", ray_workers=2)
    assert run.status == "complete" and run.done_samples == 4
    by_case = {s.case_id: s for s in store.samples.iterate(run.id)}
    assert by_case["bad"].error is not None and "died 3 times" in by_case["bad"].error
    assert all(by_case[f"c{i}"].error is None for i in range(3))
    assert len(deaths.read_text().split()) == 3  # tried three times, then given up


@pytest.mark.parametrize("limit", [1, 2])
def test_the_concurrency_limit_holds_across_workers(cluster: str, store: Store, tmp_path: Path, limit: int) -> None:
    counter = tmp_path / "counter.json"
    suite = _suite("counted", cases=8, repeats=1, extra={"counter": str(counter), "ms": 80})
    suite = suite.model_copy(update={"variants": (suite.variants[0].model_copy(update={"concurrency": limit}),)})
    run = run_suite(suite, db=store, executor="ray", ray_workers=2)
    assert run.done_samples == 8
    state = json.loads(counter.read_text())
    assert state["now"] == 0 and state["peak"] == limit  # never more than the limit, and the limit reached
    if limit == 2:
        assert len(state["pids"]) == 2  # the two in flight went to the two workers


def test_ray_workers_share_the_cache_of_model_calls_with_local_runs(cluster: str, store: Store) -> None:
    mock = Variant.model_validate({"id": "mock", "model": "mock", "params": {"cacheable": True, "output": "x"}})
    suite = _suite("burn", cases=4, repeats=1).model_copy(update={"variants": (mock,)})
    first = run_suite(suite, db=store, executor="ray", ray_workers=2)
    assert not any(s.cached for s in store.samples.iterate(first.id))
    local = run_suite(suite, db=store)  # the workers' new entries were written by the driver
    assert all(s.cached for s in store.samples.iterate(local.id))
    again = run_suite(suite, db=store, executor="ray", ray_workers=2)  # and the workers read the store's cache
    assert all(s.cached for s in store.samples.iterate(again.id))


def test_adaptive_sampling_runs_its_rounds_on_the_same_workers(cluster: str, store: Store) -> None:
    suite = _suite("burn", cases=5, repeats=1, extra={"ms": 1})
    run = run_suite(suite, db=store, executor="ray", ray_workers=2, until_decided=True, budget=40)
    keys = _keys(store, run.id)
    assert run.done_samples == sum(keys.values()) and set(keys.values()) == {1}
    assert 10 <= run.done_samples <= 40
    assert len({s.metadata["pid"] for s in store.samples.iterate(run.id) if s.metadata}) == 2  # not new per round


def test_an_app_given_as_a_python_object_is_refused_for_ray_in_one_line(cluster: str, store: Store) -> None:
    from mendoza.api import suite as make_suite

    def answer(vars: dict[str, Any]) -> str:
        return "x"

    in_process = make_suite("t", cases=[{"id": "c1", "vars": {"q": "1"}}], app=answer)
    with pytest.raises(ConfigError, match="cannot run on Ray workers; give it by its import path"):
        run_suite(in_process, db=store, executor="ray")
    assert store.runs.count() == 0  # a set-up mistake leaves no run behind


def _stored(db: Path, run_id: str | None = None) -> int:
    with sqlite3.connect(db) as connection:
        if run_id is None:  # polled while the driver makes the file: its tables may not be there yet
            exists = connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'samples'").fetchone()
            if exists is None:
                return 0
            return int(connection.execute("SELECT count(*) FROM samples").fetchone()[0])
        return int(connection.execute("SELECT count(*) FROM samples WHERE run_id = ?", (run_id,)).fetchone()[0])


@pytest.mark.slow
def test_a_run_whose_driver_is_killed_resumes_on_ray_without_losing_or_repeating_a_sample(
    cluster: str, tmp_path: Path
) -> None:
    suite_file = tmp_path / "suite.yaml"
    cases = "\n".join(f"  - {{id: c{i}, word: w{i}, expected: w{i}, ms: 150}}" for i in range(20))
    suite_file.write_text(
        f"suite: killed\ncases:\n{cases}\nvariants:\n  - {{id: app, model: 'python:{APPS}:burn'}}\n"
        "graders: [{contains: '{{ expected }}'}]\nrepeats: 2\n",
        encoding="utf-8",
    )
    db = tmp_path / "m.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "mendoza", "run", str(suite_file), "--db", str(db), "-q",
               "--executor", "ray", "--ray-address", cluster, "--ray-workers", "2"]
    driver = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (not db.exists() or _stored(db) < 6):
            assert driver.poll() is None, driver.stderr.read().decode() if driver.stderr else ""
            time.sleep(0.2)
        driver.send_signal(signal.SIGKILL)  # no clean shutdown: the batch in memory is lost
    finally:
        driver.wait(timeout=30)
    with Store(db) as store:
        run = store.runs.get("latest")
        before = _stored(db, run.id)
        assert run.status == "running" and 6 <= before < 40
        resumed = run_suite(None, db=store, resume=run.id, executor="ray", ray_workers=2)
        assert resumed.status == "complete" and resumed.done_samples == 40
        keys = _keys(store, run.id)
        assert len(keys) == 40 and set(keys.values()) == {1}
        assert all(s.error is None and s.passed for s in store.samples.iterate(run.id))
