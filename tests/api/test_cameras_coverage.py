"""Cameras CRUD with named-field validation, stored views, coverage, gaps and suggestions over HTTP."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from geo.config import Settings
from geo.keys import create_key
from geo.coverage_service import recompute_all
from geo.store.db import make_engine
from tests.conftest import auth


@pytest.fixture(scope="module")
def env(module_db: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    engine = make_engine(module_db)
    recompute_all(engine)
    keys = {r: create_key(engine, role=r)[1] for r in ("viewer", "operator")}
    with engine.connect() as conn:
        # An open-space point: inside a grid, at least 20 m from any building.
        open_x, open_y = conn.execute(text("""
            SELECT ST_X(p), ST_Y(p) FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, 200, 5))).geom AS p
                                          FROM community ORDER BY code LIMIT 1) s
            WHERE NOT EXISTS (SELECT 1 FROM building b WHERE ST_DWithin(b.geom::geography, p::geography, 20))
            LIMIT 1""")).one()
        inside = conn.execute(text("SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
                                   "FROM building ORDER BY code LIMIT 1")).one()
    settings = Settings(database_url=module_db, var_dir=tmp_path_factory.mktemp("var"))
    with TestClient(create_app(settings)) as client:
        yield {"client": client, "engine": engine, "keys": keys, "open": (open_x, open_y), "inside": inside}
    engine.dispose()


def _camera(env, **extra) -> dict:  # type: ignore[no-untyped-def]
    x, y = env["open"]
    return {"code": "14021410001320099001", "name": "测试杆 test pole", "kind": "bullet", "status": "online",
            "mount": "pole", "lon": x, "lat": y, "height_m": 5, "azimuth_deg": 90, "hfov_deg": 70,
            "range_m": 30} | extra


def _count(env, table: str) -> int:  # type: ignore[no-untyped-def]
    with env["engine"].connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


@pytest.mark.parametrize("extra, field", [
    ({"azimuth_deg": 360}, "azimuth_deg"),
    ({"azimuth_deg": -1}, "azimuth_deg"),
    ({"hfov_deg": 0}, "hfov_deg"),
    ({"hfov_deg": 400}, "hfov_deg"),
    ({"range_m": 0}, "range_m"),
    ({"range_m": 2500}, "range_m"),
    ({"range_m": None, "resolution_px": None}, "range_m"),
    ({"kind": "drone"}, "kind"),
    ({"code": "123"}, "code"),
    ({"lon": 40.05, "lat": 113.1}, "swap"),
    ({"mount": "wall"}, "mount"),
])
def test_bad_cameras_are_422_naming_the_field_and_store_nothing(env, extra, field) -> None:  # type: ignore[no-untyped-def]
    before = _count(env, "camera"), _count(env, "camera_view"), _count(env, "audit_log")
    r = env["client"].post("/v1/cameras", json=_camera(env, **extra), headers=auth(env["keys"]["operator"]))
    assert r.status_code == 422, r.text
    assert field in r.json()["error"]["message"]
    assert (_count(env, "camera"), _count(env, "camera_view"), _count(env, "audit_log")) == before


def test_a_camera_inside_a_footprint_must_be_wall_mounted(env) -> None:  # type: ignore[no-untyped-def]
    code, x, y = env["inside"]
    r = env["client"].post("/v1/cameras", json=_camera(env, lon=x, lat=y), headers=auth(env["keys"]["operator"]))
    assert r.status_code == 422 and code in r.json()["error"]["message"] and "wall" in r.json()["error"]["message"]


def test_create_patch_delete_with_views_and_audit(env) -> None:  # type: ignore[no-untyped-def]
    c, op, view = env["client"], auth(env["keys"]["operator"]), auth(env["keys"]["viewer"])
    assert c.post("/v1/cameras", json=_camera(env), headers=view).status_code == 403
    r = c.post("/v1/cameras", json=_camera(env), headers=op)
    assert r.status_code == 201, r.text
    cam = r.json()
    cid = cam["id"]
    assert cam["properties"]["code"] == "14021410001320099001" and cam["properties"]["mount"] == "pole"
    v1 = c.get(f"/v1/cameras/{cid}/view", headers=view).json()
    assert v1["properties"]["counted"] and v1["properties"]["range_m"] == 30
    # Open space, 30 m range, 70°: at most the full sector (π r² · 70/360), and most of it is visible here.
    sector = 3.141592653589793 * 30 ** 2 * 70 / 360
    assert 0.3 * sector < v1["properties"]["area_m2"] <= sector * 1.005
    assert c.post("/v1/cameras", json=_camera(env), headers=op).status_code == 409  # the code is taken

    r = c.patch(f"/v1/cameras/{cid}", json={"azimuth_deg": 270, "status": "fault"}, headers=op)
    assert r.status_code == 200 and r.json()["properties"]["azimuth_deg"] == 270
    v2 = c.get(f"/v1/cameras/{cid}/view", headers=view).json()
    assert v2["geometry"] != v1["geometry"] and v2["properties"]["counted"] is False
    bad = c.patch(f"/v1/cameras/{cid}", json={"hfov_deg": -3}, headers=op)
    assert bad.status_code == 422 and "hfov_deg" in bad.json()["error"]["message"]
    assert c.get(f"/v1/cameras/{cid}", headers=view).json()["properties"]["hfov_deg"] == 70  # unchanged

    with env["engine"].connect() as conn:
        actions = conn.execute(text("SELECT action FROM audit_log WHERE entity = 'camera' AND entity_id = :i "
                                    "ORDER BY id"), {"i": str(cid)}).scalars().all()
    assert actions == ["create", "update"]
    assert c.delete(f"/v1/cameras/{cid}", headers=op).status_code == 204
    assert c.get(f"/v1/cameras/{cid}", headers=view).status_code == 404
    assert c.get(f"/v1/cameras/{cid}/view", headers=view).status_code == 404


def test_coverage_per_grid_adds_up(env) -> None:  # type: ignore[no-untyped-def]
    body = env["client"].get("/v1/coverage", headers=auth(env["keys"]["viewer"])).json()
    assert len(body["grids"]) == 50 and body["town"]["grids_computed"] == 50
    assert body["town"]["cameras"]["online"] >= 680
    for g in body["grids"]:
        assert 0 <= g["ratio"] <= 1 and g["covered_m2"] <= g["watchable_m2"]
    with env["engine"].connect() as conn:
        rows = conn.execute(text(
            "SELECT gc.watchable_m2, gc.covered_m2, coalesce(sum(cg.area_m2), 0), "
            "ST_Area(ST_Transform(g.geom, 4547)) - coalesce((SELECT sum(ST_Area(ST_Transform("
            "ST_Intersection(b.geom, g.geom), 4547))) FROM building b WHERE ST_Intersects(b.geom, g.geom)), 0) "
            "FROM grid_coverage gc JOIN grid g ON g.geom_key = gc.geom_key "
            "JOIN grid_plan p ON p.id = g.plan_id AND p.status = 'published' "
            "LEFT JOIN coverage_gap cg ON cg.geom_key = g.geom_key "
            "GROUP BY gc.geom_key, gc.watchable_m2, gc.covered_m2, g.geom")).all()
    for watchable, covered, stored_gaps, postgis_watchable in rows:
        # coverage + gaps = watchable (gaps under 1 m² are not stored as polygons)
        assert covered + stored_gaps == pytest.approx(watchable, rel=1e-3, abs=5)
        assert watchable == pytest.approx(postgis_watchable, rel=1e-3)  # PostGIS agrees on the watchable area
    places = body["key_places"]
    assert places and all({"covered", "cameras", "best_dori"} <= set(p) for p in places)
    assert any(p["covered"] and p["best_dori"] for p in places)


def test_coverage_of_a_box_lists_what_touches_it_with_the_whole_towns_totals(env) -> None:  # type: ignore[no-untyped-def]
    """A city's map asks /v1/coverage for its view: the grids and key places touching the box, each as the
    whole-town answer has it, and the totals of the whole town."""
    viewer = auth(env["keys"]["viewer"])
    whole = env["client"].get("/v1/coverage", headers=viewer).json()
    box = (113.1, 40.045, 113.11, 40.06)  # the town's eastern half
    body = env["client"].get("/v1/coverage", params={"bbox": ",".join(map(str, box))}, headers=viewer).json()
    assert body["town"] == whole["town"] and body["bbox"] == list(box)
    with env["engine"].connect() as conn:
        env_sql = "ST_Intersects(geom, ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))"
        xy = dict(zip(("x0", "y0", "x1", "y1"), box))
        grids = set(conn.execute(text(f"SELECT code FROM grid WHERE plan_id = :p AND {env_sql}"),
                                 {**xy, "p": whole["plan_id"]}).scalars())
        places = set(conn.execute(text(f"SELECT id FROM key_place WHERE {env_sql}"), xy).scalars())
    assert 0 < len(grids) < len(whole["grids"]) and 0 < len(places) < len(whole["key_places"])
    assert {g["code"] for g in body["grids"]} == grids
    assert body["grids"] == [g for g in whole["grids"] if g["code"] in grids]
    # each key place's coverage is the same as in the whole-town answer (the views near it were all read)
    assert body["key_places"] == [k for k in whole["key_places"] if k["id"] in places]

    light = env["client"].get("/v1/coverage", params={"bbox": ",".join(map(str, box)), "key_places": "false"},
                              headers=viewer).json()
    assert light["key_places"] is None and light["grids"] == body["grids"]
    only = env["client"].get("/v1/coverage", params={"bbox": ",".join(map(str, box)), "grids": "false"},
                             headers=viewer).json()
    assert only["grids"] is None and only["key_places"] == body["key_places"]
    bad = env["client"].get("/v1/coverage", params={"bbox": "40.05,113.1,40.06,113.11"}, headers=viewer)
    assert bad.status_code == 400 and "latitude first" in bad.json()["error"]["message"]


def test_communities_sum_their_grids_coverage(env) -> None:  # type: ignore[no-untyped-def]
    """communities=true: each community's watchable and covered areas are its grids' sums (what a city's
    map colours when zoomed out past its grids); with a bbox, the communities touching it."""
    viewer = auth(env["keys"]["viewer"])
    whole = env["client"].get("/v1/coverage", params={"communities": "true", "key_places": "false"},
                              headers=viewer).json()
    assert env["client"].get("/v1/coverage", params={"key_places": "false"}, headers=viewer).json()["communities"] is None
    by_community: dict[str, list[dict]] = {}
    for g in whole["grids"]:
        by_community.setdefault(g["community_code"], []).append(g)
    assert [c["code"] for c in whole["communities"]] == sorted(by_community) and len(by_community) == 4
    for c in whole["communities"]:
        grids = by_community[c["code"]]
        assert c["grids"] == c["grids_computed"] == len(grids) and c["name"]
        assert c["watchable_m2"] == pytest.approx(sum(g["watchable_m2"] for g in grids))
        assert c["covered_m2"] == pytest.approx(sum(g["covered_m2"] for g in grids))
        assert c["ratio"] == pytest.approx(c["covered_m2"] / c["watchable_m2"]) and 0 < c["ratio"] < 1
    box = (113.104, 40.051, 113.11, 40.06)  # the town's north-eastern corner
    body = env["client"].get("/v1/coverage", params={"bbox": ",".join(map(str, box)), "communities": "true",
                                                     "grids": "false", "key_places": "false"}, headers=viewer).json()
    with env["engine"].connect() as conn:
        touching = list(conn.execute(text("SELECT code FROM community WHERE ST_Intersects(geom, "
                                          "ST_MakeEnvelope(113.104, 40.051, 113.11, 40.06, 4326)) ORDER BY code")).scalars())
    assert 0 < len(touching) < 4 and [c["code"] for c in body["communities"]] == touching
    kept = [c for c in whole["communities"] if c["code"] in touching]
    for mine, theirs in zip(body["communities"], kept, strict=True):  # sums in another order: approx
        assert mine == {**theirs, **{k: pytest.approx(theirs[k]) for k in ("watchable_m2", "covered_m2", "ratio")}}


def test_gaps_and_suggestions(env) -> None:  # type: ignore[no-untyped-def]
    c, h = env["client"], auth(env["keys"]["viewer"])
    cov = c.get("/v1/coverage", headers=h).json()
    worst = min(cov["grids"], key=lambda g: g["ratio"])
    gaps = c.get("/v1/coverage/gaps", params={"grid": worst["code"]}, headers=h).json()
    assert gaps["features"] and all(f["properties"]["grid_code"] == worst["code"] for f in gaps["features"])
    assert max(f["properties"]["area_m2"] for f in gaps["features"]) == pytest.approx(worst["largest_gap_m2"],
                                                                                    rel=1e-6)
    assert c.get("/v1/coverage/gaps", params={"grid": "140214101999999"}, headers=h).status_code == 404

    r = c.post("/v1/coverage/suggest", json={"k": 3, "grid": worst["code"]}, headers=h)
    assert r.status_code == 200, r.text
    picks = r.json()["features"]
    assert len(picks) == 3
    # Greedy: each pick's gain (new m² + 100 m² per newly covered incident) is no larger than the one before.
    gains = [p["properties"]["added_m2"] + 100 * p["properties"]["added_incidents"] for p in picks]
    assert all(p["properties"]["added_m2"] > 0 for p in picks)
    assert all(a >= b - 1e-6 for a, b in zip(gains, gains[1:])), gains
    with env["engine"].connect() as conn:
        for p in picks:
            x, y = p["geometry"]["coordinates"]
            inside = conn.execute(text("SELECT count(*) FROM building WHERE ST_Covers(geom, "
                                       "ST_SetSRID(ST_MakePoint(:x, :y), 4326))"), {"x": x, "y": y}).scalar()
            assert inside == 0, "a suggested site lies inside a building"
            # where it is, in words: the nearest building, as PostGIS finds it, and how far (a wall: ~0 m)
            nearest = conn.execute(text(
                "SELECT code, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography) "
                "FROM building ORDER BY ST_Distance(geom::geography, "
                "ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography) LIMIT 1"), {"x": x, "y": y}).one()
            building = p["properties"]["building"]
            assert building["code"] == nearest[0] and building["name"] and building["address"], building
            assert building["distance_m"] == pytest.approx(nearest[1], abs=0.1)
            if p["properties"]["mount"] == "wall":
                assert building["distance_m"] < 2, building
    assert c.post("/v1/coverage/suggest", json={"k": 0}, headers=h).status_code == 422
