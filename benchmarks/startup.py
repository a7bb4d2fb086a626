"""Start-up: how long a user waits for ``mendoza --help`` and for ``mendoza show`` on a small run.

Each is the median of several fresh processes (``python -m mendoza ...``, the CLI as installed), with the bare
interpreter (``python -c pass``) measured in the same rounds as the floor no command can go under. Wall time is
what a user waits; CPU time (user + system, from ``wait4``) moves less with other work on the machine. The
small run is 20 cases x 3 repeats on the ``echo`` provider, stored first. Byte code is written (whatever
``PYTHONDONTWRITEBYTECODE`` says here) and one round is run first and not counted: an installed package has
its ``.pyc`` files, and compiling a module is not what a user waits for on the second command.
"""

from __future__ import annotations

import os
import statistics
import sys

from benchmarks.common import Settings, Timed, mendoza_command, run_timed, write_echo_suite
from benchmarks.table import Row

__all__ = ["run"]

NAME = "start-up"
TARGET = 0.3


def _median(runs: list[Timed]) -> tuple[float, float]:
    return statistics.median(t.seconds for t in runs), statistics.median(t.cpu_seconds for t in runs)


def run(settings: Settings) -> list[Row]:
    """``mendoza --help`` and ``mendoza show`` against the bare interpreter, in alternating rounds."""
    rounds = settings.size(9, 3)
    folder = settings.workdir / "startup"
    suite = write_echo_suite(folder, 20, 3)
    db = folder / "mendoza.db"
    run_timed(mendoza_command("run", str(suite), "--db", str(db), "-q"), cwd=folder).check("mendoza run")
    commands = {
        "python": [sys.executable, "-c", "pass"],
        "help": mendoza_command("--help"),
        "show": mendoza_command("show", "--db", str(db)),
    }
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    timings: dict[str, list[Timed]] = {name: [] for name in commands}
    for round_number in range(rounds + 1):
        for name, command in commands.items():
            timed = run_timed(command, cwd=folder, env=env).check(" ".join(command[-3:]))
            if round_number:  # the first round writes the byte code
                timings[name].append(timed)
    floor, floor_cpu = _median(timings["python"])
    reference = f"{floor:.3f} s (CPU {floor_cpu:.3f} s): bare python"
    rows = []
    for name, measure in (
        ("help", "`mendoza --help`: median of fresh processes"),
        ("show", "`mendoza show` (process), 20 cases x 3 repeats"),
    ):
        wall, cpu = _median(timings[name])
        rows.append(
            Row(
                NAME,
                f"{measure} ({rounds} rounds)",
                f"{wall:.3f} s (CPU {cpu:.3f} s)",
                reference,
                f"+{wall - floor:.3f} s",
                f"< {TARGET} s",
                wall < TARGET,
            )
        )
    return rows
