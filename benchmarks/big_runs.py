"""Reading big runs: ``mendoza show`` on a 1,000,000-sample run and the viewer's grid page on a
100,000-sample run must stay interactive (``benchmarks/viewer_pages.py`` times every viewer page).

The runs are written straight through ``Store.write_samples`` in batches (what the runner does, minus the
model): 2 variants x N cases x 100 repeats, each case with its own pass probability, so the report has
flaky cases and real intervals to compute.
"""

from __future__ import annotations

import importlib.util
import random
import time
from pathlib import Path

import yaml

from benchmarks.common import Settings, mendoza_command, rate, run_timed
from benchmarks.table import Row
from mendoza import api
from mendoza.core import Grade, Sample
from mendoza.store import Store

__all__ = ["build_run", "run"]

NAME = "big runs"
REPEATS = 100
VARIANTS = ("baseline", "candidate")
_BATCH = 10_000


def build_run(db: Path, samples: int, seed: int = 7) -> tuple[str, float]:
    """Write a complete run of about ``samples`` samples into ``db``; returns its id and samples/s written."""
    cases = max(1, samples // (REPEATS * len(VARIANTS)))
    folder = db.parent
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "suite": f"bench-big-{samples}",
        "cases": [{"id": f"c{i:06d}", "word": f"w{i}", "expected": f"w{i}"} for i in range(cases)],
        "variants": [{"id": variant, "model": "echo", "prompt": "say {{ word }}"} for variant in VARIANTS],
        "graders": [{"contains": "{{ expected }}"}],
        "repeats": REPEATS,
    }
    path = folder / f"big-{samples}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    suite = api.load_suite(path)
    rng = random.Random(seed)
    started = time.perf_counter()
    with Store(db) as store:
        run = store.runs.create(suite)
        batch: list[Sample] = []
        written = 0
        for variant_index, variant in enumerate(VARIANTS):
            for case in suite.cases:
                chance = min(1.0, rng.betavariate(4, 1) + 0.05 * variant_index)
                for repeat in range(REPEATS):
                    passed = rng.random() < chance
                    output = f"say {case.vars['word']}" if passed else "something else"
                    grade = Grade("contains", passed, 1.0 if passed else 0.0, grader_hash="bench")
                    batch.append(
                        Sample(
                            case.id,
                            variant,
                            repeat,
                            f"say {case.vars['word']}",
                            output,
                            tokens_in=2,
                            tokens_out=len(output.split()),
                            latency_ms=rng.uniform(50, 150),
                            seed=repeat,
                            grades=(grade,),
                        )
                    )
                    if len(batch) >= _BATCH:
                        written += store.samples.write(run.id, batch)
                        batch = []
        written += store.samples.write(run.id, batch)
        store.runs.set_status(run.id, "complete")
    return run.id, rate(written, time.perf_counter() - started)


def _viewer_page_seconds(db: Path, run_id: str) -> dict[str, tuple[float, float]]:
    """Time the viewer's pages of a run through Starlette's TestClient: (first request, best of the next)."""
    from starlette.testclient import TestClient

    from mendoza.viewer import create_app, open_viewer_store

    pages = {
        "grid page": f"/runs/{run_id}/grid",
        "grid page 50": f"/runs/{run_id}/grid?page=50",
        "overview page": f"/runs/{run_id}",
    }
    found: dict[str, tuple[float, float]] = {}
    store = open_viewer_store(db)
    try:
        with TestClient(create_app(store), base_url="http://127.0.0.1:8765") as client:
            for name, url in pages.items():
                timings = []
                for _ in range(4):
                    started = time.perf_counter()
                    response = client.get(url)
                    timings.append(time.perf_counter() - started)
                    if response.status_code != 200:
                        raise RuntimeError(f"GET {url}: HTTP {response.status_code}")
                found[name] = (timings[0], min(timings[1:]))
    finally:
        store.close()
    return found


def run(settings: Settings) -> list[Row]:
    """Build the big runs, then time the report and the viewer's grid page."""
    size = settings.size(1_000_000, 10_000)
    db = settings.workdir / "big" / "report.db"
    run_id, write_rate = build_run(db, size)
    rows = [Row(NAME, f"building: Store.write_samples, {size:,} samples", f"{write_rate:,.0f} samples/s")]

    show = run_timed(mendoza_command("show", run_id, "--db", str(db)), cwd=db.parent).check("mendoza show")
    full = run_timed(mendoza_command("show", run_id, "--db", str(db), "--cases"), cwd=db.parent)
    full.check("mendoza show --cases")
    with Store(db, readonly=True) as store:
        from mendoza.report import build_report

        started = time.perf_counter()
        build_report(store, run_id)
        in_process = time.perf_counter() - started
    cases = size // (REPEATS * len(VARIANTS))
    rows += [
        Row(
            NAME,
            f"`mendoza show` (process), {size:,} samples, {cases:,} cases",
            f"{show.seconds:.2f} s",
            target="< 5 s",
            ok=show.seconds < 5,
        ),
        Row(NAME, f"`mendoza show --cases` (process, all {2 * cases:,} case rows)", f"{full.seconds:.2f} s"),
        Row(NAME, "build_report() in process (queries + statistics)", f"{in_process:.2f} s"),
    ]

    viewer_size = settings.size(100_000, 2_000)
    if importlib.util.find_spec("mendoza.viewer") is None:
        rows.append(Row(NAME, f"viewer grid page, {viewer_size:,} samples", "n/a: no mendoza.viewer yet"))
        return rows
    viewer_db = settings.workdir / "big" / "viewer.db"
    viewer_run, _ = build_run(viewer_db, viewer_size)
    try:
        pages = _viewer_page_seconds(viewer_db, viewer_run)
    except Exception as exc:  # the viewer is young: report, do not fail the whole command
        rows.append(Row(NAME, f"viewer grid page, {viewer_size:,} samples", f"error: {exc}"))
        return rows
    for name, (first, warm) in pages.items():
        rows.append(
            Row(
                NAME,
                f"viewer {name} (TestClient), {viewer_size:,} samples",
                f"{first:.3f} s first, {warm:.3f} s warm",
                target="< 0.5 s",
                ok=max(first, warm) < 0.5,
            )
        )
    return rows
