"""A click group whose commands are imported when they are run, not when the program starts.

``mendoza --help`` lists every command from the table of names, import paths and one-line summaries, and
imports none of them: a command's module (and what it imports: the runner, the report, numpy, SciPy, rich)
is loaded only when that command runs or shows its own help. This is what keeps start-up under 0.3 s.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass

import click

__all__ = ["CommandEntry", "LazyGroup"]


@dataclass(frozen=True)
class CommandEntry:
    """Where a command is (``module:attribute``) and the line ``--help`` lists it with."""

    target: str
    summary: str

    def load(self) -> click.Command:
        """Import the command."""
        module, _, attribute = self.target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.target} is not a click command")
        return command


class LazyGroup(click.Group):
    """A group of ``commands`` (name -> ``CommandEntry``) loaded on first use (see the module)."""

    def __init__(self, *args: object, lazy: Mapping[str, CommandEntry], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self.lazy:
            command = self.lazy[cmd_name].load()
            self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The listing of ``--help``, from the summaries: no command is imported to print it."""
        rows = []
        for name in self.list_commands(ctx):
            entry = self.lazy.get(name)
            command = None if entry is not None else super().get_command(ctx, name)
            if entry is not None:
                rows.append((name, entry.summary))
            elif command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
