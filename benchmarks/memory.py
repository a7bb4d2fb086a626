"""Memory: the peak RSS of ``mendoza run`` (a child process) at 10x more samples must stay flat, since
samples stream to the store and nothing holds a whole run in memory."""

from __future__ import annotations

from benchmarks.common import Settings, mendoza_command, run_timed, write_echo_suite
from benchmarks.table import Row
from mendoza.store import Store

__all__ = ["run"]

NAME = "memory"
REPEATS = 10
LIMIT_MIB = 200


def _peak_rss(settings: Settings, cases: int) -> float:
    folder = settings.workdir / f"memory-{cases}"
    suite = write_echo_suite(folder, cases, REPEATS)
    db = folder / "mendoza.db"
    process = run_timed(mendoza_command("run", str(suite), "--db", str(db), "-q"), cwd=folder)
    process.check("mendoza run")
    with Store(db, readonly=True) as store:
        done = store.get_run("latest").done_samples
    if done != cases * REPEATS:
        raise RuntimeError(f"mendoza stored {done} of {cases * REPEATS} samples")
    return process.peak_rss_mib


def run(settings: Settings) -> list[Row]:
    """Peak RSS of a small and a 10x larger run (cases x 10 repeats, echo provider)."""
    small_cases = settings.size(1_000, 50)
    large_cases = small_cases * 10
    small, large = _peak_rss(settings, small_cases), _peak_rss(settings, large_cases)
    small_n, large_n = small_cases * REPEATS, large_cases * REPEATS
    return [
        Row(NAME, f"peak RSS of `mendoza run`, {small_n:,} echo samples", f"{small:.0f} MiB"),
        Row(
            NAME,
            f"peak RSS of `mendoza run`, {large_n:,} echo samples",
            f"{large:.0f} MiB",
            f"{small:.0f} MiB at {small_n:,}",
            f"{large / small:.2f}x for 10x samples",
            f"< {LIMIT_MIB} MiB",
            large < LIMIT_MIB,
        ),
    ]
