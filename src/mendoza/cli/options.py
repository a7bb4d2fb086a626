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

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from mendoza.report import VERDICTS, Gate
from mendoza.store import is_database_url

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_GATE_FAILED",
    "EXIT_INCONCLUSIVE",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_THRESHOLD_MISSED",
    "EXIT_USAGE",
    "MAX_CONCURRENCY",
    "FiniteFloatRange",
    "concurrency_option",
    "db_option",
    "exit_for_gate",
    "on_inconclusive_option",
    "serve_options",
    "verdicts_option",
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


class DatabaseParam(click.ParamType):  # type: ignore[type-arg]
    """``--db``: an SQLite file (a ``Path``), or a PostgreSQL database's address (``postgresql://...``, kept as
    text)."""

    name = "database"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path | str:
        if isinstance(value, Path) or is_database_url(value):
            return value  # type: ignore[no-any-return]
        text = str(value)
        scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", text)
        if scheme:
            self.fail(f"{scheme[1]}:// is not a database mendoza knows: give a file, or postgresql://user@host/db")
        path = Path(text)
        if path.is_dir():
            self.fail(f"{text}: is a folder; give the database file's name (e.g. {text}/mendoza.db)")
        return path


db_option = click.option(
    "--db",
    type=DatabaseParam(),
    envvar="MENDOZA_DB",
    default=None,
    help="The SQLite file (default: .mendoza/mendoza.db), or a PostgreSQL database a team shares "
    "(postgresql://user@host/db). Also MENDOZA_DB.",
)

verdicts_option = click.option(
    "--verdicts",
    type=click.Choice(VERDICTS),
    default="human-adjusted",
    show_default=True,
    help="Count a person's label where there is one (human-adjusted), or the graders' verdicts alone "
    "(automatic). Where labels exist, the other figure is shown beside it.",
)

on_inconclusive_option = click.option(
    "--on-inconclusive",
    type=click.Choice(["pass", "fail"]),
    default=None,
    help="Whether an inconclusive gate fails (exit 3) or passes (exit 0); default: the suite's "
    "thresholds.on_inconclusive (pass).",
)


def exit_for_gate(gate: Gate) -> int:
    """The exit code of a gate: 0 pass, 1 fail, 3 inconclusive when it fails CI (else 0)."""
    if gate.outcome == "fail":
        return EXIT_GATE_FAILED
    if gate.fails_ci:
        return EXIT_INCONCLUSIVE
    return EXIT_OK


#: The most calls in flight per variant that ``--concurrency`` or a suite's ``concurrency`` may ask for.
MAX_CONCURRENCY = 1024

_F = TypeVar("_F", bound=Callable[..., Any])


def concurrency_option(help_text: str, default: int | None) -> Callable[[_F], _F]:
    """``--concurrency N``, bounded to 1..``MAX_CONCURRENCY`` (more only exhausts the machine)."""
    return click.option(
        "--concurrency",
        type=click.IntRange(1, MAX_CONCURRENCY),
        default=default,
        show_default=default is not None,
        help=f"{help_text} 1 to {MAX_CONCURRENCY}.",
    )


def serve_options(function: _F) -> _F:
    """``--port``, ``--host``, ``--token`` and ``--tokens-file``: where a command that serves the viewer listens,
    and its secret, or a team's named secrets (the command passes ``tokens`` and ``tokens_file`` to
    ``mendoza.viewer.parse_tokens``)."""
    function = click.option(
        "--tokens-file",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="MENDOZA_VIEW_TOKENS_FILE",
        help="A file of named tokens, one NAME=SECRET a line (# comments), instead of --token on the command line.",
    )(function)
    function = click.option(
        "--token",
        "tokens",
        multiple=True,
        envvar="MENDOZA_VIEW_TOKEN",
        help="Secret every request must carry (required off 127.0.0.1). For a team, one per person: "
        "--token alice=SECRET --token bob=SECRET2 (their labels carry their names).",
    )(function)
    function = click.option("--host", default="127.0.0.1", show_default=True,
                            help="Address to listen on (off loopback: --token).")(function)
    return click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
                        help="Port (0: any free).")(function)


class FiniteFloatRange(click.FloatRange):
    """``click.FloatRange`` that also refuses ``nan`` and ``inf`` (``nan`` passes every range comparison)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number
