"""Progress of a run: a rich bar with ETA on a terminal, plain lines in CI and pipes, or nothing."""

from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO

__all__ = ["NullProgress", "PlainProgress", "Progress", "RichProgress", "progress_for"]


class Progress(Protocol):
    """What the runner reports while it works."""

    def start(self, total: int, done: int) -> None:
        """``total`` samples in the run, ``done`` of them already stored (a resumed run)."""

    def advance(self, count: int, errors: int) -> None:
        """``count`` more samples finished, ``errors`` of them with an error."""

    def waiting(self, change: int) -> None:
        """``change`` (+1 or -1) more or fewer calls are waiting to retry (rate limited, or backing off)."""

    def finish(self) -> None:
        """The run stopped (complete or not)."""


class NullProgress:
    """Reports nothing (the Python API's default)."""

    def start(self, total: int, done: int) -> None:
        pass

    def advance(self, count: int, errors: int) -> None:
        pass

    def waiting(self, change: int) -> None:
        pass

    def finish(self) -> None:
        pass


class PlainProgress:
    """One line every ``every`` seconds (and at the end): for CI logs and pipes."""

    def __init__(self, stream: TextIO | None = None, every: float = 5.0) -> None:
        self._stream = stream or sys.stderr
        self._every = every
        self._total = self._done = self._errors = self._new = self._waiting = 0
        self._started = self._last = 0.0

    def start(self, total: int, done: int) -> None:
        self._total, self._done = total, done
        self._started = self._last = time.monotonic()
        resumed = f", {done} already done" if done else ""
        self._print(f"mendoza: {total} samples to run{resumed}")

    def advance(self, count: int, errors: int) -> None:
        self._done += count
        self._new += count
        self._errors += errors
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            self._report(now)

    def waiting(self, change: int) -> None:
        self._waiting = max(0, self._waiting + change)
        now = time.monotonic()
        if change > 0 and now - self._last >= self._every:  # a run held by rate limits still says so
            self._last = now
            self._report(now)

    def finish(self) -> None:
        self._waiting = 0
        self._report(time.monotonic())

    def _report(self, now: float) -> None:
        elapsed = max(now - self._started, 1e-9)
        rate = self._new / elapsed
        remaining = self._total - self._done
        eta = f", eta {remaining / rate:.0f}s" if rate > 0 and remaining > 0 else ""
        percent = 100.0 * self._done / self._total if self._total else 100.0
        waiting = f", {self._waiting} waiting to retry" if self._waiting else ""
        self._print(
            f"mendoza: {self._done}/{self._total} samples ({percent:.0f}%), {self._errors} errors{waiting}, "
            f"{rate:.1f}/s{eta}"
        )

    def _print(self, line: str) -> None:
        print(line, file=self._stream, flush=True)


class RichProgress:
    """A rich progress bar with counts, rate, errors and ETA (for a terminal)."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichBar

        self._bar = RichBar(
            TextColumn("[bold]running"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[errors]} errors{task.fields[waiting]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            transient=False,
        )
        self._task = self._bar.add_task("run", total=0, errors=0, waiting="")
        self._errors = self._waiting = 0

    def start(self, total: int, done: int) -> None:
        self._bar.update(self._task, total=total, completed=done)
        self._bar.start()

    def advance(self, count: int, errors: int) -> None:
        self._errors += errors
        self._bar.update(self._task, advance=count, errors=self._errors)

    def waiting(self, change: int) -> None:
        self._waiting = max(0, self._waiting + change)
        shown = f", {self._waiting} waiting to retry" if self._waiting else ""
        self._bar.update(self._task, waiting=shown)

    def finish(self) -> None:
        self._bar.stop()


def progress_for(stream: TextIO | None = None, quiet: bool = False) -> Progress:
    """A rich bar when ``stream`` (stderr by default) is a terminal, plain lines otherwise."""
    stream = stream or sys.stderr
    if quiet:
        return NullProgress()
    if stream.isatty():
        return RichProgress()
    return PlainProgress(stream)
