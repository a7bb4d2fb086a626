"""The ``mendoza`` command line: thin over ``mendoza.api`` and ``mendoza.report``."""

from mendoza.cli.main import cli, main

__all__ = ["cli", "main"]
