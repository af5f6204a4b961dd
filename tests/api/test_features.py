"""GeoJSON endpoints: contract fields, auth, plan selection."""

from __future__ import annotations

import time

from shapely.testing import assert_geometries_equal
from shapely.geometry import shape

from tests.conftest import auth


def test_grids_geojson_contract(client, keys) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/v1/grids", headers=auth(keys["viewer"]))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 50
    for f in fc["features"]:
        p = f["properties"]
        assert f["id"] == p["id"]
        assert {"code", "name", "community_code", "households", "population", "buildings", "plan_id"} <= set(p)
        assert len(p["code"]) == 15 and p["code"].startswith(p["community_code"])
        assert p["grid_member"]
        geom = shape(f["geometry"])
        assert geom.is_valid and geom.geom_type == "MultiPolygon"
        # RFC 7946: WGS84 lon/lat, around Datong.
        x, y = geom.representative_point().coords[0]
        assert 112.5 < x < 114 and 39.5 < y < 40.6


def test_one_grid_and_unknown_grid(client, keys) -> None:  # type: ignore[no-untyped-def]
    fc = client.get("/v1/grids", headers=auth(keys["viewer"])).json()
    code = fc["features"][7]["properties"]["code"]
    r = client.get(f"/v1/grids/{code}", headers=auth(keys["viewer"]))
    assert r.status_code == 200
    feature = r.json()
    assert feature["type"] == "Feature" and feature["properties"]["code"] == code
    assert_geometries_equal(shape(feature["geometry"]), shape(fc["features"][7]["geometry"]))
    missing = client.get("/v1/grids/140214101999999", headers=auth(keys["viewer"]))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert "GET /v1/grids" in missing.json()["error"]["message"]


def test_buildings_carry_address_grid_and_counts(client, keys) -> None:  # type: ignore[no-untyped-def]
    fc = client.get("/v1/buildings", headers=auth(keys["viewer"])).json()
    assert len(fc["features"]) == 125
    props = [f["properties"] for f in fc["features"]]
    assert sum(p["units"] for p in props) == 390
    for p in props:
        assert p["address"].endswith("号楼") and p["grid_code"] and p["households"] > 0
        assert 11 <= p["floors"] <= 18


def test_cameras_and_communities(client, keys) -> None:  # type: ignore[no-untyped-def]
    cams = client.get("/v1/cameras", headers=auth(keys["viewer"])).json()["features"]
    assert len(cams) >= 700
    p = cams[0]["properties"]
    assert {"code", "name", "kind", "status", "mount", "lon", "lat", "height_m", "azimuth_deg", "hfov_deg",
            "range_m"} <= set(p)
    comms = client.get("/v1/communities", headers=auth(keys["viewer"])).json()["features"]
    assert {"春安新区", "宁丰社区", "宏盛家园"} <= {c["properties"]["name"] for c in comms}


def test_keys_and_roles(client, keys) -> None:  # type: ignore[no-untyped-def]
    none = client.get("/v1/grids")
    assert none.status_code == 401 and none.json()["error"]["code"] == "unauthorized"
    assert none.headers["www-authenticate"] == "Bearer"
    bad = client.get("/v1/grids", headers=auth("gm_nope_nope"))
    assert bad.status_code == 401
    low = client.get("/v1/grids", headers=auth(keys["client"]))
    assert low.status_code == 403 and "viewer" in low.json()["error"]["message"]
    for role in ("viewer", "operator", "planner", "admin"):
        assert client.get("/v1/communities", headers=auth(keys[role])).status_code == 200


def test_revoked_key_is_refused(client, engine) -> None:  # type: ignore[no-untyped-def]
    from geo.keys import create_key, revoke_key

    info, key = create_key(engine, role="viewer", name="to revoke")
    assert client.get("/v1/communities", headers=auth(key)).status_code == 200
    revoke_key(engine, prefix=info.prefix)
    # Workers trust a verified key for key_cache_s (0.5 s in these tests), then check it again: once that
    # time has passed since the key was last verified, the very next request is refused.
    time.sleep(client.app.state.settings.key_cache_s + 0.05)
    r = client.get("/v1/communities", headers=auth(key))
    assert r.status_code == 401, "a revoked key still works after key_cache_s"


def test_unknown_plan_is_404(client, keys) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/v1/grids?plan=999999", headers=auth(keys["viewer"]))
    assert r.status_code == 404 and "GET /v1/plans" in r.json()["error"]["message"]


def test_plans_list_and_plan_grids(client, keys) -> None:  # type: ignore[no-untyped-def]
    plans = client.get("/v1/plans", headers=auth(keys["viewer"])).json()["plans"]
    published = [p for p in plans if p["status"] == "published"]
    assert len(published) == 1
    pid = published[0]["id"]
    assert client.get(f"/v1/plans/{pid}", headers=auth(keys["viewer"])).json()["id"] == pid
    grids = client.get(f"/v1/plans/{pid}/grids", headers=auth(keys["viewer"])).json()["features"]
    assert len(grids) == 50 and all(g["properties"]["plan_id"] == pid for g in grids)
