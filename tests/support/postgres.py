"""A throwaway PostgreSQL server for the tests and the benchmarks: Debian's ``postgresql`` package (``initdb``,
``pg_ctl``), a cluster in a temporary folder, listening on 127.0.0.1 at a free port and on a unix socket in that
folder, with trust authentication. The server refuses to run as root: as root, the cluster belongs to the
``postgres`` user (created if missing) and every server command runs as that user (``runuser``).

``PostgresCluster.unavailable()`` says why none can be started (None: one can); ``new_schema()`` hands each
test a store of its own (a schema of one shared database: much faster than a database each), ``new_database()``
a whole database.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PostgresCluster", "postgres_bin"]

_USER = "postgres"
_SUPERUSER = "mendoza"


def postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server programs (``initdb``, ``pg_ctl``), newest version first; None if none."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]), reverse=True)
    return Path(found[0]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresCluster:
    """A PostgreSQL server of its own in a temporary folder (``start``, ``new_database``, ``stop``)."""

    def __init__(self, bin_dir: Path, *, fsync: bool = False) -> None:
        self.bin_dir = bin_dir
        self.fsync = fsync
        self.folder = Path(tempfile.mkdtemp(prefix="mendoza-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self._names = itertools.count(1)
        self._as_root = os.geteuid() == 0

    @staticmethod
    def unavailable() -> str | None:
        """Why no server can be started here (None: one can)."""
        if postgres_bin() is None:
            return "PostgreSQL is not installed (no initdb; CI installs Debian's postgresql package)"
        if os.geteuid() == 0 and shutil.which("runuser") is None:
            return "running as root without runuser: cannot start PostgreSQL as its own user"
        return None

    def _run(self, *command: str) -> None:
        program = [str(self.bin_dir / command[0]), *command[1:]]
        if self._as_root:
            program = ["runuser", "-u", _USER, "--", *program]
        result = subprocess.run(program, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed ({result.returncode}): {(result.stderr or result.stdout)[-2000:]}")

    def start(self) -> PostgresCluster:
        """Create the cluster and start its server (a minute at most)."""
        if self._as_root:
            try:
                pwd.getpwnam(_USER)
            except KeyError:
                subprocess.run(["useradd", "--system", "--no-create-home", _USER], check=True, timeout=60)
            shutil.chown(self.folder, _USER)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", _SUPERUSER, "--no-sync", "-E", "UTF8")
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c max_connections=200"
        if not self.fsync:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"), "-w", "start")
        return self

    def url(self, database: str = "postgres") -> str:
        """The address of a database of this server, over TCP."""
        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A new, empty database; returns its address."""
        import psycopg

        name = f"mendoza_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        return self.url(name)

    def new_schema(self) -> str:
        """A new, empty schema of the database ``postgres``; returns an address whose tables are made there."""
        import psycopg

        name = f"store_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{name}"')  # type: ignore[arg-type]
        return f"{self.url()}?options=-csearch_path%3D{name}"

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
