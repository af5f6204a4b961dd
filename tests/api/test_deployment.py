"""Deployment settings: each worker's connection pool (GRIDMAP_DB_POOL_SIZE / _MAX_OVERFLOW) and a read
replica (GRIDMAP_READ_DATABASE_URL) for tiles, OGC items pages and the lookup indexes' loads.

The replica is stood for by a connection to the same database that refuses writes
(``default_transaction_read_only=on``, as tests/geo/store/test_tiles_store.py does): what runs on it
must only read, and what must write (keys, sessions, rate-limit leases, incidents) must not go there.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import event, text

from api.app import create_app
from api.deps import SESSION_COOKIE
from geo.config import Settings
from geo.keys import create_key
from geo.store.db import make_engine, read_database_url
from geo.tiles import lonlat_to_tile
from tests.conftest import auth

READ_ONLY = "options=" + quote("-c default_transaction_read_only=on")


def test_pool_size_and_overflow_are_settings(db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=db_url, var_dir=tmp_path, db_pool_size=3, db_max_overflow=1)
    with TestClient(create_app(settings)) as c:
        pool = c.app.state.engine.pool  # type: ignore[attr-defined]
        assert pool.size() == 3 and pool._max_overflow == 1
        assert c.app.state.read_engine is c.app.state.engine  # type: ignore[attr-defined]  # no replica named
    defaults = Settings(database_url=db_url)
    assert (defaults.db_pool_size, defaults.db_max_overflow) == (10, 20)  # what app.py had written in


def test_a_url_keeps_its_options_beside_the_time_zone(db_url: str) -> None:
    sep = "&" if "?" in db_url else "?"
    engine = make_engine(db_url + sep + READ_ONLY)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW default_transaction_read_only")).scalar_one() == "on"
            assert conn.execute(text("SHOW TimeZone")).scalar_one() == "Asia/Shanghai"
    finally:
        engine.dispose()
    assert read_database_url(Settings(read_database_url="postgresql://u@h/db")) == "postgresql+psycopg://u@h/db"
    assert read_database_url(Settings()) is None


def test_tiles_ogc_items_and_lookups_read_from_the_replica(db_url: str, engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sep = "&" if "?" in db_url else "?"
    settings = Settings(database_url=db_url, read_database_url=db_url + sep + READ_ONLY, var_dir=tmp_path,
                        key_cache_s=0, rate_limit_key_per_s=1000, rate_limit_address_per_s=0, lookup_poll_s=60)
    _, viewer = create_key(engine, role="operator", name="replica reader")
    with engine.connect() as conn:
        plan = conn.execute(text("SELECT id FROM grid_plan WHERE status = 'published'")).scalar_one()
        x, y = conn.execute(text("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grid "
                                 "WHERE plan_id = :p ORDER BY code LIMIT 1"), {"p": plan}).one()
    with TestClient(create_app(settings)) as c:
        state = c.app.state  # type: ignore[attr-defined]
        assert state.read_engine is not state.engine and state.lookup.engine is state.read_engine
        on_replica: list[str] = []
        event.listen(state.read_engine, "before_cursor_execute",
                     lambda conn, cur, statement, *rest: on_replica.append(statement))
        with state.read_engine.connect() as conn:
            assert conn.execute(text("SHOW default_transaction_read_only")).scalar_one() == "on"
        on_replica.clear()

        # the lookup index loads through the read-only connection (and every lookup answers from it)
        assert state.lookup.refresh(check_places=True) or state.lookup.loaded()
        r = c.get("/v1/lookup", params={"lon": x, "lat": y}, headers=auth(viewer))
        assert r.status_code == 200 and r.json()["plan"]["id"] == plan
        assert any("FROM grid" in s for s in on_replica), on_replica

        on_replica.clear()
        z = 14
        tx, ty = lonlat_to_tile(x, y, z)
        tile = c.get(f"/tiles/grids/{z}/{tx}/{ty}.mvt", headers=auth(viewer))
        assert tile.status_code == 200 and tile.content  # grid_stats not stored: computed live, the same tile
        assert any("ST_AsMVT(" in s for s in on_replica), on_replica

        on_replica.clear()
        page = c.get("/ogc/collections/grids/items", params={"limit": 5}, headers=auth(viewer))
        assert page.status_code == 200 and len(page.json()["features"]) == 5
        assert on_replica, "the OGC items page was read from the replica"

        # what writes still goes to the primary: a sign-in (a session row and its audit line), and the
        # key check and rate-limit lease of every request above
        on_replica.clear()
        signed = c.post("/maps/login", data={"key": viewer, "next": "/maps/lookup"}, follow_redirects=False)
        assert signed.status_code == 303 and signed.cookies.get(SESSION_COOKIE)
        assert not on_replica, on_replica
