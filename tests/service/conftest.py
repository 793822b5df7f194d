"""Shared fixture of the service tests: a real uvicorn server on 127.0.0.1, free port."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
import uvicorn


@contextlib.contextmanager
def _running(app, join_s: float = 15.0):
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(join_s)


@pytest.fixture
def serve():
    """``with serve(app) as base_url:`` runs ``app`` on uvicorn for the block."""
    return _running
