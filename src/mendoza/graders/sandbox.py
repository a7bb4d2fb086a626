"""Running an untrusted program in a separate process: limits, a fresh working directory, a scrubbed
environment, a wall-clock timeout that kills the whole process group, and output captured up to a cap.

Two backends:

- ``bwrap`` (bubblewrap): the program runs in new namespaces with no network, a read-only view of the system,
  fresh ``/tmp``, ``/home`` and ``/root``, its own process tree (everything in it dies with it), and only its
  working directory writable; the process limits below apply as well;
- ``rlimits``, the fallback where bubblewrap is missing or cannot start: the process limits alone (memory,
  CPU time, file size, number of processes), stdin closed, a fresh temporary working directory, a scrubbed
  environment and a process-group kill. It does **not** stop the program reading or writing any file the user
  running mendoza can, nor opening network connections, nor (when mendoza runs as root, where the kernel
  ignores the process limit) a fork bomb escaping into a new session.

``available_backend()`` probes once per process whether ``bwrap`` works here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

__all__ = ["Backend", "Execution", "Limits", "SandboxError", "available_backend", "run_program"]

Backend = Literal["bwrap", "rlimits"]

#: The file descriptor a program writes its pass signal to.
SIGNAL_FD = 3
_STARTED_FD = 4

# Sets the limits, then becomes the program (rlimits survive exec). Run with ``python -I -S``: no site, fast.
_LAUNCHER = """
import fcntl, os, resource, sys
cpu, memory, fsize, nproc = (int(x) for x in sys.argv[1:5])
moves = [tuple(int(n) for n in pair.split(":")) for pair in sys.argv[5].split(",") if pair]
copies = [fcntl.fcntl(source, fcntl.F_DUPFD, 10) for source, _ in moves]
for copy, (source, target) in zip(copies, moves):
    os.dup2(copy, target)
    os.close(copy)
for source, _ in moves:
    if source not in {target for _, target in moves}:
        os.close(source)
def limit(kind, value):
    if value > 0:
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError):
            pass
limit(resource.RLIMIT_CPU, cpu)
limit(resource.RLIMIT_AS, memory)
limit(resource.RLIMIT_FSIZE, fsize)
limit(resource.RLIMIT_NPROC, nproc)
limit(resource.RLIMIT_CORE, 0)
if sys.argv[6] == "program":  # the program itself, not bubblewrap: it must not see descriptor 4
    fcntl.fcntl(4, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
try:
    os.execvp(sys.argv[7], sys.argv[7:])
except OSError as exc:
    os.write(4, f"E{sys.argv[7]}: {exc}".encode())
    os._exit(127)
"""

# Inside bubblewrap, before the program: says the sandbox started (``1`` on descriptor 4, closed when the
# program starts; ``E`` and why when the program cannot be started), and, run as root, becomes ``nobody``
# (the kernel ignores the process limit for root, and nobody cannot read root's files; the capabilities
# bubblewrap kept for this go with the change of user).
_INNER = """
import fcntl, os, sys
def say(data):
    try:
        os.write(4, data)
    except OSError:  # no descriptor 4: the probe
        pass
say(b"1")
try:
    fcntl.fcntl(4, fcntl.F_SETFD, fcntl.FD_CLOEXEC)  # closed by a successful exec
except OSError:
    pass
try:
    if int(sys.argv[1]) >= 0:
        os.setgroups([])
        os.setgid(int(sys.argv[1]))
        os.setuid(int(sys.argv[1]))
    os.execvp(sys.argv[2], sys.argv[2:])
except OSError as exc:
    say(f"E{sys.argv[2]}: {exc}".encode())
    os._exit(127)
"""
NOBODY = 65534

_SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
_HIDDEN = ("/home", "/root", "/tmp", "/var/tmp", "/run")


class SandboxError(Exception):
    """The sandbox itself failed (bubblewrap could not start): no verdict on the program."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What one program may use. ``0`` means no limit for the process limits."""

    wall_seconds: float = 10.0
    cpu_seconds: int = 10
    memory_bytes: int = 2 * 1024**3
    file_bytes: int = 16 * 1024**2
    processes: int = 64
    output_bytes: int = 16 * 1024


@dataclass(frozen=True, slots=True)
class Execution:
    """How a program ended: its exit code (negative: the signal that killed it), whether it ran out of time,
    the tails of its stdout and stderr, what it wrote to the signal descriptor, the backend and the time."""

    returncode: int | None
    timed_out: bool
    stdout: str
    stderr: str
    signal_text: str
    backend: Backend
    seconds: float

    @property
    def how_it_ended(self) -> str:
        """The end in words: 'timed out', 'killed by SIGSEGV', 'exit code 1'."""
        if self.timed_out:
            return "timed out"
        code = self.returncode
        if code is not None and self.backend == "bwrap" and code > 128:
            code = 128 - code  # bubblewrap reports a program killed by signal n as 128 + n
        if code is not None and code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"


def _bwrap_prefix(workdir: str, extra_read: Sequence[str]) -> list[str]:
    """The bubblewrap command line before the program's: read-only system, fresh private dirs, the working
    directory writable, no network, its own process tree."""
    args = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for hidden in _HIDDEN:
        if os.path.isdir(hidden) and not os.path.islink(hidden):
            args += ["--tmpfs", hidden]
    # What the interpreter needs, if it lives under a hidden folder (a virtualenv in a home directory).
    for path in dict.fromkeys([sys.prefix, sys.base_prefix, *extra_read]):
        if path and os.path.exists(path) and path.startswith(tuple(h + "/" for h in _HIDDEN)):
            parents = [str(parent) for parent in reversed(Path(path).parents) if str(parent) not in ("/", *_HIDDEN)]
            for parent in parents:  # bubblewrap would make them private (0700): nobody could not get through
                args += ["--perms", "0755", "--dir", parent]
            args += ["--ro-bind", path, path]
    args += ["--bind", workdir, workdir, "--chdir", workdir]
    # All of --unshare-all but the user namespace when run as root (the change to nobody needs the real one).
    args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    if not _dropping():
        args += ["--unshare-user-try"]
    args += ["--die-with-parent", "--new-session"]
    if _dropping():
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]  # for _DROP, which then drops all
    return args


def _dropping() -> bool:
    """Whether the program changes to ``nobody`` (mendoza runs as root)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _inner_command(command: Sequence[str]) -> list[str]:
    user = str(NOBODY if _dropping() else -1)
    return [sys.executable, "-I", "-S", "-c", _INNER, user, *command]


def _install_folder(program: str) -> list[str]:
    """The folder a command is installed in (``~/.nvm/versions/node/v20`` for its ``bin/node``), so that a
    program under a hidden folder is still found inside bubblewrap."""
    found = shutil.which(program)
    if found is None:
        return []
    return [str(Path(os.path.realpath(found)).parent.parent)]


@cache
def bwrap_works() -> bool:
    """Whether bubblewrap is installed and can make a sandbox here (it cannot in some containers)."""
    if shutil.which("bwrap") is None:
        return False
    with tempfile.TemporaryDirectory(prefix="mendoza-probe-") as workdir:
        try:
            done = subprocess.run(
                [*_bwrap_prefix(workdir, ()), "--", *_inner_command(["true"])],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return False
    return done.returncode == 0


def available_backend() -> Backend:
    """``bwrap`` where bubblewrap works here, else ``rlimits`` (probed once per process)."""
    return "bwrap" if bwrap_works() else "rlimits"


class _Tail:
    """The last ``cap`` bytes of a stream, and whether anything before them was dropped."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = bytearray()
        self.dropped = False

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > self.cap:
            del self.data[: len(self.data) - self.cap]
            self.dropped = True

    def text(self) -> str:
        text = self.data.decode("utf-8", errors="replace")
        return f"[…]{text}" if self.dropped else text


async def _drain(stream: asyncio.StreamReader | None, tail: _Tail) -> None:
    if stream is None:
        return
    while chunk := await stream.read(65536):
        tail.add(chunk)


def _read_pipe(fd: int) -> bytes:
    """What is waiting in a pipe now (never blocks: a grandchild may still hold the write end)."""
    os.set_blocking(fd, False)
    data = bytearray()
    with contextlib.suppress(BlockingIOError, OSError):
        while len(data) < 65536 and (chunk := os.read(fd, 4096)):
            data += chunk
    return bytes(data)


async def _exited(process: asyncio.subprocess.Process, seconds: float) -> bool:
    """Whether the process exited within ``seconds``. Polled: ``Process.wait`` also waits for its pipes to
    close, which a child it left behind can hold open past the time limit."""
    deadline = time.monotonic() + seconds
    pause = 0.001
    while process.returncode is None:
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.02)
    return True


def _give_to_nobody(workdir: str) -> None:
    """The working directory and its files owned by ``nobody`` (readable by bubblewrap, which drops root's
    powers before it enters the directory)."""
    os.chmod(workdir, 0o755)
    for folder, dirs, names in os.walk(workdir):
        for name in [folder, *(os.path.join(folder, n) for n in dirs + names)]:
            os.chown(name, NOBODY, NOBODY)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def scrubbed_environment(workdir: str, extra: Mapping[str, str]) -> dict[str, str]:
    """The program's whole environment: a system PATH, a UTF-8 locale, home and temp in its working
    directory, and what the grader's configuration adds; nothing of mendoza's (no API keys)."""
    env = {
        "PATH": _SYSTEM_PATH,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": workdir,
        "TMPDIR": workdir,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
    }
    env.update(extra)
    return env


async def run_program(
    command: Sequence[str],
    files: Mapping[str, str],
    *,
    backend: Backend,
    limits: Limits,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    extra_read: Sequence[str] = (),
) -> Execution:
    """Write ``files`` into a fresh temporary directory and run ``command`` there in the sandbox ``backend``.

    The program's stdin is closed (or carries ``stdin``), its environment is ``scrubbed_environment``, and
    descriptor 3 (``SIGNAL_FD``) is a pipe whose content comes back as ``Execution.signal_text``. Past
    ``limits.wall_seconds`` the whole process group (with bwrap, the whole sandbox) is killed. Raises
    ``SandboxError`` when bubblewrap itself cannot start; cancellation kills the program too.
    """
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mendoza-code-") as workdir:
        for name, content in files.items():
            path = Path(workdir, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        signal_read, signal_write = os.pipe()
        info_read, info_write = os.pipe()
        launcher = [
            sys.executable, "-I", "-S", "-c", _LAUNCHER,
            str(limits.cpu_seconds), str(limits.memory_bytes), str(limits.file_bytes), str(limits.processes),
        ]  # fmt: skip
        fds = {signal_write: SIGNAL_FD, info_write: _STARTED_FD}
        launcher.append(",".join(f"{source}:{target}" for source, target in fds.items()))
        launcher.append("sandbox" if backend == "bwrap" else "program")
        if backend == "bwrap":
            if _dropping():
                _give_to_nobody(workdir)
            argv = [*launcher, *_bwrap_prefix(workdir, [*extra_read, *_install_folder(command[0])]), "--"]
            argv += _inner_command(command)
        else:
            argv = [*launcher, *command]
        process: asyncio.subprocess.Process | None = None
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=workdir,
                env=scrubbed_environment(workdir, env or {}),
                start_new_session=True,
                pass_fds=tuple(fds),
            )
            os.close(signal_write)
            signal_write = -1
            if info_write >= 0:
                os.close(info_write)
                info_write = -1
            out, err = _Tail(limits.output_bytes), _Tail(limits.output_bytes)
            if stdin is not None and process.stdin is not None:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    process.stdin.write(stdin.encode("utf-8"))
                    await process.stdin.drain()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    process.stdin.close()
            readers = asyncio.gather(_drain(process.stdout, out), _drain(process.stderr, err))
            timed_out = not await _exited(process, limits.wall_seconds)
            _kill_group(process.pid)  # whatever it left behind in its group goes too
            if timed_out:
                await _exited(process, 5.0)
            try:
                await asyncio.wait_for(readers, 1.0)
            except TimeoutError:  # an escaped grandchild holds the pipes open: keep what came
                readers.cancel()
            signal_bytes = _read_pipe(signal_read)
            started_text = _read_pipe(info_read).decode("utf-8", errors="replace")
            if started_text.startswith("E"):
                raise SandboxError(f"cannot start {started_text[1:300]}")
            if backend == "bwrap" and not timed_out:
                if not started_text.startswith("1"):
                    raise SandboxError(f"bubblewrap could not start the sandbox: {err.text().strip()[-300:]}")
                if started_text.startswith("1E"):
                    raise SandboxError(f"the sandbox could not start the program: {started_text[2:302]}")
            return Execution(
                process.returncode,
                timed_out,
                out.text(),
                err.text(),
                signal_bytes.decode("utf-8", errors="replace"),
                backend,
                time.monotonic() - started,
            )
        finally:
            if process is not None and process.returncode is None:
                _kill_group(process.pid)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
            for fd in (signal_read, signal_write, info_read, info_write):
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)

