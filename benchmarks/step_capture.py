"""Step capture overhead: an echo-like ``python:`` app that records 5 steps per sample, run with mendoza
capturing its steps (spans collected, converted and stored with the sample) and with capture switched off
(the same app and spans, nothing collected or stored), in alternating rounds in one process; plus the same
app without any step, for the cost of the spans themselves.

The ratio is the median of the rounds' paired ratios (samples/s with capture over samples/s without).
"""

from __future__ import annotations

import contextlib
import statistics
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.common import Settings
from benchmarks.table import Row
from mendoza.api import run_suite
from mendoza.calls.tracing import CapturedSteps
from mendoza.core import Case, Suite, Variant
from mendoza.providers import python_callable
from mendoza.store import Store

__all__ = ["run"]

NAME = "step capture"

_APP = '''
import mendoza

def five_steps(vars):
    text = vars["q"]
    for name, kind in (("route", "llm"), ("fetch", "retrieval"), ("tool", "tool"), ("draft", "llm"),
                       ("check", "guardrail")):
        with mendoza.step(name, kind=kind, input=text) as step:
            step.output = text = text + "."
    return text

def no_steps(vars):
    text = vars["q"]
    for _ in range(5):
        text = text + "."
    return text
'''


@contextlib.contextmanager
def _no_capture() -> Iterator[CapturedSteps]:
    yield CapturedSteps()


def _suite(app: Path, function: str, cases: int) -> Suite:
    return Suite(
        name=f"steps-{function}",
        cases=tuple(Case(id=f"c{i}", vars={"q": f"q{i}"}) for i in range(cases)),
        variants=(Variant(id="app", model=f"python:{app}:{function}", concurrency=8),),
        cache=False,
    )


def _rate(suite: Suite, db: Path) -> float:
    with Store(db) as store:
        started = time.perf_counter()
        run = run_suite(suite, db=store)
        seconds = time.perf_counter() - started
        if run.done_samples != len(suite.cases):
            raise RuntimeError(f"{suite.name}: {run.done_samples} of {len(suite.cases)} samples")
    return len(suite.cases) / seconds


def run(settings: Settings) -> list[Row]:
    """Alternate rounds of capture on / off (and no steps at all); rows with the rates and the ratio."""
    cases, rounds = settings.size(2_000, 300), settings.size(5, 3)
    folder = settings.workdir / "steps"
    folder.mkdir(parents=True, exist_ok=True)
    app = folder / "steps_app.py"
    app.write_text(textwrap.dedent(_APP), encoding="utf-8")
    with_steps, without = _suite(app, "five_steps", cases), _suite(app, "no_steps", cases)
    on: list[float] = []
    off: list[float] = []
    bare: list[float] = []
    for index in range(rounds):
        on.append(_rate(with_steps, folder / f"on-{index}.db"))
        original = python_callable.capture_steps
        python_callable.capture_steps = _no_capture  # type: ignore[assignment]
        try:
            off.append(_rate(with_steps, folder / f"off-{index}.db"))
        finally:
            python_callable.capture_steps = original
        bare.append(_rate(without, folder / f"bare-{index}.db"))
    with Store(folder / "on-0.db") as store:
        stored = sum(len(s.steps) for s in store.samples.iterate(store.runs.get("latest").id, steps=True))
    if stored != 5 * cases:
        raise RuntimeError(f"capture stored {stored} steps, expected {5 * cases}")
    ratio = statistics.median(a / b for a, b in zip(on, off, strict=True))
    work = f"({cases:,} samples x {rounds} rounds, 5 steps each)"
    return [
        Row(NAME, f"samples/s, capture on {work}", f"{statistics.median(on):,.0f}",
            f"off: {statistics.median(off):,.0f}", f"{ratio:.2f}", target=">= 0.5 of off", ok=ratio >= 0.5),
        Row(NAME, "samples/s, same app without steps", f"{statistics.median(bare):,.0f}"),
        Row(NAME, "capture cost per sample (ms)",
            f"{(1 / statistics.median(on) - 1 / statistics.median(off)) * 1000:.3f}"),
    ]
