"""Options and exit codes shared by the commands.

Exit codes are part of mendoza's interface (CI scripts branch on them) and stay stable:

| code | meaning |
|------|---------|
| 0    | done; every gate passed (or was inconclusive with ``on_inconclusive: pass``) |
| 1    | a gate failed: a threshold was missed, or every sample of a variant errored |
| 2    | bad input: a usage mistake, an invalid suite, dataset or option, an unusable database |
| 3    | a gate was inconclusive (the data decide neither way) and ``on_inconclusive: fail`` |
| 4    | internal error: a bug in mendoza, or the machine failed it (disk full); the message says which |
| 130  | interrupted (Ctrl-C, SIGTERM): the run can be finished with ``mendoza run --resume RUN`` |
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_GATE_FAILED",
    "EXIT_INCONCLUSIVE",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_THRESHOLD_MISSED",
    "EXIT_USAGE",
    "db_option",
]

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INCONCLUSIVE = 3
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130

#: Older names, kept for the commands that use them.
EXIT_THRESHOLD_MISSED = EXIT_GATE_FAILED
EXIT_USAGE = EXIT_BAD_INPUT

db_option = click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The SQLite file (default: .mendoza/mendoza.db).",
)
