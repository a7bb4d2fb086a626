"""Memory: the peak RSS of ``mendoza run`` (a child process) at 10x more samples must stay flat, since
samples stream to the store and nothing holds a whole run in memory.

Two ways to get 10x the samples: 10x the repeats (only the samples grow: this isolates streaming) and 10x
the cases (the suite itself grows too: its cases are held in memory, as they must be to be sampled).
"""

from __future__ import annotations

from benchmarks.common import Settings, mendoza_command, run_timed, write_echo_suite
from benchmarks.table import Row
from mendoza.store import Store

__all__ = ["run"]

NAME = "memory"
LIMIT_MIB = 200


def _peak_rss(settings: Settings, cases: int, repeats: int) -> float:
    folder = settings.workdir / f"memory-{cases}x{repeats}"
    suite = write_echo_suite(folder, cases, repeats)
    db = folder / "mendoza.db"
    process = run_timed(mendoza_command("run", str(suite), "--db", str(db), "-q"), cwd=folder)
    process.check("mendoza run")
    with Store(db, readonly=True) as store:
        done = store.runs.get("latest").done_samples
    if done != cases * repeats:
        raise RuntimeError(f"mendoza stored {done} of {cases * repeats} samples")
    return process.peak_rss_mib


def run(settings: Settings) -> list[Row]:
    """Peak RSS of a small run, then of 10x the samples by repeats and by cases (echo provider)."""
    cases, repeats = settings.size(1_000, 50), 10
    small = _peak_rss(settings, cases, repeats)
    by_repeats = _peak_rss(settings, cases, repeats * 10)
    by_cases = _peak_rss(settings, cases * 10, repeats)
    small_n, large_n = cases * repeats, cases * repeats * 10
    rows = [
        Row(
            NAME,
            f"peak RSS of `mendoza run`, {small_n:,} echo samples ({cases:,} x {repeats})",
            f"{small:.0f} MiB",
        )
    ]
    for label, peak in (
        (f"{cases:,} x {repeats * 10}", by_repeats),
        (f"{cases * 10:,} x {repeats}", by_cases),
    ):
        rows.append(
            Row(
                NAME,
                f"peak RSS of `mendoza run`, {large_n:,} echo samples ({label})",
                f"{peak:.0f} MiB",
                f"{small:.0f} MiB at {small_n:,}",
                f"{peak / small:.2f}x for 10x samples",
                f"< {LIMIT_MIB} MiB",
                peak < LIMIT_MIB,
            )
        )
    return rows
