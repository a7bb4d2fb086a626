"""The ``mendoza`` program: the group of commands and the entry point (``mendoza.cli:main``).

Each command lives in the module that owns its topic and is imported only when it runs (``cli/lazy.py``):
the table below is what ``mendoza --help`` lists, so start-up imports click and nothing of the runner,
the report, numpy or SciPy. A new command gets a line here.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import NoReturn

import click

from mendoza.cli.lazy import CommandEntry, LazyGroup

__all__ = ["COMMANDS", "cli", "main"]

_MAIN = "mendoza.cli.commands"

#: Every command: where it is, and its line in ``mendoza --help``.
COMMANDS: dict[str, CommandEntry] = {
    "init": CommandEntry(f"{_MAIN}:init", "Scaffold a working example suite in a new folder."),
    "run": CommandEntry(f"{_MAIN}:run", "Run a suite, store every sample, print the reliability report."),
    "runs": CommandEntry(f"{_MAIN}:runs", "List runs, newest first."),
    "show": CommandEntry(f"{_MAIN}:show", "The reliability report of a run (terminal, JSON, Markdown, HTML)."),
    "report": CommandEntry(f"{_MAIN}:show", "Same as show."),
    "export": CommandEntry(f"{_MAIN}:export", "Every sample of a run as JSON Lines, or the run as a run file."),
    "import": CommandEntry(f"{_MAIN}:import_command", "Import the run of a run file (.mdz) into the store."),
    "graders": CommandEntry(f"{_MAIN}:graders", "List the graders a suite can use."),
    "providers": CommandEntry(f"{_MAIN}:providers", "List the providers a variant's model can name."),
    "view": CommandEntry(f"{_MAIN}:view", "Serve the web viewer: runs, grid, samples, overrule, review."),
    "compare": CommandEntry(
        "mendoza.cli.analysis:compare", "Paired comparison, case by case: did B really get better than A?"
    ),
    "plan": CommandEntry(
        "mendoza.cli.analysis:plan", "How many cases x repeats to tell two variants apart, or pin one down."
    ),
    "design": CommandEntry(
        "mendoza.cli.design:design", "Which design around a run's variants reaches what reliability, at what cost."
    ),
    "history": CommandEntry("mendoza.cli.history:history", "Every run of a suite, oldest first, changes flagged."),
    "label": CommandEntry("mendoza.cli.soft:label", "Label samples of a run by hand: pass, fail, a score, a note."),
    "calibrate": CommandEntry(
        "mendoza.cli.soft:calibrate_command", "Compare a grader with the human labels: agreement, kappa."
    ),
    "rank": CommandEntry("mendoza.cli.soft:rank", "Rank a run's variants by a judge's pairwise preferences."),
    "regrade": CommandEntry(
        "mendoza.cli.soft:regrade", "Apply new or changed graders to a run's stored outputs."
    ),
    "cases": CommandEntry(
        "mendoza.cli.cases:cases", "Write and keep better cases: draft, perturb, import, dedupe, analyze, subset."
    ),
    "rubric": CommandEntry(
        "mendoza.cli.rubric:rubric", "Draft a rubric from a run's labels and measure it on held-out ones."
    ),
}


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.version_option(package_name="mendoza")
def cli() -> None:
    """mendoza: evals for stochastic AI features. How often is it good, really, and is this change real?"""


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so flushing it at exit does not fail again on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: whatever was written stays, and the exit status is 130."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: run the CLI; exit with the code of the table in ``mendoza.cli.options`` (one line on
    stderr for any failure; ``MENDOZA_DEBUG=1`` adds the traceback of an internal error)."""
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not on the main thread (an embedding program): leave signals alone
        previous = None
    try:
        result = cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except SystemExit as exc:
        from mendoza.cli.failures import exit_of_the_cli

        if exit_of_the_cli(exc):  # a command's own sys.exit(code) (ctx.exit() comes back as ``result``)
            raise
        if type(sys.stdout).__name__ == "_PacifyFlushWrapper":  # click's own exit(1) on a closed pipe (`| head`)
            _fail(BrokenPipeError())
        _fail(exc)  # an app's exit(0) must not pass a CI gate
    except BaseException as exc:
        _fail(exc)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if not isinstance(result, int):  # a command that returned: it did what it was asked
        from mendoza.cli.options import EXIT_OK

        result = EXIT_OK
    sys.exit(result)


def _fail(exc: BaseException) -> NoReturn:
    """Print the one line (and the traceback when debugging) for ``exc`` and exit with its code."""
    from mendoza.cli.failures import describe_failure

    failure = describe_failure(exc)
    if isinstance(exc, BrokenPipeError):
        _silence_stdout()
    if failure.traceback:
        click.echo(failure.traceback, err=True, nl=False)
    click.echo(failure.line, err=True)
    sys.exit(failure.code)
