"""Run every benchmark and print one table: ``python -m benchmarks`` (see ``--help`` and README.md)."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import (
    batched_local,
    big_runs,
    harness_overhead,
    latency_limit,
    local_model,
    memory,
    ray_executor,
    startup,
    step_capture,
    store_backends,
)
from benchmarks.common import REPO, Settings
from benchmarks.table import Row, machine_description, render_table

__all__ = ["BENCHMARKS", "main", "run_benchmarks"]

#: name -> the function that measures it; run in this order.
BENCHMARKS: dict[str, Callable[[Settings], list[Row]]] = {
    "harness": harness_overhead.run,
    "latency": latency_limit.run,
    "memory": memory.run,
    "local": local_model.run,
    "batched": batched_local.run,
    "big": big_runs.run,
    "steps": step_capture.run,
    "ray": ray_executor.run,
    "stores": store_backends.run,
    "startup": startup.run,
}

_README = REPO / "benchmarks" / "README.md"
_BEGIN, _END = "<!-- results:begin -->", "<!-- results:end -->"


def run_benchmarks(settings: Settings, names: Sequence[str], echo: bool = True) -> list[Row]:
    """Run the named benchmarks in order; a benchmark that crashes becomes one row saying so."""
    rows: list[Row] = []
    for name in names:
        if echo:
            print(f"- {name} ...", flush=True)
        started = time.perf_counter()
        try:
            found = BENCHMARKS[name](settings)
        except Exception as exc:
            found = [Row(name, "crashed", f"{type(exc).__name__}: {exc}".splitlines()[0][:200], ok=False)]
        if echo:
            for row in found:
                print(
                    f"    {row.measure}: {row.mendoza}  {row.reference}  {row.ratio}  {row.verdict}",
                    flush=True,
                )
            print(f"  ({time.perf_counter() - started:.0f} s)", flush=True)
        rows.extend(found)
    return rows


def _write_readme(text: str) -> None:
    content = _README.read_text(encoding="utf-8")
    if _BEGIN not in content or _END not in content:
        raise SystemExit(f"{_README}: no {_BEGIN} ... {_END} markers to put the results between")
    head, rest = content.split(_BEGIN, 1)
    _, tail = rest.split(_END, 1)
    _README.write_text(f"{head}{_BEGIN}\n{text}\n{_END}{tail}", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse options, run, print the table; exit 0 even when a target is missed (these are not tests)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of a minute or two")
    parser.add_argument(
        "--only", default=",".join(BENCHMARKS), help=f"comma-separated subset of: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument(
        "--no-inspect", action="store_true", help="measure mendoza alone (no Inspect AI venv)"
    )
    parser.add_argument("--no-local-model", action="store_true", help="skip the llama.cpp benchmark")
    parser.add_argument(
        "--workdir", type=Path, help="keep the suites and databases here (default: a temp dir)"
    )
    parser.add_argument(
        "--write-readme", action="store_true", help="record the table in benchmarks/README.md"
    )
    arguments = parser.parse_args(argv)
    names = [name.strip() for name in arguments.only.split(",") if name.strip()]
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}: choose from {', '.join(BENCHMARKS)}")

    machine = machine_description()
    print(f"machine: {machine}", flush=True)
    workdir = arguments.workdir or Path(tempfile.mkdtemp(prefix="mendoza-bench-"))
    settings = Settings(
        workdir=workdir.resolve(),
        quick=arguments.quick,
        inspect=not arguments.no_inspect,
        local_model=not arguments.no_local_model,
    )
    started = time.perf_counter()
    try:
        rows = run_benchmarks(settings, names)
    finally:
        if arguments.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    minutes = (time.perf_counter() - started) / 60
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = " (--quick)" if arguments.quick else ""
    text = f"Measured {stamp}{mode} in {minutes:.1f} min on: {machine}\n\n{render_table(rows)}"
    print()
    print(text)
    if arguments.write_readme:
        _write_readme(text)
        print(f"\nrecorded in {_README.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
