"""Heatmap, hotspots and the monthly briefing over HTTP."""

from __future__ import annotations

import base64
import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import text

from api.app import create_app
from geo.config import Settings
from geo.keys import create_key
from geo.store.db import make_engine
from tests.conftest import auth


def test_heatmap_points_and_png(client, keys) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/v1/heatmap", params={"from": "2026-06-01", "to": "2026-09-01", "category": "dispute"},
                   headers=auth(keys["viewer"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["n_incidents"] > 50 and body["bandwidth_m"] == 50 and body["crs"] == "EPSG:4547"
    (south, west), (north, east) = body["bounds"]
    assert 113.0 < west < east < 113.2 and 40.0 < south < north < 40.1
    values = [p[2] for p in body["points"]]
    assert max(values) == pytest.approx(1.0) and min(values) >= 0.02
    for lat, lon, _ in body["points"][:50]:
        assert south <= lat <= north and west <= lon <= east
    png = client.get("/v1/heatmap", params={"format": "png"}, headers=auth(keys["viewer"])).json()["png"]
    image = Image.open(io.BytesIO(base64.b64decode(png.split(",", 1)[1])))
    assert image.mode == "RGBA" and image.getextrema()[3][1] > 0  # some pixels are not transparent


def test_weekly_frames_share_one_lattice(client, keys) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/v1/heatmap", params={"format": "weekly", "from": "2026-06-01", "to": "2026-07-01"},
                      headers=auth(keys["viewer"])).json()
    frames = body["frames"]
    assert 4 <= len(frames) <= 6
    assert [f["week"] for f in frames] == sorted(f["week"] for f in frames)
    total = client.get("/v1/incidents", params={"from": "2026-06-01", "to": "2026-07-01", "limit": 1},
                       headers=auth(keys["viewer"])).json()["total"]
    assert sum(f["n"] for f in frames) == total == body["n_incidents"]


def test_hotspots_state_their_weights_and_count_every_incident(client, keys, engine) -> None:  # type: ignore[no-untyped-def]
    params = {"from": "2026-01-01", "to": "2026-07-01", "cell_m": 100}
    fc = client.get("/v1/hotspots", params=params, headers=auth(keys["viewer"])).json()
    assert fc["weights"]["kind"] == "distance_band" and fc["weights"]["threshold_m"] == 150
    assert fc["weights"]["transform"] == "B" and fc["cell_m"] == 100
    props = [f["properties"] for f in fc["features"]]
    assert all({"count", "z", "p", "class"} <= set(p) for p in props)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM incident WHERE occurred_at >= '2026-01-01T00:00+08:00' "
                              "AND occurred_at < '2026-07-01T00:00+08:00'")).scalar_one()
    assert sum(p["count"] for p in props) + fc["n_outside"] == n
    hot = [p for p in props if p["class"].startswith("hot")]
    assert hot, "the demo's market, car park and troubled building must show up"
    fdr = client.get("/v1/hotspots", params={**params, "fdr": "true"}, headers=auth(keys["viewer"])).json()
    significant = sum(f["properties"]["class"] != "not_significant" for f in fc["features"])
    assert sum(f["properties"]["class"] != "not_significant" for f in fdr["features"]) <= significant


def test_emerging_hotspots(client, keys) -> None:  # type: ignore[no-untyped-def]
    fc = client.get("/v1/hotspots", params={"from": "2026-03-01", "to": "2026-09-01", "periods": 6},
                    headers=auth(keys["viewer"])).json()
    labels = {f["properties"]["emerging"] for f in fc["features"]}
    assert labels <= {"new", "intensifying", "persistent", "diminishing", "sporadic", "none"}
    assert len(fc["emerging"]["periods"]) == 6
    assert labels - {"none"}
    bad = client.get("/v1/hotspots", params={"periods": 6}, headers=auth(keys["viewer"]))
    assert bad.status_code == 422 and "from=" in bad.json()["error"]["message"]


def test_bad_parameters(client, keys) -> None:  # type: ignore[no-untyped-def]
    h = auth(keys["viewer"])
    assert client.get("/v1/heatmap", params={"bandwidth_m": -5}, headers=h).status_code == 422
    r = client.get("/v1/heatmap", params={"from": "2026-05-01", "to": "2026-04-01"}, headers=h)
    assert r.status_code == 422 and "not after" in r.json()["error"]["message"]
    assert client.get("/v1/hotspots", params={"category": "weather"}, headers=h).status_code == 422
    assert client.get("/v1/reports/monthly", params={"month": "2026-13"}, headers=h).status_code == 422
    assert client.get("/v1/heatmap", headers=auth(keys["client"])).status_code == 403


# -- the monthly briefing against a hand count ---------------------------------------------

# (occurred, category, grid index, [(state, at), ...]) — times in +08:00, all in July 2026 but the last.
FIXTURE = [
    ("2026-07-02T09:00", "dispute", 0, [("reported", "2026-07-02T09:00"), ("accepted", "2026-07-02T10:00"),
                                         ("assigned", "2026-07-02T12:00"), ("assisting", "2026-07-03T09:00"),
                                         ("closed", "2026-07-03T21:00")]),   # closed after 36 h
    ("2026-07-10T08:00", "dispute", 0, [("reported", "2026-07-10T08:00"), ("accepted", "2026-07-10T09:00"),
                                         ("assigned", "2026-07-10T10:00"), ("assisting", "2026-07-11T08:00"),
                                         ("closed", "2026-07-16T08:00")]),   # 144 h: later than 2+4+24+72 = 102 h
    ("2026-07-20T08:00", "safety_hazard", 0, [("reported", "2026-07-20T08:00")]),  # open, overdue now
    ("2026-07-25T08:00", "facilities", 1, [("reported", "2026-07-25T08:00"), ("rejected", "2026-07-25T09:00")]),
    ("2026-08-01T08:00", "dispute", 1, [("reported", "2026-08-01T08:00")]),  # August: not in the July report
]


@pytest.fixture
def fixture_client(private_db, tmp_path):  # type: ignore[no-untyped-def]
    engine = make_engine(private_db)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM incident"))
        grids = conn.execute(text("SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
                                  "FROM grid ORDER BY code LIMIT 2")).all()
        for occurred, category, g, events in FIXTURE:
            code, x, y = grids[g]
            iid = conn.execute(text(
                "INSERT INTO incident (category, source, severity, occurred_at, reported_at, status, grid_code, geom)"
                " VALUES (:c, 'patrol', 2, :o, :o, :s, :g, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
                {"c": category, "o": occurred + "+08:00", "s": events[-1][0], "g": code, "x": x, "y": y}).scalar()
            for seq, (state, at) in enumerate(events, start=1):
                conn.execute(text("INSERT INTO incident_event (incident_id, seq, from_status, to_status, at, actor) "
                                  "VALUES (:i, :n, :f, :t, :a, 'test')"),
                             {"i": iid, "n": seq, "f": events[seq - 2][0] if seq > 1 else None, "t": state,
                              "a": at + "+08:00"})
    key = create_key(engine, role="viewer")[1]
    with TestClient(create_app(Settings(database_url=private_db, var_dir=tmp_path))) as c:
        yield c, key, [g[0] for g in grids]
    engine.dispose()


def test_monthly_report_matches_a_hand_count(fixture_client) -> None:  # type: ignore[no-untyped-def]
    c, key, (g0, g1) = fixture_client
    report = c.get("/v1/reports/monthly", params={"month": "2026-07"}, headers=auth(key)).json()
    town = report["town"]
    assert town["incidents"] == 4 and town["closed"] == 2 and town["open"] == 1
    assert town["by_category"] == {"dispute": 2, "safety_hazard": 1, "public_order": 0, "environment": 0,
                                   "facilities": 1, "other": 0}
    assert town["closure_hours_median"] == pytest.approx((36 + 144) / 2)
    assert town["closure_hours_mean"] == pytest.approx(90)
    assert town["closed_late"] == 1 and town["overdue_open"] == 1
    grids = {g["code"]: g for g in report["grids"]}
    assert len(grids) == 50
    assert grids[g0]["incidents"] == 3 and grids[g0]["by_category"]["dispute"] == 2 and grids[g0]["closed"] == 2
    assert grids[g1]["incidents"] == 1 and grids[g1]["by_category"]["facilities"] == 1 and grids[g1]["closed"] == 0
    assert sum(g["incidents"] for g in report["grids"]) == 4
    html = c.get("/v1/reports/monthly.html", params={"month": "2026-07"}, headers=auth(key))
    assert html.status_code == 200 and html.text.count("data:image/png;base64,") == 2
    assert g0 in html.text and "Monthly briefing 2026-07" in html.text


def test_weekly_frames_are_labelled_with_town_mondays(client, keys) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    frames = client.get("/v1/heatmap", params={"format": "weekly", "from": "2026-08-31", "to": "2026-09-28"},
                        headers=auth(keys["viewer"])).json()["frames"]
    assert [f["week"] for f in frames] == ["2026-08-31", "2026-09-07", "2026-09-14", "2026-09-21"]
    assert all(dt.date.fromisoformat(f["week"]).weekday() == 0 for f in frames)


def test_the_deployments_metric_crs_is_used(client, keys, settings) -> None:  # type: ignore[no-untyped-def]
    """GRIDMAP_METRIC_CRS=EPSG:32649 (UTM 49N): the heatmap says so and the hot spots are computed in it."""
    h = auth(keys["viewer"])
    window = {"from": "2026-06-01", "to": "2026-09-01"}
    ref_heat = client.get("/v1/heatmap", params=window, headers=h).json()
    ref_hot = client.get("/v1/hotspots", params=window, headers=h).json()
    with TestClient(create_app(settings.model_copy(update={"metric_crs": "EPSG:32649"}))) as utm:
        heat = utm.get("/v1/heatmap", params=window, headers=h).json()
        hot = utm.get("/v1/hotspots", params=window, headers=h).json()
        emerging = utm.get("/v1/hotspots", params={**window, "periods": 3}, headers=h)
        page = utm.get("/v1/reports/monthly.html", params={"month": "2026-07"}, headers=h)
    assert ref_heat["crs"] == "EPSG:4547" and heat["crs"] == "EPSG:32649"
    assert heat["n_incidents"] == ref_heat["n_incidents"]
    assert ref_hot["crs_metric"] == "EPSG:4547" and hot["crs_metric"] == "EPSG:32649"
    assert hot["n_points"] + hot["n_outside"] == ref_hot["n_points"] + ref_hot["n_outside"]
    assert emerging.status_code == 200 and emerging.json()["crs_metric"] == "EPSG:32649"
    assert page.status_code == 200 and page.text.count("data:image/png;base64,") == 2


# The town's eastern half, as the command map sends its view at city scale.
_HALF = (113.1, 40.04, 113.11, 40.06)


def _sql_count(engine, box, *, start: str, end: str) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM incident WHERE voided_at IS NULL AND occurred_at >= :s AND occurred_at < :e "
            "AND ST_Intersects(geom, ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))"),
            {"s": start, "e": end, "x0": box[0], "y0": box[1], "x1": box[2], "y1": box[3]}).scalar_one()


def test_bbox_cuts_heatmap_hotspots_and_incidents_to_the_view(client, keys, engine) -> None:  # type: ignore[no-untyped-def]
    window = {"from": "2026-01-01", "to": "2026-07-01"}
    bbox = ",".join(map(str, _HALF))
    inside = _sql_count(engine, _HALF, start="2026-01-01T00:00+08:00", end="2026-07-01T00:00+08:00")
    everywhere = client.get("/v1/heatmap", params=window, headers=auth(keys["viewer"])).json()["n_incidents"]
    assert 0 < inside < everywhere, "the box must hold some incidents but not all of them"

    heat = client.get("/v1/heatmap", params={**window, "bbox": bbox}, headers=auth(keys["viewer"])).json()
    assert heat["n_incidents"] == inside and heat["bbox"] == list(_HALF)
    (south, west), (north, east) = heat["bounds"]  # the lattice is the box (cut to the communities), padded
    assert west > 113.1 - 0.005 and east < 113.11 + 0.005
    weekly = client.get("/v1/heatmap", params={**window, "bbox": bbox, "format": "weekly"},
                        headers=auth(keys["viewer"])).json()
    assert sum(f["n"] for f in weekly["frames"]) == inside

    cells = client.get("/v1/hotspots", params={**window, "bbox": bbox, "cell_m": 100},
                       headers=auth(keys["viewer"])).json()
    assert sum(f["properties"]["count"] for f in cells["features"]) + cells["n_outside"] == inside
    assert cells["bbox"] == list(_HALF)
    xs = [x for f in cells["features"] for ring in f["geometry"]["coordinates"] for x, _ in ring]
    assert min(xs) > 113.1 - 0.0015, "cells lie in the box (cut to the communities), not west of it"

    listed = client.get("/v1/incidents", params={**window, "bbox": bbox, "limit": 10_000},
                        headers=auth(keys["viewer"])).json()
    assert listed["total"] == inside == len(listed["features"])
    for f in listed["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert _HALF[0] <= lon <= _HALF[2] and _HALF[1] <= lat <= _HALF[3]


@pytest.mark.parametrize("path", ["/v1/heatmap", "/v1/hotspots", "/v1/incidents"])
@pytest.mark.parametrize("bbox, says", [
    ("113.1,40.0,113.2", "4 numbers"),
    ("40.0,113.1,40.1,113.2", "latitude first"),
    ("113.2,40.0,113.1,40.1", "lower corner"),
    ("113.1,40.0,x,40.1", "not a number"),
])
def test_a_bad_bbox_is_refused_with_how_to_fix_it(client, keys, path, bbox, says) -> None:  # type: ignore[no-untyped-def]
    r = client.get(path, params={"bbox": bbox}, headers=auth(keys["viewer"]))
    assert r.status_code == 400, r.text
    message = r.json()["error"]["message"]
    assert says in message and "bbox" in message
