"""What ``mendoza run``, ``show`` and ``compare`` leave for a CI system: the JUnit file of ``--junit FILE``,
and the Markdown summary appended to the file ``$GITHUB_STEP_SUMMARY`` names (GitHub Actions shows it on the
job's page). The documents themselves are built in ``mendoza.report`` (``report_to_junit``,
``report_to_markdown``, ``comparison_to_markdown``); this module only writes them.

The summary is appended after the command's own output, whatever the gate's outcome; a summary that cannot
be written is one warning line on stderr and changes nothing else (the exit code stays the gate's). A JUnit
file that cannot be written is an error (exit 2): CI asked for it and would otherwise read a stale one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from mendoza.cli.failures import is_machine_failure
from mendoza.cli.text import plain
from mendoza.report import Comparison, Gate, RunReport, comparison_to_markdown, report_to_markdown

__all__ = [
    "STEP_SUMMARY_ENV",
    "STEP_SUMMARY_LIMIT",
    "append_step_summary",
    "junit_option",
    "run_summary",
    "write_junit",
]

#: The variable GitHub Actions sets to the file a step appends its Markdown summary to.
STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
#: GitHub refuses a step's summary over 1 MiB; mendoza appends at most this many bytes (the rest is cut).
STEP_SUMMARY_LIMIT = 900_000

_F = TypeVar("_F", bound=Callable[..., Any])


def junit_option(what: str) -> Callable[[_F], _F]:
    """``--junit FILE``: write ``what`` as JUnit XML to FILE (its folder is made if missing)."""
    return click.option(
        "--junit",
        "junit",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        metavar="FILE",
        help=f"Also write {what} as a JUnit XML file for CI (a testsuite per variant or comparison, a testcase "
        "per threshold check; inconclusive checks are skipped tests).",
    )


def write_junit(path: Path, document: bytes, *, again: str | None = None) -> None:
    """Write the JUnit ``document`` to ``path``, making its folder; a failure is a ``click.FileError`` (exit
    2), unless the machine failed (disk full: exit 4). ``again`` says how to write it once more."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(document)
    except (OSError, ValueError) as exc:
        if isinstance(exc, OSError) and is_machine_failure(exc):
            raise
        reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
        hint = f"{reason}; {again}" if again else reason
        raise click.FileError(plain(path, 300), hint=plain(hint, 300)) from None


def _bounded(markdown: str, limit: int = STEP_SUMMARY_LIMIT) -> str:
    """``markdown`` cut at a line break to at most ``limit`` bytes of UTF-8, with a line saying so."""
    data = markdown.encode("utf-8", errors="replace")
    if len(data) <= limit:
        return markdown
    kept = data[:limit].decode("utf-8", errors="ignore")
    kept = kept[: kept.rfind("\n") + 1] if "\n" in kept else kept
    return kept + "\n\n*(cut here: the summary is larger than a CI job summary may be)*\n"


def append_step_summary(markdown: str) -> None:
    """Append ``markdown`` to the file ``$GITHUB_STEP_SUMMARY`` names, when it names one. Never raises: a
    failure is one warning line on stderr."""
    target = os.environ.get(STEP_SUMMARY_ENV, "")
    if not target.strip():
        return
    try:
        with open(target, "a", encoding="utf-8", errors="replace", newline="\n") as handle:
            handle.write("\n" + _bounded(markdown))
    except (OSError, ValueError) as exc:
        reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__
        click.echo(
            f"warning: could not append the summary to ${STEP_SUMMARY_ENV} ({plain(target, 200)}): "
            f"{plain(reason, 200)}",
            err=True,
        )


def run_summary(report: RunReport, gate: Gate, comparisons: Sequence[Comparison] = (), *, cases: bool) -> str:
    """The Markdown summary of a run: its report with the gate, then its comparisons with a baseline."""
    summary = report_to_markdown(report, gate, cases=cases)
    if comparisons:
        summary += "\n" + comparison_to_markdown(comparisons, level=2)
    return summary
