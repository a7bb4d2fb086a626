"""Run ``mendoza`` in-process, as the ``mendoza`` script does, and capture what a user would see."""

from __future__ import annotations

import contextlib
import io
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from unittest import mock

from mendoza import api
from mendoza.cli import main


@dataclass(frozen=True)
class Outcome:
    """The exit code, stdout and stderr of one command; ``crash`` holds a traceback that escaped ``main``."""

    code: int
    stdout: str
    stderr: str
    crash: str | None = None
    loaded: bool = False

    @property
    def stderr_lines(self) -> list[str]:
        return self.stderr.splitlines()


class SuiteLoaded(Exception):
    """Raised instead of running a suite that loaded (the fuzz only cares about loading)."""


def _stop_after_loading(*args: object, **kwargs: object) -> None:
    raise SuiteLoaded


def run_mendoza(args: Sequence[str], *, load_only: bool = False) -> Outcome:
    """``mendoza ARGS`` through ``mendoza.cli.main`` (exit codes, one-line errors and all). With ``load_only``,
    a suite that loads is not run: the outcome says ``loaded``."""
    out, err = io.StringIO(), io.StringIO()
    code, crash, loaded = 0, None, False
    patches = [mock.patch.object(sys, "argv", ["mendoza", *args])]
    if load_only:
        patches.append(mock.patch.object(api, "run_suite", _stop_after_loading))
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except SuiteLoaded:
            loaded = True
        except BaseException:
            crash = traceback.format_exc()
            code = -1
    if load_only and "internal error: SuiteLoaded" in err.getvalue():  # main reports any escape as one line
        return Outcome(0, out.getvalue(), "", None, True)
    return Outcome(code, out.getvalue(), err.getvalue(), crash, loaded)

