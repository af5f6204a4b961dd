"""X-Forwarded-For is believed only from the proxies the deployment names (GRIDMAP_TRUSTED_PROXIES).

Found by the outside test (issue 14): uvicorn believes X-Forwarded-For from 127.0.0.1 by default
(``proxy_headers=True``, ``forwarded_allow_ips=127.0.0.1``), so a client on the same host, or any client
behind a local proxy that passes the header on, escaped the per-address rate limit by sending a new
X-Forwarded-For with every request.

The server here is started the way ``gridmap serve`` starts it: the command is run (``--no-setup``)
with ``uvicorn.run`` caught, and the app and options it was given are served over real HTTP.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from api.ratelimit import trusted_proxies
from geo.keys import create_key
from geo.store.db import make_engine
from tests.conftest import _free_port, auth

POINT = {"lon": 113.0951, "lat": 40.0537}
BURST = 3


def _gridmap_serve(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> tuple[Any, dict[str, Any]]:
    """Run ``gridmap serve --no-setup`` with *env*; returns the app and the options it gave uvicorn.run."""
    from api.cli import app as cli

    caught: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda application, **options: caught.update(app=application, **options))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["serve", "--no-setup", "--port", str(_free_port())])
    assert result.exit_code == 0, result.output
    return caught.pop("app"), caught


def _served(app: Any, options: dict[str, Any]) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, **{**options, "log_level": "warning"}))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://{options['host']}:{options['port']}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(autouse=True)
def full_buckets(module_db: str) -> None:
    """Each test starts with full buckets, as each had an app of its own when buckets lived in memory:
    they live in the database now (shared by every worker, kept across restarts), and every test here
    is the same client, 127.0.0.1."""
    from sqlalchemy import text

    engine = make_engine(module_db)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM rate_bucket"))
    engine.dispose()


@pytest.fixture(scope="module")
def key(module_db: str) -> str:
    engine = make_engine(module_db)
    try:
        return create_key(engine, role="client", name="proxy attacker")[1]
    finally:
        engine.dispose()


def _env(module_db: str, tmp_path, trusted: str = "") -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"GRIDMAP_DATABASE_URL": module_db, "GRIDMAP_VAR_DIR": str(tmp_path), "GRIDMAP_BASEMAP": "none",
            "GRIDMAP_RATE_LIMIT_ADDRESS_PER_S": "0.01", "GRIDMAP_RATE_LIMIT_ADDRESS_BURST": str(BURST),
            "GRIDMAP_RATE_LIMIT_KEY_PER_S": "0", "GRIDMAP_TRUSTED_PROXIES": trusted}


def _codes(base: str, key: str, forwarded: list[str]) -> list[int]:
    return [httpx.get(f"{base}/v1/lookup", params=POINT, headers={**auth(key), "X-Forwarded-For": f},
                      timeout=30).status_code for f in forwarded]


def test_rotating_x_forwarded_for_does_not_escape_the_address_limit(module_db: str, key: str, tmp_path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    app, options = _gridmap_serve(monkeypatch, _env(module_db, tmp_path))
    for base in _served(app, options):
        rotating = [f"203.0.113.{i}" for i in range(1, 8)]
        codes = _codes(base, key, rotating)
        assert codes[:BURST] == [200] * BURST and set(codes[BURST:]) == {429}, codes
        r = httpx.get(f"{base}/v1/lookup", params=POINT, headers={**auth(key), "X-Forwarded-For": "198.51.100.9"})
        assert r.status_code == 429 and "address" in r.json()["error"]["message"] and r.headers["retry-after"]


def test_a_trusted_proxy_is_believed(module_db: str, key: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the proxy (here 127.0.0.1) listed, each forwarded client has a bucket of its own."""
    app, options = _gridmap_serve(monkeypatch, _env(module_db, tmp_path, trusted="127.0.0.1, 10.0.0.0/8"))
    for base in _served(app, options):
        assert _codes(base, key, [f"203.0.113.{i}" for i in range(1, 8)]) == [200] * 7
        same = _codes(base, key, ["198.51.100.7"] * (BURST + 1))
        assert same == [200] * BURST + [429], same
        # the nearest untrusted hop counts: a client cannot prepend an address to what the proxy appends
        spoofed = _codes(base, key, [f"192.0.2.{i}, 198.51.100.7" for i in range(1, 4)])
        assert spoofed == [429] * 3, spoofed


def test_a_proxy_that_is_not_listed_is_not_believed(module_db: str, key: str, tmp_path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    app, options = _gridmap_serve(monkeypatch, _env(module_db, tmp_path, trusted="10.1.2.3"))
    for base in _served(app, options):
        codes = _codes(base, key, [f"203.0.113.{i}" for i in range(1, 6)])
        assert codes == [200] * BURST + [429] * 2, codes


def test_a_malformed_entry_is_refused_with_its_name(module_db: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.cli import app as cli

    with pytest.raises(ValueError, match="'proxy.local' is not an IP address or CIDR"):
        trusted_proxies("10.0.0.1, proxy.local")
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("served with a bad GRIDMAP_TRUSTED_PROXIES"))
    for name, value in _env(module_db, tmp_path, trusted="10.0.0.1, proxy.local").items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["serve", "--no-setup"])
    assert result.exit_code == 1 and "GRIDMAP_TRUSTED_PROXIES" in result.output and "proxy.local" in result.output
