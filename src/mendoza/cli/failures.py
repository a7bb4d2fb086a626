"""What a failed command exits with, and the one line it prints (the table is in ``mendoza.cli.options``).

Only ``main`` uses this: commands raise, and this module decides the exit code, so every command and every
failure maps the same way.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import traceback
from dataclasses import dataclass

import click

from mendoza.cli.options import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED
from mendoza.cli.text import plain
from mendoza.errors import MendozaError, StoreError, exception_chain

__all__ = ["DEBUG_ENV", "Failure", "describe_failure", "exit_of_the_cli", "is_machine_failure"]

#: Set to 1 to see the traceback of an internal error.
DEBUG_ENV = "MENDOZA_DEBUG"

#: Errors of the machine rather than of the input: the disk or the database cannot take more writes.
_MACHINE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})
_MACHINE_WORDS = (
    "database or disk is full",
    "disk is full",
    "no space left",
    "disk quota",
    "disk i/o error",
    "read-only file system",
    "attempt to write a readonly database",
)
_MESSAGE_LIMIT = 1000


@dataclass(frozen=True)
class Failure:
    """How a command failed: its exit code, the line for stderr, and the traceback to add when debugging."""

    code: int
    line: str
    traceback: str | None = None




def is_machine_failure(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the disk is full, read-only or failing, so that the machine,
    not the input, is to blame."""
    for link in exception_chain(exc):
        if isinstance(link, OSError) and link.errno in _MACHINE_ERRNOS:
            return True
        if isinstance(link, StoreError | sqlite3.OperationalError | sqlite3.DatabaseError | OSError):
            text = str(link).lower()
            if any(words in text for words in _MACHINE_WORDS):
                return True
    return False


def exit_of_the_cli(exc: SystemExit) -> bool:
    """Whether ``exc`` is a command's own exit status: ``sys.exit`` called from a ``mendoza.cli`` module (the
    innermost frame of its traceback). Any other ``SystemExit`` came from code mendoza ran: an app, a plugin,
    a library."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return str(tb.tb_frame.f_globals.get("__name__", "")).startswith("mendoza.cli")


def _is_disk_error(exc: BaseException) -> bool:
    """Whether ``exc`` is the store's ``DiskError`` (the disk is full or failed a write), by name, so this
    module works with stores that raise it and with those that only say so in their message."""
    return any(cls.__name__ == "DiskError" for cls in type(exc).__mro__)


def _debugging() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def describe_failure(exc: BaseException) -> Failure:
    """The exit code and one line for an exception that ended a command (see the table in
    ``mendoza.cli.options``). A ``SystemExit`` passed here is not a command's own (see ``exit_of_the_cli``):
    it came from code mendoza ran (an app, a plugin) and is an internal error."""
    import asyncio  # here: a command that ends well (a report) never loads it

    if isinstance(exc, KeyboardInterrupt | asyncio.CancelledError | click.exceptions.Abort):
        return Failure(EXIT_INTERRUPTED, "interrupted")
    if isinstance(exc, BrokenPipeError):  # `mendoza show | head`: cut short, so never 0 (a gate may be unseen)
        return Failure(EXIT_INTERRUPTED, "interrupted: the output was closed")
    if isinstance(exc, click.UsageError) and type(exc).__name__ == "NoArgsIsHelpError":
        return Failure(EXIT_BAD_INPUT, exc.format_message())  # a bare `mendoza` (or group): the help, whole
    if isinstance(exc, click.ClickException):
        context = getattr(exc, "ctx", None)
        hint = f" (see: mendoza {context.command.name} --help)" if isinstance(context, click.Context) else ""
        if isinstance(context, click.Context) and context.parent is None:
            hint = " (see: mendoza --help)"
        return Failure(EXIT_BAD_INPUT, f"error: {plain(exc.format_message(), _MESSAGE_LIMIT)}{hint}")
    if isinstance(exc, MendozaError):
        message = plain(exc, _MESSAGE_LIMIT)
        if isinstance(exc, StoreError) and (_is_disk_error(exc) or is_machine_failure(exc)):
            return Failure(EXIT_INTERNAL, f"error: {message} (the machine failed, not the input: free some space "
                                          "or make the database writable, then resume the run)")
        return Failure(EXIT_BAD_INPUT, f"error: {message}")
    trace = "".join(traceback.format_exception(exc)) if _debugging() else None
    hint = "" if trace else f" (set {DEBUG_ENV}=1 for the traceback)"
    if isinstance(exc, SystemExit):
        what = f"code run by mendoza called exit({plain(exc.code, 80) if exc.code is not None else ''})"
    else:
        what = f"{type(exc).__name__}: {plain(exc, _MESSAGE_LIMIT)}" if str(exc) else type(exc).__name__
    if is_machine_failure(exc):
        return Failure(EXIT_INTERNAL, f"error: the machine failed: {what}", trace)
    return Failure(EXIT_INTERNAL, f"internal error: {what}{hint}", trace)
