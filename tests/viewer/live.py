"""A real viewer server (uvicorn) on 127.0.0.1 in a background thread, for browser tests and screenshots."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from mendoza.api import DraftReview
from mendoza.viewer import create_app, open_viewer_store
from mendoza.viewer.server import bind


@contextmanager
def live_viewer(db: Path | None, *, token: str | None = None, drafts: DraftReview | None = None) -> Iterator[str]:
    """Serve the viewer over ``db`` (None: no database, for ``drafts``) on a free port of 127.0.0.1; yields its
    base URL (no trailing slash)."""
    store = open_viewer_store(db) if db is not None else None
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    app = create_app(store, token=token, author="tester", drafts=drafts)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the viewer did not start within 10 s")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        if store is not None:
            store.close()
