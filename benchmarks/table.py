"""The one table every benchmark adds rows to: a figure for mendoza, the reference beside it, their ratio,
the target and whether it holds. Printed as Markdown, so the same text goes to the terminal and the README."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Row", "machine_description", "render_table"]


@dataclass(frozen=True)
class Row:
    """One measured line. ``ok`` is None where the line has no target (a figure shown for context)."""

    benchmark: str
    measure: str
    mendoza: str
    reference: str = ""
    ratio: str = ""
    target: str = ""
    ok: bool | None = None

    @property
    def verdict(self) -> str:
        """``yes``, ``NO`` or empty (no target)."""
        return "" if self.ok is None else ("yes" if self.ok else "NO")


_COLUMNS = ("benchmark", "measure", "mendoza", "reference", "ratio", "target", "holds")


def render_table(rows: Sequence[Row]) -> str:
    """The rows as an aligned Markdown table."""
    cells = [[r.benchmark, r.measure, r.mendoza, r.reference, r.ratio, r.target, r.verdict] for r in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(_COLUMNS)]

    def line(values: Sequence[str]) -> str:
        return (
            "| " + " | ".join(value.ljust(width) for value, width in zip(values, widths, strict=True)) + " |"
        )

    return "\n".join(
        [line(_COLUMNS), "|" + "|".join("-" * (width + 2) for width in widths) + "|", *map(line, cells)]
    )


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for text in cpuinfo:
                if text.startswith("model name"):
                    return text.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gib() -> str:
    try:
        with open("/proc/meminfo") as meminfo:
            kib = int(meminfo.readline().split()[1])
        return f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        return "? GiB"


def machine_description() -> str:
    """One line: CPU, cores, memory, OS, Python, SQLite, and the load average when the run started (other
    work on the machine skews absolute figures; the ratios, measured side by side, much less)."""
    import sqlite3

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    except OSError:
        sha = ""
    return (
        f"{_cpu_model()}, {os.cpu_count()} cores, {_memory_gib()}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}; load average at start {load}"
        + (f"; mendoza at {sha}" if sha else "")
    )
