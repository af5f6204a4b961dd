"""Test fixtures: a real PostGIS, a throwaway database per test session, the app built
from explicit settings (after developmentseed/tipg's tests/conftest.py).

The database server is ``GRIDMAP_DATABASE_URL``'s when set, else the project's
embedded cluster (started here if it is not running). Either way the tests work in
a database of their own, ``gridmap_test_<random>``, dropped at the end: never the
demo database, never SQLite, nothing mocked.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, make_url, text

from geo.config import Settings, get_settings
from geo.store import migrate
from geo.store.db import cluster_for, database_url, make_engine, uses_embedded
from geo.store.load import load_dataset

# Rate limits are off in tests that hammer the API on purpose (plan switches, fuzzing, browsers);
# tests/api/test_ratelimit.py turns them on with explicit settings.
os.environ.setdefault("GRIDMAP_RATE_LIMIT_KEY_PER_S", "0")
os.environ.setdefault("GRIDMAP_RATE_LIMIT_ADDRESS_PER_S", "0")

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "data" / "boundaries"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Markers from what a test uses: ``db`` (any database fixture, directly or through another
    fixture), ``browser`` (headless Chromium). ``make test-fast`` runs ``-m "not browser and not slow"``."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if "server_url" in used:
            item.add_marker(pytest.mark.db)
        if "browser" in used:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """URL of the maintenance database ('postgres') on the server the tests use."""
    base = get_settings()
    started = False
    if uses_embedded(base):
        cluster = cluster_for(base)
        with _cluster_lock(base.var_dir):  # pytest-xdist workers (make test-fast) start it once between them
            started = cluster.start()
        url = cluster.url("postgres")
    else:
        url = make_url(database_url(base)).set(database="postgres").render_as_string(hide_password=False)
    yield url
    # A worker of several may finish while the others still use the cluster: only a lone run stops it.
    if started and not os.environ.get("GRIDMAP_KEEP_CLUSTER") and not os.environ.get("PYTEST_XDIST_WORKER"):
        cluster.stop()


@contextlib.contextmanager
def _cluster_lock(var_dir: Path) -> Iterator[None]:
    import fcntl

    var_dir.mkdir(parents=True, exist_ok=True)
    with open(var_dir / "pg-start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def create_database(server_url: str, prefix: str = "gridmap_test") -> tuple[str, str]:
    """Create an empty throwaway database; returns (name, URL)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def empty_database(server_url: str) -> Iterator[str]:
    """A brand-new database with nothing in it (not even PostGIS); dropped afterwards."""
    name, url = create_database(server_url)
    yield url
    drop_database(server_url, name)


@pytest.fixture(scope="session")
def demo_template(server_url: str) -> Iterator[str]:
    """A database migrated to head and loaded with the Gaoshan demo data, once per test session: the
    template every loaded test database is copied from (``CREATE DATABASE ... TEMPLATE``, a file copy,
    instead of migrating and loading again). Nobody connects to it after loading, as a template requires."""
    name, url = create_database(server_url, prefix="gridmap_template")
    migrate.upgrade(url)
    engine = make_engine(url)
    load_dataset(engine, DEMO_DIR)
    engine.dispose()
    yield name
    drop_database(server_url, name)


def loaded_database(server_url: str, template: str) -> Iterator[str]:
    """A new database holding the migrated Gaoshan demo data (a copy of *template*); dropped afterwards."""
    name = f"gridmap_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    drop_database(server_url, name)


@pytest.fixture(scope="session")
def db_url(server_url: str, demo_template: str) -> Iterator[str]:
    """The session's database, shared by the tests that only read (or undo what they write)."""
    yield from loaded_database(server_url, demo_template)


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def settings(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(database_url=db_url, var_dir=tmp_path_factory.mktemp("var"), basemap="none", key_cache_s=0.5)


@pytest.fixture(scope="session")
def app(settings: Settings):  # type: ignore[no-untyped-def]
    from api.app import create_app

    return create_app(settings)


@pytest.fixture(scope="session")
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app) as c:  # inside `with`, so the lifespan (engine) runs
        yield c


@pytest.fixture(scope="session")
def keys(engine: Engine) -> dict[str, str]:
    """One fresh key per role."""
    from geo.keys import create_key

    return {role: create_key(engine, role=role, name=f"test {role}")[1]
            for role in ("client", "viewer", "operator", "planner", "admin")}


ROLES = ("client", "viewer", "operator", "planner", "admin")


@contextlib.contextmanager
def app_env(db: str, var_dir: Path, *, roles: Sequence[str] = ROLES, key_name: str = "tester",
            raise_server_exceptions: bool = True, **overrides: Any) -> Iterator[dict[str, Any]]:
    """The app on database ``db`` in a TestClient (lifespan running), with one fresh key per role.

    Yields ``{"client", "engine", "keys", "settings"}``; a module's ``env`` fixture adds what it needs.
    ``overrides`` are :class:`Settings` fields (e.g. ``lookup_poll_s=0.1``).
    """
    from fastapi.testclient import TestClient

    from api.app import create_app
    from geo.keys import create_key

    engine = make_engine(db)
    keys = {r: create_key(engine, role=r, name=f"{r} {key_name}")[1] for r in roles}
    settings = Settings(database_url=db, var_dir=var_dir, **overrides)
    try:
        with TestClient(create_app(settings), raise_server_exceptions=raise_server_exceptions) as client:
            yield {"client": client, "engine": engine, "keys": keys, "settings": settings}
    finally:
        engine.dispose()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def sign_in_cookie(base_url: str, key: str) -> list[dict[str, str]]:
    """Sign in to the maps over real HTTP (POST /maps/login) and return the session cookie for a browser."""
    import httpx

    from api.deps import SESSION_COOKIE

    r = httpx.post(f"{base_url}/maps/login", data={"key": key, "next": "/maps/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return [{"name": SESSION_COOKIE, "value": r.cookies[SESSION_COOKIE], "url": base_url}]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: The app behind each base URL :func:`serve` yields, for tests that need its state (its lookup service).
SERVED_APPS: dict[str, object] = {}


def after_lookup_polls(service: object, polls: int = 2, *, hang_s: float = 120.0) -> None:
    """Return once ``service`` (a :class:`geo.lookup.LookupService`) has finished ``polls`` more polls.

    What the service promises is "every worker answers from a newly published plan after its next
    poll": two finished polls after a publish always include one that started after it. This waits on
    that count, not on a wall-clock budget (``hang_s`` only stops a dead watcher hanging the suite).
    """
    target = service.polls + polls  # type: ignore[attr-defined]
    deadline = time.monotonic() + hang_s
    while service.polls < target:  # type: ignore[attr-defined]
        thread = service._thread  # type: ignore[attr-defined]
        assert thread is not None and thread.is_alive(), "the lookup service's watcher is not running"
        assert time.monotonic() < deadline, f"the lookup watcher finished no poll in {hang_s} s"
        time.sleep(0.01)


def serve(settings: Settings) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port (real HTTP), with the options `gridmap serve`
    uses (no proxy headers believed); yields its base URL."""
    import uvicorn

    from api.app import create_app
    from api.cli import UVICORN_OPTIONS

    port = _free_port()
    app = create_app(settings)
    SERVED_APPS[f"http://127.0.0.1:{port}"] = app
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           **UVICORN_OPTIONS))  # as `gridmap serve` runs it
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    SERVED_APPS.pop(f"http://127.0.0.1:{port}", None)


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[str]:
    """The session's app over real HTTP, for the browser tests."""
    yield from serve(settings)


@pytest.fixture(scope="module")
def module_db(server_url: str, demo_template: str) -> Iterator[str]:
    """A loaded database shared by one test module only (for modules that write)."""
    yield from loaded_database(server_url, demo_template)


@pytest.fixture
def private_db(server_url: str, demo_template: str) -> Iterator[str]:
    """A database of this test's own, loaded with the demo data: for tests that publish plans or
    otherwise change what the shared session database must keep."""
    yield from loaded_database(server_url, demo_template)
