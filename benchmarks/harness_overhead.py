"""Harness overhead: an instant model, a substring grader, every sample persisted, mendoza beside Inspect AI.

mendoza: ``mendoza run`` in a child process on the ``echo`` provider with a ``contains`` grader, into SQLite.
Inspect AI: ``eval()`` in its own virtualenv with an instant echo ``ModelAPI`` and ``includes()``, logging to
its log dir. Same cases (``say wN`` -> expected ``wN``), same repeats (Inspect's epochs).

The rate in the run is samples over the run's own duration (mendoza: created to finished in the store;
Inspect: the ``eval()`` call); end to end adds each tool's start-up, suite loading and final report.
"""

from __future__ import annotations

from benchmarks.common import Settings, mendoza_command, rate, run_seconds, run_timed, write_echo_suite
from benchmarks.inspect_env import INSPECT_VERSION, run_inspect_script
from benchmarks.table import Row
from mendoza.store import Store

__all__ = ["run"]

NAME = "harness overhead"


def run(settings: Settings) -> list[Row]:
    """Measure mendoza, then Inspect AI, on the same work; rows with the ratios."""
    cases, repeats = settings.size(2_000, 100), 10
    total = cases * repeats
    folder = settings.workdir / "harness"
    suite = write_echo_suite(folder, cases, repeats)
    db = folder / "mendoza.db"
    process = run_timed(mendoza_command("run", str(suite), "--db", str(db), "-q"), cwd=folder)
    process.check("mendoza run")
    with Store(db, readonly=True) as store:
        finished = store.runs.get("latest")
        passed = sum(counts.passed for counts in store.samples.variant_counts(finished.id))
    if finished.done_samples != total or passed != total:
        raise RuntimeError(
            f"mendoza stored {finished.done_samples} samples, {passed} passed; expected {total}"
        )
    in_run = rate(total, run_seconds(finished))
    end_to_end = rate(total, process.seconds)
    work = f"({cases:,} cases x {repeats}, echo, contains, SQLite)"
    rows = [
        Row(NAME, f"samples/s in the run {work}", f"{in_run:,.0f}", target=">= 5,000/s", ok=in_run >= 5_000),
    ]
    if not settings.inspect:
        rows.append(Row(NAME, "samples/s end to end (process)", f"{end_to_end:,.0f}"))
        rows.append(Row(NAME, f"peak RSS at {total:,} samples", f"{process.peak_rss_mib:.0f} MiB"))
        return rows

    inspect_folder = folder / "inspect"
    inspect_folder.mkdir(exist_ok=True)
    result = run_inspect_script(
        "echo_eval.py", str(cases), str(repeats), str(inspect_folder / "logs"), cwd=inspect_folder
    )
    report = result.last_json()
    if report["samples"] != total or report["accuracy"] != 1.0:
        raise RuntimeError(f"Inspect AI did not finish its samples: {report}")
    inspect_in_run = rate(total, report["eval_seconds"])
    inspect_end_to_end = rate(total, result.seconds)
    reference = f"Inspect {INSPECT_VERSION}"
    ratio = in_run / inspect_in_run
    rows[0] = Row(
        NAME,
        f"samples/s in the run {work}",
        f"{in_run:,.0f}",
        f"{inspect_in_run:,.1f} ({reference})",
        f"{ratio:,.0f}x",
        ">= 5,000/s and >= 50x",
        in_run >= 5_000 and ratio >= 50,
    )
    rows.append(
        Row(
            NAME,
            "samples/s end to end (process, with start-up)",
            f"{end_to_end:,.0f}",
            f"{inspect_end_to_end:,.1f}",
            f"{end_to_end / inspect_end_to_end:,.0f}x",
        )
    )
    rows.append(
        Row(
            NAME,
            f"peak RSS at {total:,} samples",
            f"{process.peak_rss_mib:.0f} MiB",
            f"{result.peak_rss_mib:.0f} MiB",
            f"{result.peak_rss_mib / process.peak_rss_mib:.1f}x less",
        )
    )
    return rows
