"""Vector tiles: contents, addressing errors, 204/304, ETags that change with what a tile shows (and only
then), TileJSON / style / OGC metadata, the maps' session, gzip over real HTTP and CORS."""

from __future__ import annotations

import gzip
from typing import Any

import httpx
import mapbox_vector_tile
import pytest
from sqlalchemy import text

from api.deps import SESSION_COOKIE
from geo import coverage_service, tiles
from geo.keys import start_session
from tests.conftest import app_env, auth, serve

TOWN = (113.09378, 40.04598, 113.10622, 40.05401)
Z14 = tiles.tiles_covering(TOWN, 14)[0]  # the whole town lies in this one tile


@pytest.fixture(scope="module")
def env(module_db: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    with app_env(module_db, tmp_path_factory.mktemp("var"), lookup_poll_s=0.1) as env:
        coverage_service.recompute_all(env["engine"])  # the views and gaps (the demo template has none)
        yield env


def _get(env: dict[str, Any], path: str, *, role: str = "viewer", **headers: str) -> httpx.Response:
    return env["client"].get(path, headers={**auth(env["keys"][role]), **headers})


def _tile(env: dict[str, Any], layer: str, z: int, x: int, y: int, query: str = "") -> dict[str, Any]:
    r = _get(env, f"/tiles/{layer}/{z}/{x}/{y}.mvt{query}")
    assert r.status_code in (200, 204), r.text
    return mapbox_vector_tile.decode(r.content) if r.status_code == 200 else {}


def _scalar(env: dict[str, Any], sql: str, **params: Any) -> Any:
    with env["engine"].connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def _densest(env: dict[str, Any], table: str, z: int, where: str = "true") -> tuple[int, int, int]:
    """The tile at zoom *z* holding the most rows of *table*."""
    lon, lat = _scalar(env, f"SELECT ARRAY[ST_X(p), ST_Y(p)] FROM (SELECT ST_PointOnSurface(geom) p FROM {table} "
                            f"WHERE {where} ORDER BY id LIMIT 1) s")
    return (z, *tiles.lonlat_to_tile(lon, lat, z))


# ---------------------------------------------------------------------------------------------- content


def test_the_town_tile_holds_every_layer_with_the_map_properties_only(env) -> None:  # type: ignore[no-untyped-def]
    z, x, y = Z14
    grids = _tile(env, "grids", z, x, y)["grids"]["features"]
    assert len(grids) == _scalar(env, "SELECT count(*) FROM grid g JOIN grid_plan p ON p.id = g.plan_id "
                                      "WHERE p.status = 'published'") == 50
    props = grids[0]["properties"]
    assert set(props) <= set(tiles.LAYERS["grids"].vector_layers[0].fields)
    assert {"code", "community_code", "households", "population"} <= set(props)
    assert not any("phone" in k for g in grids for k in g["properties"])  # no phone numbers in tiles at all
    households = {g["properties"]["code"]: g["properties"]["households"] for g in grids}
    v1 = {f["properties"]["code"]: f["properties"]["households"]
          for f in _get(env, "/v1/grids").json()["features"]}
    assert households == v1  # the same totals as /v1
    assert len(_tile(env, "communities", z, x, y)["communities"]["features"]) == 4
    assert len(_tile(env, "buildings", z, x, y)["buildings"]["features"]) == _scalar(env, "SELECT count(*) FROM building")
    cams = _tile(env, "cameras", z, x, y)
    assert set(cams) == {"cameras"}  # no view cones at z14
    assert len(cams["cameras"]["features"]) == _scalar(env, "SELECT count(*) FROM camera")
    assert all(f["geometry"]["type"] == "Point" for f in cams["cameras"]["features"])  # points
    gaps = _tile(env, "gaps", z, x, y)["gaps"]["features"]
    assert gaps and all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in gaps)


def test_camera_views_come_from_zoom_17(env) -> None:  # type: ignore[no-untyped-def]
    z, x, y = _densest(env, "camera", tiles.CAMERA_VIEWS_MINZOOM)
    t = _tile(env, "cameras", z, x, y)
    assert t["cameras"]["features"] and t["camera_views"]["features"]
    cam_ids = {f["id"] for f in t["cameras"]["features"]}
    assert {f["id"] for f in t["camera_views"]["features"]} & cam_ids
    assert "camera_views" not in _tile(env, "cameras", z - 1, x // 2, y // 2)


def test_incidents_are_counted_at_low_zoom_and_points_at_high_zoom(env) -> None:  # type: ignore[no-untyped-def]
    z, x, y = Z14
    clusters = _tile(env, "incidents", z, x, y)["incident_clusters"]["features"]
    counted = _scalar(env, "SELECT count(*) FROM incident WHERE voided_at IS NULL")
    assert sum(f["properties"]["count"] for f in clusters) == counted
    assert len(clusters) < counted and max(f["properties"]["count"] for f in clusters) > 1
    # a category and a time window: the counts are those of the filter
    n = _scalar(env, "SELECT count(*) FROM incident WHERE voided_at IS NULL AND category = 'dispute' "
                     "AND occurred_at >= '2026-01-01T00:00:00+08:00' AND occurred_at <= '2026-03-31T00:00:00+08:00'")
    got = _tile(env, "incidents", z, x, y, "?category=dispute&datetime=2026-01-01/2026-03-31")
    assert sum(f["properties"]["count"] for f in got.get("incident_clusters", {}).get("features", [])) == n > 0
    # from zoom 16, one point per incident, every one of them once over the tiles covering the town
    seen: list[int] = []
    for z16, x16, y16 in tiles.tiles_covering(TOWN, tiles.INCIDENT_POINTS_MINZOOM):
        t = _tile(env, "incidents", z16, x16, y16)
        seen += [f["id"] for f in t.get("incidents", {}).get("features", [])]
        assert "incident_clusters" not in t
    assert len(set(seen)) == counted  # buffered tiles repeat edge points; the set is every counted incident


def test_voided_incidents_are_left_out(env) -> None:  # type: ignore[no-untyped-def]
    iid = _scalar(env, "SELECT id FROM incident WHERE voided_at IS NULL ORDER BY id LIMIT 1")
    r = env["client"].post(f"/v1/incidents/{iid}/void", json={"reason": "test: reported twice"},
                           headers=auth(env["keys"]["operator"]))
    assert r.status_code == 200, r.text
    z, x, y = _densest(env, "incident", 18, where=f"id = {iid}")
    ids = {f["id"] for f in _tile(env, "incidents", z, x, y).get("incidents", {}).get("features", [])}
    assert iid not in ids


# ------------------------------------------------------------------------------------- addressing, roles


@pytest.mark.parametrize("path, words", [
    ("/tiles/grids/25/0/0.mvt", "zoom 25 is outside 0..24"),
    ("/tiles/grids/3/8/0.mvt", "x=8 is outside zoom 3: x and y go from 0 to 7"),
    ("/tiles/grids/3/0/-1.mvt", "not a tile number"),
    ("/tiles/grids/a/0/0.mvt", "not a tile number"),
    ("/tiles/grids/WebMercatorQuad/2/4/0", "y=4 is outside zoom 2"),
])
def test_a_tile_outside_the_matrix_is_400_naming_the_range(env, path: str, words: str) -> None:  # type: ignore[no-untyped-def]
    r = _get(env, path)
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_tile"
    assert words in r.json()["error"]["message"]


def test_an_unknown_layer_is_404_naming_the_layers(env) -> None:  # type: ignore[no-untyped-def]
    for path in ("/tiles/roads/14/0/0.mvt", "/tiles/roads/tilejson.json", "/tiles/roads"):
        r = _get(env, path)
        assert r.status_code == 404 and "grids, communities, buildings, cameras, gaps, incidents" in r.text


def test_bad_filters_are_refused(env) -> None:  # type: ignore[no-untyped-def]
    z, x, y = Z14
    r = _get(env, f"/tiles/incidents/{z}/{x}/{y}.mvt?category=ufo")
    assert r.status_code == 422 and "dispute" in r.json()["error"]["message"]
    r = _get(env, f"/tiles/incidents/{z}/{x}/{y}.mvt?datetime=2026-03-01/2026-01-01")
    assert r.status_code == 422 and "ends before it starts" in r.json()["error"]["message"]
    assert _get(env, f"/tiles/grids/{z}/{x}/{y}.mvt?plan=999999").status_code == 404


def test_tiles_need_a_viewer_or_the_maps_session(env) -> None:  # type: ignore[no-untyped-def]
    z, x, y = Z14
    path = f"/tiles/grids/{z}/{x}/{y}.mvt"
    assert env["client"].get(path).status_code == 401
    assert _get(env, path, role="client").status_code == 403
    _, token = start_session(env["engine"], env["keys"]["viewer"], hours=1)
    r = env["client"].get(path, cookies={SESSION_COOKIE: token})
    assert r.status_code == 200 and r.headers["content-type"] == tiles.MVT_MEDIA_TYPE
    env["client"].cookies.clear()


def test_an_empty_tile_is_204_and_a_matching_etag_304(env) -> None:  # type: ignore[no-untyped-def]
    r = _get(env, "/tiles/grids/14/0/0.mvt")
    assert r.status_code == 204 and r.content == b"" and r.headers["etag"].startswith('W/"')
    z, x, y = Z14
    r = _get(env, f"/tiles/buildings/{z}/{x}/{y}.mvt")
    assert r.status_code == 200 and r.headers["cache-control"] == "private, max-age=0, must-revalidate"
    etag = r.headers["etag"]
    again = _get(env, f"/tiles/buildings/{z}/{x}/{y}.mvt", **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    listed = _get(env, f"/tiles/buildings/{z}/{x}/{y}.mvt", **{"If-None-Match": f'"other", {etag.removeprefix("W/")}'})
    assert listed.status_code == 304  # weak comparison, in a list
    assert _get(env, f"/tiles/buildings/{z}/{x}/{y}.mvt", **{"If-None-Match": '"other"'}).status_code == 200
    # the OGC path is the same tile (row, then column)
    ogc = _get(env, f"/tiles/buildings/WebMercatorQuad/{z}/{y}/{x}")
    assert ogc.content == r.content and ogc.headers["etag"] == etag
    # parameters that change what a tile shows change its key
    e1 = _get(env, f"/tiles/incidents/{z}/{x}/{y}.mvt").headers["etag"]
    e2 = _get(env, f"/tiles/incidents/{z}/{x}/{y}.mvt?category=dispute").headers["etag"]
    assert e1 != e2


# ------------------------------------------------------------------------------- keys follow the data


def _etags(env: dict[str, Any], tile: tuple[int, int, int]) -> dict[str, str]:
    z, x, y = tile
    return {name: _get(env, f"/tiles/{name}/{z}/{x}/{y}.mvt").headers["etag"] for name in tiles.LAYERS}


def test_moving_a_camera_changes_the_cameras_tiles_only(env) -> None:  # type: ignore[no-untyped-def]
    cid, lon, lat = _scalar(env, "SELECT ARRAY[id, ST_X(geom), ST_Y(geom)] FROM camera WHERE mount = 'pole' "
                                 "ORDER BY id LIMIT 1")
    cid = int(cid)
    x, y = tiles.lonlat_to_tile(lon, lat, 18)
    before, before_town = _etags(env, (18, x, y)), _etags(env, Z14)
    old = _tile(env, "cameras", 18, x, y)["cameras"]["features"]
    r = env["client"].patch(f"/v1/cameras/{cid}", json={"lon": lon + 0.00001, "lat": lat},
                            headers=auth(env["keys"]["operator"]))
    assert r.status_code == 200, r.text
    after, after_town = _etags(env, (18, x, y)), _etags(env, Z14)
    # the camera's view and the grid's coverage were recomputed in the same transaction: its gaps changed too
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"cameras", "gaps"} == {k for k in before_town if before_town[k] != after_town[k]}
    new = _tile(env, "cameras", 18, x, y)["cameras"]["features"]
    moved = lambda fs: next(f["geometry"]["coordinates"] for f in fs if f["id"] == cid)  # noqa: E731
    assert moved(new) != moved(old)  # the new tile shows the camera where it now is
    # the old ETag is no longer answered 304
    stale = _get(env, f"/tiles/cameras/18/{x}/{y}.mvt", **{"If-None-Match": before["cameras"]})
    assert stale.status_code == 200


def test_publishing_changes_the_plan_layers_only(env) -> None:  # type: ignore[no-untyped-def]
    c, planner = env["client"], auth(env["keys"]["planner"])
    before = _etags(env, Z14)
    draft = c.post("/v1/plans", json={"name": "tiles: republish"}, headers=planner)
    assert draft.status_code == 201, draft.text
    plan, version = draft.json()["id"], draft.json()["version"]
    draft_tile = _get(env, f"/tiles/grids/{Z14[0]}/{Z14[1]}/{Z14[2]}.mvt?plan={plan}")
    assert draft_tile.status_code == 200 and draft_tile.headers["etag"] != before["grids"]
    r = c.post(f"/v1/plans/{plan}/publish", json={"acknowledge_warnings": True},
               headers={**planner, "If-Match": f'"{version}"'})
    assert r.status_code == 200, r.text
    after = _etags(env, Z14)
    assert after["grids"] != before["grids"]
    for name in ("communities", "buildings", "cameras", "incidents"):
        assert after[name] == before[name], name
    grids = _tile(env, "grids", *Z14)["grids"]["features"]
    assert len(grids) == 50


def _grid_props(env: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["properties"]["code"]: f["properties"] for f in _tile(env, "grids", *Z14)["grids"]["features"]}


def _live_grid_props(env: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The grids tile computed with no stored totals at all (mvt without versions)."""
    from geo.store import queries
    from geo.store import tiles as tile_store

    with env["engine"].connect() as conn:
        plan = queries.resolve_plan(conn, plan_id=None)["id"]
        body = tile_store.mvt(conn, "grids", *Z14, plan_id=plan)
    return {f["properties"]["code"]: f["properties"] for f in mapbox_vector_tile.decode(body)["grids"]["features"]}


def test_stored_grid_totals_are_used_only_while_they_are_current(env) -> None:  # type: ignore[no-untyped-def]
    live = _live_grid_props(env)
    first = _grid_props(env)  # computes live, then stores the plan's totals
    assert first == live and len(first) == 50 and sum(p["households"] for p in first.values()) > 0
    plan = _scalar(env, "SELECT id FROM grid_plan WHERE status = 'published'")
    stamp = _scalar(env, "SELECT min(stamp) FROM grid_stats s JOIN grid g ON g.id = s.grid_id WHERE g.plan_id = :p",
                    p=plan)
    assert _scalar(env, "SELECT count(DISTINCT s.stamp) FROM grid_stats s JOIN grid g ON g.id = s.grid_id "
                        "WHERE g.plan_id = :p", p=plan) == 1
    assert _scalar(env, "SELECT count(*) FROM grid_stats s JOIN grid g ON g.id = s.grid_id WHERE g.plan_id = :p",
                   p=plan) == 50
    assert _grid_props(env) == live  # from the stored rows now: the same tile

    # the stored rows are what the tile reads: a row changed by hand shows (while its stamp is current) ...
    code = sorted(first)[0]
    with env["engine"].begin() as conn:
        conn.execute(text("UPDATE grid_stats SET households = 999999 WHERE grid_id = "
                          "(SELECT id FROM grid WHERE plan_id = :p AND code = :c)"), {"p": plan, "c": code})
    assert _grid_props(env)[code]["households"] == 999999
    # ... and a change to what they are made of (a unit's households) makes every row stale: computed live
    with env["engine"].begin() as conn:
        conn.execute(text("UPDATE unit SET households = households + 7 WHERE id = (SELECT u.id FROM unit u "
                          "JOIN building b ON b.id = u.building_id JOIN grid g ON g.plan_id = :p "
                          "AND g.code = :c AND ST_Covers(g.geom, ST_PointOnSurface(b.geom)) ORDER BY u.id LIMIT 1)"),
                     {"p": plan, "c": code})
    after = _grid_props(env)
    assert after[code]["households"] == live[code]["households"] + 7
    assert {k: v for k, v in after.items() if k != code} == {k: v for k, v in live.items() if k != code}
    assert _scalar(env, "SELECT min(stamp) FROM grid_stats s JOIN grid g ON g.id = s.grid_id WHERE g.plan_id = :p",
                   p=plan) != stamp  # refilled under the new stamp
    assert _grid_props(env) == after == _live_grid_props(env)
    with env["engine"].begin() as conn:  # as it was, for the other tests
        conn.execute(text("UPDATE unit SET households = households - 7 WHERE id = (SELECT u.id FROM unit u "
                          "JOIN building b ON b.id = u.building_id JOIN grid g ON g.plan_id = :p "
                          "AND g.code = :c AND ST_Covers(g.geom, ST_PointOnSurface(b.geom)) ORDER BY u.id LIMIT 1)"),
                     {"p": plan, "c": code})


def test_the_change_counter_bumps_once_per_transaction(env) -> None:  # type: ignore[no-untyped-def]
    from geo.store import tiles as tile_store

    with env["engine"].connect() as conn:
        v0 = tile_store.data_versions(conn, ("incident", "camera"))
    with env["engine"].begin() as conn:
        conn.execute(text("UPDATE incident SET severity = severity WHERE id IN (SELECT id FROM incident LIMIT 3)"))
        conn.execute(text("UPDATE incident SET severity = severity WHERE id IN (SELECT id FROM incident LIMIT 3)"))
    with env["engine"].connect() as conn:
        v1 = tile_store.data_versions(conn, ("incident", "camera"))
        conn.execute(text("UPDATE incident SET severity = severity WHERE id = 1"))
        conn.rollback()  # a rolled-back write counts nothing
        v2 = tile_store.data_versions(conn, ("incident", "camera"))
    assert v1["incident"] == v0["incident"] + 1 and v1["camera"] == v0["camera"] and v1["epoch"] == v0["epoch"]
    assert v2 == v1


def test_a_tile_is_built_without_parallel_workers_and_the_setting_ends_with_its_transaction(env) -> None:  # type: ignore[no-untyped-def]
    """Starting a parallel worker costs more than a tile's indexed scan (bench/README.md "bench/ogc"):
    the tile's transaction plans without one, and the pooled connection gets its default back."""
    from geo.store import tiles as tile_store

    show = text("SHOW max_parallel_workers_per_gather")
    with env["engine"].connect() as conn:
        default = conn.execute(show).scalar_one()
        conn.rollback()
        assert default != "0"
        body = tile_store.mvt(conn, "incidents", 16, *tiles.lonlat_to_tile(113.1, 40.05, 16))
        assert conn.execute(show).scalar_one() == "0"
        conn.rollback()
        assert conn.execute(show).scalar_one() == default
    assert body == _get(env, "/tiles/incidents/16/{}/{}.mvt".format(*tiles.lonlat_to_tile(113.1, 40.05, 16))).content


# ------------------------------------------------------------------------------------------- metadata


def test_tilejson_style_and_ogc_metadata(env) -> None:  # type: ignore[no-untyped-def]
    tj = _get(env, "/tiles/cameras/tilejson.json").json()
    assert tj["tilejson"] == "3.0.0" and tj["tiles"] == ["http://testserver/tiles/cameras/{z}/{x}/{y}.mvt"]
    w, s, e, n = tj["bounds"]
    assert 113.09 < w < e < 113.11 and 40.04 < s < n < 40.06
    assert [v["id"] for v in tj["vector_layers"]] == ["cameras", "camera_views"]
    assert tj["vector_layers"][1]["minzoom"] == tiles.CAMERA_VIEWS_MINZOOM
    assert "status" in tj["vector_layers"][0]["fields"]
    plan_tj = _get(env, "/tiles/grids/tilejson.json?plan=1").json()
    assert plan_tj["tiles"][0].endswith(".mvt?plan=1")
    assert "plan=" not in _get(env, "/tiles/cameras/tilejson.json?plan=1").json()["tiles"][0]

    style = _get(env, "/tiles/style.json").json()
    assert style["version"] == 8 and set(style["sources"]) == set(tiles.LAYERS)
    assert "glyphs" not in style and "sprite" not in style
    assert all(layer["type"] != "symbol" for layer in style["layers"])
    for layer in style["layers"]:
        if "source" in layer:
            ids = [v.id for v in tiles.LAYERS[layer["source"]].vector_layers]
            assert layer["source-layer"] in ids, layer["id"]
    urls = [u for src in style["sources"].values() for u in src["tiles"]]
    assert all(u.startswith("http://testserver/tiles/") for u in urls)

    sets = _get(env, "/tiles").json()
    assert len(sets["tilesets"]) == len(tiles.LAYERS) and sets["tilesets"][0]["dataType"] == "vector"
    item = next(lk for lk in sets["tilesets"][0]["links"] if lk["rel"] == "item")
    assert item["href"].endswith("/tiles/grids/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")
    tms = _get(env, "/tiles/tileMatrixSets/WebMercatorQuad").json()
    assert tms["id"] == "WebMercatorQuad" and len(tms["tileMatrices"]) == 25
    assert tms["tileMatrices"][14]["matrixWidth"] == 2 ** 14
    assert env["client"].get("/tiles/style.json").status_code == 401


# ------------------------------------------------------------------------------ real HTTP: gzip, CORS


@pytest.fixture(scope="module")
def served(env):  # type: ignore[no-untyped-def]
    yield from serve(env["settings"])


def test_json_and_tiles_come_gzipped_and_decode_to_the_same_bytes(env, served: str) -> None:  # type: ignore[no-untyped-def]
    h = auth(env["keys"]["viewer"])
    z, x, y = Z14
    for path in ("/v1/incidents", f"/tiles/cameras/{z}/{x}/{y}.mvt", "/tiles/style.json"):
        plain = httpx.get(served + path, headers={**h, "Accept-Encoding": "identity"})
        with httpx.stream("GET", served + path, headers={**h, "Accept-Encoding": "gzip"}) as r:
            raw = b"".join(r.iter_raw())
            assert r.headers["content-encoding"] == "gzip" and "accept-encoding" in r.headers["vary"].lower()
        assert plain.status_code == 200 and "content-encoding" not in plain.headers, (path, plain.request.headers)
        assert gzip.decompress(raw) == plain.content and len(raw) < len(plain.content) / 2, path
    # the ETag is the same on both (weak: the same tile), and a 304 carries no body
    tile = f"/tiles/cameras/{z}/{x}/{y}.mvt"
    a = httpx.get(served + tile, headers={**h, "Accept-Encoding": "gzip"})
    b = httpx.get(served + tile, headers={**h, "Accept-Encoding": "identity"})
    assert a.headers["etag"] == b.headers["etag"]
    nm = httpx.get(served + tile, headers={**h, "Accept-Encoding": "gzip", "If-None-Match": a.headers["etag"]})
    assert nm.status_code == 304 and nm.content == b"" and "content-encoding" not in nm.headers
    # small answers are left alone
    small = httpx.get(served + "/health", headers={"Accept-Encoding": "gzip"})
    assert small.status_code == 200 and "content-encoding" not in small.headers
    assert int(small.headers["content-length"]) < 1024


def test_the_streamed_batch_still_streams_and_decodes(env, served: str) -> None:  # type: ignore[no-untyped-def]
    h = {**auth(env["keys"]["client"]), "Accept-Encoding": "gzip"}
    points = [[113.1, 40.05]] * 5000
    with httpx.stream("POST", served + "/v1/lookup/batch", json={"points": points}, headers=h, timeout=60) as r:
        assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
        assert "content-length" not in r.headers  # still a chunked, streamed answer
        body = r.read()  # httpx decodes
    plain = httpx.post(served + "/v1/lookup/batch", json={"points": points},
                       headers={**auth(env["keys"]["client"]), "Accept-Encoding": "identity"}, timeout=60)
    assert body == plain.content


def test_no_cors_headers_by_default(env, served: str) -> None:  # type: ignore[no-untyped-def]
    pre = httpx.options(served + "/tiles/style.json", headers={
        "Origin": "https://wall.example.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert not any(k.lower().startswith("access-control-") for k in pre.headers)
    got = httpx.get(served + "/tiles/style.json", headers={**auth(env["keys"]["viewer"]),
                                                          "Origin": "https://wall.example.org"})
    assert got.status_code == 200 and not any(k.lower().startswith("access-control-") for k in got.headers)


def test_cors_admits_the_listed_origins_only(module_db: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with app_env(module_db, tmp_path, roles=("viewer",),
                 cors_origins="https://wall.example.org, http://10.0.0.5:8080") as cenv:
        c = cenv["client"]
        ask = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization, if-none-match"}
        ok = c.options("/tiles/style.json", headers={"Origin": "https://wall.example.org", **ask})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://wall.example.org"
        allowed = ok.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed and "if-none-match" in allowed
        assert ok.headers["x-content-type-options"] == "nosniff"  # the security headers stay
        other = c.options("/tiles/style.json", headers={"Origin": "https://evil.example.com", **ask})
        assert "access-control-allow-origin" not in other.headers
        z, x, y = Z14
        got = c.get(f"/tiles/grids/{z}/{x}/{y}.mvt", headers={**auth(cenv["keys"]["viewer"]),
                                                             "Origin": "http://10.0.0.5:8080"})
        assert got.status_code == 200 and got.headers["access-control-allow-origin"] == "http://10.0.0.5:8080"
        assert "etag" in got.headers["access-control-expose-headers"].lower()
        assert "access-control-allow-credentials" not in got.headers
    with pytest.raises(ValueError, match="not an origin"):
        with app_env(module_db, tmp_path, roles=(), cors_origins="wall.example.org/maps"):
            pass


def test_a_tile_requested_again_is_not_planned_again(env: dict[str, Any]) -> None:
    """The tile's statements are prepared on the app's pooled connections after a few requests (read
    requests end by COMMIT: a ROLLBACK makes psycopg forget them, and every tile was planned anew)."""
    for _ in range(8):
        _tile(env, "grids", *Z14)
    engine = env["client"].app.state.engine
    held = [engine.connect() for _ in range(engine.pool.checkedin())]  # every pooled connection at once
    try:
        prepared = [r for conn in held for r in conn.execute(text(
            "SELECT statement, generic_plans + custom_plans AS uses FROM pg_prepared_statements"))]
    finally:
        for conn in held:
            conn.close()
    tile_statements = [r for r in prepared if "ST_AsMVT" in r.statement and "grids" in r.statement]
    assert tile_statements and max(r.uses for r in tile_statements) >= 3, prepared
