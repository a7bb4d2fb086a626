"""Options and exit codes shared by the commands."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["EXIT_INTERRUPTED", "EXIT_THRESHOLD_MISSED", "EXIT_USAGE", "db_option"]

EXIT_THRESHOLD_MISSED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

db_option = click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The SQLite file (default: .mendoza/mendoza.db).",
)
