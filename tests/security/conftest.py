"""Fixtures for the attack tests: one client factory over a database of the module's own.

Each module of tests/security/ reproduces one class of attack found by the outside security test
(issue 14): the test sends what the attacker sent and asserts the service refuses it, answers with a
4xx that names the problem, leaks nothing and stores nothing.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import app_env
from tests.maps.browser import CHROMIUM, acquire_browser, release_browser


@pytest.fixture(scope="module")
def env(module_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``{"client": TestClient, "engine": Engine, "keys": {role: key}, "settings": Settings}``."""
    with app_env(module_db, tmp_path_factory.mktemp("var"), key_name="attacker", lookup_poll_s=0.1) as env:
        yield env


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    """Debian's headless Chromium, the one tests/maps/ uses too (one Playwright per process)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    chromium = acquire_browser()
    try:
        yield chromium
    finally:
        release_browser()


class LoopbackRecorder:
    """An HTTP server on 127.0.0.1 that records every request path it gets (``hits``); ``str()`` is its
    base URL. For attacks that try to make the server fetch a URL named inside a file."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                hits.append(self.path)
                self.send_response(404)
                self.end_headers()

            do_HEAD = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __str__(self) -> str:
        return self.url


@pytest.fixture
def recorder() -> Iterator[LoopbackRecorder]:
    rec = LoopbackRecorder()
    thread = threading.Thread(target=rec.server.serve_forever, daemon=True)
    thread.start()
    yield rec
    rec.server.shutdown()
