"""Serving the viewer with uvicorn: on 127.0.0.1 by default; any other address only with a token."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import uvicorn

from mendoza.errors import ConfigError
from mendoza.store import DEFAULT_DB_PATH
from mendoza.viewer.app import create_app, open_viewer_store
from mendoza.viewer.security import is_loopback

__all__ = ["DEFAULT_PORT", "bind", "serve", "viewer_url"]

DEFAULT_PORT = 8765


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


def viewer_url(host: str, port: int, token: str | None = None) -> str:
    """The address to open: ``http://127.0.0.1:8765/`` (with ``?token=...`` when a token guards it)."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    if shown in ("0.0.0.0", "[::]"):
        shown = socket.gethostname()
    url = f"http://{shown}:{port}/"
    return url + (f"?token={quote(token, safe='')}" if token else "")


def serve(
    db: str | Path | None,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    token: str | None = None,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve the viewer over the database ``db`` (default ``.mendoza/mendoza.db``) until interrupted (Ctrl-C).
    Opens no browser by itself."""
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"--host {host} is reachable from other machines: give --token SECRET (every request must carry it)"
        )
    if token is not None and len(token) < 8:
        raise ConfigError("--token must be at least 8 characters")
    store = open_viewer_store(db if db is not None else DEFAULT_DB_PATH)
    try:
        app = create_app(store, token=token, hosts=(host,))
        sock = bind(host, port)
        actual_port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        server = uvicorn.Server(config)
        announce(f"mendoza view: {viewer_url(host, actual_port, token)}  (database {store.path}; Ctrl-C to stop)")
        server.run(sockets=[sock])
    finally:
        store.close()
