"""Untrusted text made safe to print: clipped, on one line, with rich markup escaped.

Suite names, variant and case ids, model outputs and error messages come from files and models that
mendoza does not control. Printed as they are, a ten-megabyte name keeps rich's highlighter busy for hours,
``[answer]`` vanishes as markup, and an escape sequence re-colours the terminal. Every such value goes
through ``clip`` (names, one line) or ``clip_block`` (outputs, several lines) before it is printed, on a
console made by ``make_console`` (no regex highlighter).

Output that goes to no terminal (a CI log, a pipe, a file) has no width to fit: ``make_console`` gives it
``$COLUMNS`` when set, else ``PLAIN_WIDTH`` columns for text and tables as wide as their content, so that no
cell (a pass@k figure, a run id) is wrapped or cut at rich's default 80 columns.
"""

from __future__ import annotations

import os
import re
from typing import IO, Any

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

__all__ = ["BLOCK_LIMIT", "NAME_LIMIT", "PLAIN_WIDTH", "clip", "clip_block", "make_console", "plain"]

#: At most this many characters of a name, id or one-line message are printed.
NAME_LIMIT = 80
#: At most this many characters of a multi-line value (a model's output) are printed.
BLOCK_LIMIT = 4000

#: The width of output that goes to no terminal, when ``$COLUMNS`` does not set one.
PLAIN_WIDTH = 200
#: The widest a table is printed to no terminal (a bound on the measuring, not a width anyone reaches).
_WIDEST_TABLE = 100_000

_ELLIPSIS = "…"
# C0 and C1 control characters (ESC included), except newline and tab, which plain() handles.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"\s+")


def plain(value: object, limit: int = NAME_LIMIT, *, one_line: bool = True) -> str:
    """``value`` as text of at most ``limit`` characters (an ellipsis marks a cut), control characters
    shown as ``?``, and on one line unless ``one_line`` is false. No markup escaping: for ``click.echo``."""
    text = str(value)
    # Cut before any regex runs, so the work is bounded however long the value is.
    cut = len(text) > limit
    text = text[: limit + 1] if cut else text
    if one_line:
        text = _SPACE.sub(" ", text)
    text = _CONTROL.sub("?", text)
    if cut or len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + _ELLIPSIS
    return text


def clip(value: object, limit: int = NAME_LIMIT) -> str:
    """A name, id or message for rich: at most ``limit`` characters on one line, markup escaped."""
    return escape(plain(value, limit))


def clip_block(value: object, limit: int = BLOCK_LIMIT) -> str:
    """A long value (a model's output) for rich: at most ``limit`` characters, line breaks kept, markup
    escaped; a cut says how many characters were left out."""
    text = str(value)
    if len(text) <= limit:
        return escape(plain(text, limit, one_line=False))
    shown = plain(text[:limit], limit, one_line=False)
    return escape(f"{shown} [{len(text) - limit:,} more characters]")


class _Console(Console):
    #: Output to no terminal: a table is printed as wide as its content (a log has no edge to fit).
    tables_whole = False

    def print(self, *objects: Any, **options: Any) -> None:
        """``Console.print``; with ``tables_whole``, tables wider than the console widen it while they print,
        so that no cell is wrapped or cut with an ellipsis."""
        if self.tables_whole and objects and all(isinstance(item, Table) for item in objects):
            wide = self.options.update_width(_WIDEST_TABLE)
            natural = max(Measurement.get(self, wide, item).maximum for item in objects)
            if natural > self.width:
                width = self.width
                self.width = natural
                try:
                    super().print(*objects, **options)
                finally:
                    self.width = width
                return
        super().print(*objects, **options)

    def on_broken_pipe(self) -> None:
        """A closed pipe (``mendoza show | head``) is the reader's choice: raise it for ``main`` to map, instead
        of rich's ``SystemExit(1)`` (which reads as "a gate failed")."""
        raise BrokenPipeError("the output was closed")


def _is_a_terminal(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, OSError, ValueError):  # a closed or unusual stream: not a terminal
        return False


def _columns() -> int | None:
    """``$COLUMNS`` when it holds a usable width."""
    value = os.environ.get("COLUMNS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def make_console(file: IO[str] | None = None, *, stderr: bool = False) -> Console:
    """The CLI's console: rich markup on, the regex highlighter off (it is slow on long untrusted text and
    colours numbers in names at random). On a terminal it fits the terminal, as rich does; to anything else
    it writes ``$COLUMNS`` wide when set, else lines ``PLAIN_WIDTH`` wide and tables as wide as their content
    (a CI log or a pipe has no width to fit)."""
    # No emoji codes: a name like 'a:v is' must not print as a peace sign.
    console = _Console(file=file, stderr=stderr, highlight=False, emoji=False)
    if _columns() is None and not _is_a_terminal(console.file):
        console.width = PLAIN_WIDTH
        console.tables_whole = True
    return console
