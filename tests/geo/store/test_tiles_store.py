"""geo.store.tiles: the stored grid totals of the grids tiles on a database that refuses writes."""

from __future__ import annotations

from typing import Any

import mapbox_vector_tile
import pytest
from sqlalchemy import create_engine, text

from geo.store import queries
from geo.store import tiles as tile_store
from geo.tiles import layer, lonlat_to_tile


def test_a_read_only_database_stores_nothing_and_serves_the_same_tile(module_db: str) -> None:
    """A read replica: fill_grid_stats says it did not store, and the tile is computed live all the same."""
    replica = create_engine(module_db, connect_args={"options": "-c default_transaction_read_only=on"})
    try:
        with replica.connect() as conn:
            plan = queries.resolve_plan(conn, plan_id=None)["id"]
            lon, lat = conn.execute(text("SELECT ST_X(ST_Centroid(ST_Collect(geom))), ST_Y(ST_Centroid(ST_Collect(geom))) "
                                         "FROM grid WHERE plan_id = :p"), {"p": plan}).one()
            z, x, y = 14, *lonlat_to_tile(lon, lat, 14)
            context = tile_store.tile_context(conn, layer("grids").tables, plan=True, plan_id=plan)
            stamp = tile_store.grid_stats_stamp(context.versions)
            assert tile_store.fill_grid_stats(conn, plan_id=plan, stamp=stamp) is False
            with_versions = tile_store.mvt(conn, "grids", z, x, y, plan_id=plan, context=context)
            conn.rollback()
            live = tile_store.mvt(conn, "grids", z, x, y, plan_id=plan)
            assert conn.execute(text("SELECT count(*) FROM grid_stats")).scalar_one() == 0
        decoded = mapbox_vector_tile.decode(with_versions)
        assert decoded == mapbox_vector_tile.decode(live) and len(decoded["grids"]["features"]) == 50
    finally:
        replica.dispose()


@pytest.mark.parametrize("layer_name", ["buildings", "communities", "cameras", "incidents"])
def test_a_tile_computes_each_features_geometry_once(module_db: str, layer_name: str) -> None:
    """The tile statement's plan evaluates ST_AsMVTGeom once per row (an inlined CTE copied it into the
    count and the aggregate, or a NULL filter: twice the geometry work; bench/README.md)."""
    from sqlalchemy import event

    engine = create_engine(module_db)
    seen: list[tuple[str, Any]] = []
    event.listen(engine, "before_cursor_execute", lambda c, cur, st, p, ctx, many: seen.append((st, p)))
    try:
        with engine.connect() as conn:
            lon, lat = conn.execute(text("SELECT ST_X(ST_Centroid(ST_Collect(geom))), ST_Y(ST_Centroid(ST_Collect(geom))) "
                                         "FROM building")).one()
            z = 16 if layer_name != "communities" else 14
            body = tile_store.mvt(conn, layer_name, z, *lonlat_to_tile(lon, lat, z))
            assert body, "the town's middle tile has features"
            statement, params = next((st, p) for st, p in reversed(seen) if "ST_AsMVT(" in st)
            plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN (VERBOSE, COSTS OFF) " + statement, params))
    finally:
        engine.dispose()
    assert plan.lower().count("st_asmvtgeom(") == 1, plan
