"""Serving the viewer with uvicorn: on 127.0.0.1 by default; any other address only with a token, or with one
named token per person of a team (``parse_tokens``: ``--token alice=SECRET``, or a tokens file)."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

import uvicorn

from mendoza.api import DraftReview
from mendoza.errors import ConfigError
from mendoza.store import DEFAULT_DB_PATH, is_database_url
from mendoza.viewer.app import create_app, open_viewer_store
from mendoza.viewer.security import is_loopback

__all__ = ["DEFAULT_PORT", "bind", "parse_tokens", "serve", "viewer_url"]

DEFAULT_PORT = 8765
MIN_TOKEN_LENGTH = 8

#: ``NAME=SECRET``: a person's name (what their labels carry) and their token.
_NAMED = re.compile(r"([A-Za-z][\w.@-]{0,63})=([^=].*)")


def parse_tokens(values: Sequence[str], file: Path | None = None) -> tuple[str | None, dict[str, str]]:
    """The viewer's tokens from ``--token`` values and a tokens file: the one unnamed token (None: none) and
    the named ones (name -> secret). ``NAME=SECRET`` names a token; a file holds one ``NAME=SECRET`` a line
    (``#`` starts a comment). Every secret must be at least 8 characters, and names and secrets unique."""
    lines = [(value, "--token") for value in values]
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: cannot read the tokens file: {exc}") from None
        for number, line in enumerate(text.splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if line:
                if not _NAMED.fullmatch(line):
                    raise ConfigError(f"{file}:{number}: expected NAME=SECRET (a name, then its token)")
                lines.append((line, f"{file}:{number}"))
    single: str | None = None
    named: dict[str, str] = {}
    for value, where in lines:
        found = _NAMED.fullmatch(value)
        name, secret = (found[1], found[2]) if found else (None, value)
        if len(secret) < MIN_TOKEN_LENGTH:
            raise ConfigError(f"{where}: a token must be at least {MIN_TOKEN_LENGTH} characters")
        if secret == single or secret in named.values():
            raise ConfigError(f"{where}: the same token is given twice; give each person a token of their own")
        if name is None:
            if single is not None:
                raise ConfigError(f"{where}: several unnamed tokens; name each person's: --token NAME=SECRET")
            single = secret
        elif name in named:
            raise ConfigError(f"{where}: two tokens named {name!r}")
        else:
            named[name] = secret
    return single, named


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port); a port in use is a ``ConfigError``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror}): choose another --port or --host") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def viewer_url(host: str, port: int, token: str | None = None, path: str = "/") -> str:
    """The address to open: ``http://127.0.0.1:8765/`` (``path``; with ``?token=...`` when a token guards it)."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    if shown in ("0.0.0.0", "[::]"):
        shown = socket.gethostname()
    url = f"http://{shown}:{port}{path}"
    return url + (f"?token={quote(token, safe='')}" if token else "")


def serve(
    db: str | Path | None,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    token: str | None = None,
    tokens: Mapping[str, str] | None = None,
    announce: Callable[[str], None] = print,
    drafts: DraftReview | None = None,
) -> None:
    """Serve the viewer over the database ``db`` (default ``.mendoza/mendoza.db``) until interrupted (Ctrl-C).
    Opens no browser by itself. ``tokens``: a team's named tokens (name -> secret, see ``parse_tokens``). With
    ``drafts`` it serves their review at ``/drafts`` (and announces that address); the database is then
    optional: without one, the run pages say so."""
    if not is_loopback(host) and not token and not tokens:
        raise ConfigError(
            f"--host {host} is reachable from other machines: give --token SECRET (every request must carry it)"
        )
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(f"--token must be at least {MIN_TOKEN_LENGTH} characters")
    database = db if db is not None else DEFAULT_DB_PATH
    found = is_database_url(database) or Path(database).is_file()
    store = open_viewer_store(database) if drafts is None or found else None
    try:
        app = create_app(store, token=token, hosts=(host,), tokens=tokens, drafts=drafts)
        sock = bind(host, port)
        actual_port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        server = uvicorn.Server(config)
        where = f"database {store.path}" if store is not None else "no database"
        path = "/drafts" if drafts is not None else "/"
        announce(f"mendoza view: {viewer_url(host, actual_port, token, path)}  ({where}; Ctrl-C to stop)")
        if tokens:
            announce(
                f"  {len(tokens)} named tokens ({', '.join(sorted(tokens))}): each person opens "
                f"{viewer_url(host, actual_port, None, path)}?token=THEIR_TOKEN, and their labels carry their name"
            )
        server.run(sockets=[sock])
    finally:
        if store is not None:
            store.close()
