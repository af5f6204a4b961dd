"""Records that must not be stored, and records that must not move: found by the outside test.

- an incident at 0001-01-01T08:05:43+08:05:43 was accepted (and then took /maps/command down);
- ``PATCH /v1/cameras/{id}`` with only ``{"crs": "gcj02"}`` re-read the stored WGS84 position as
  GCJ-02 and moved the camera ~600 m, again on every such PATCH;
- an incident made by mistake could not be removed: it is voided now (kept, audited, out of counts).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import auth

INCIDENT = {"category": "dispute", "subcategory": "neighbour", "lon": 113.1405, "lat": 40.0508, "source": "hotline"}


def _count(env: dict[str, Any], sql: str, **params: Any) -> Any:
    with env["engine"].connect() as conn:
        return conn.execute(text(sql), params).scalar()


@pytest.mark.parametrize("when", [
    "0001-01-01T08:05:43+08:05:43",  # the attack: year 1, local mean time offset
    "1899-12-31T23:59:59+08:00",
    "1999-12-31T23:59:59+00:00",
    "2026-01-01T08:00:00+23:00",  # offsets beyond ±14:00
    "2026-01-01T08:00:00+08:00:30",  # offsets with seconds
])
def test_implausible_incident_times_are_refused(env, when: str) -> None:  # type: ignore[no-untyped-def]
    before = _count(env, "SELECT count(*) FROM incident")
    r = env["client"].post("/v1/incidents", json={**INCIDENT, "occurred_at": when},
                           headers=auth(env["keys"]["operator"]))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"]["field"] == "occurred_at"
    assert _count(env, "SELECT count(*) FROM incident") == before


def test_incident_times_in_the_future_are_refused(env) -> None:  # type: ignore[no-untyped-def]
    tomorrow = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).isoformat()
    r = env["client"].post("/v1/incidents", json={**INCIDENT, "occurred_at": tomorrow},
                           headers=auth(env["keys"]["operator"]))
    assert r.status_code == 422 and "future" in r.json()["error"]["message"], r.text


def test_a_plausible_incident_time_is_stored(env) -> None:  # type: ignore[no-untyped-def]
    """The near miss: an hour ago in town time, and the earliest allowed instant."""
    for when in ((dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).astimezone(
            dt.timezone(dt.timedelta(hours=8))).isoformat(), "2000-01-01T08:00:00+08:00"):
        r = env["client"].post("/v1/incidents", json={**INCIDENT, "occurred_at": when},
                               headers=auth(env["keys"]["operator"]))
        assert r.status_code == 201, r.text


def _camera(env: dict[str, Any]) -> dict[str, Any]:
    r = env["client"].get("/v1/cameras", headers=auth(env["keys"]["viewer"]))
    feature = r.json()["features"][10]
    return {"id": feature["id"], "lon": feature["properties"]["lon"], "lat": feature["properties"]["lat"]}


def test_patching_only_a_crs_does_not_move_a_camera(env) -> None:  # type: ignore[no-untyped-def]
    cam = _camera(env)
    for _ in range(2):
        r = env["client"].patch(f"/v1/cameras/{cam['id']}", json={"crs": "gcj02"},
                                headers=auth(env["keys"]["operator"]))
        assert r.status_code == 422, r.text
        assert r.json()["error"]["details"]["field"] == "crs"
    after = env["client"].get(f"/v1/cameras/{cam['id']}", headers=auth(env["keys"]["viewer"])).json()["properties"]
    assert (after["lon"], after["lat"]) == (cam["lon"], cam["lat"])


def test_a_crs_applies_to_the_coordinates_sent_with_it(env) -> None:  # type: ignore[no-untyped-def]
    from geo.crs import from_wgs84

    cam = _camera(env)
    h = auth(env["keys"]["operator"])
    # lat alone with a crs: refused (the stored lon is WGS84, the new lat would be GCJ-02)
    r = env["client"].patch(f"/v1/cameras/{cam['id']}", json={"crs": "gcj02", "lat": cam["lat"]}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "crs", r.text
    # both, in GCJ-02: the camera stays where it is (its own position, converted there and back)
    glon, glat = from_wgs84(cam["lon"], cam["lat"], crs="gcj02")
    r = env["client"].patch(f"/v1/cameras/{cam['id']}", json={"crs": "gcj02", "lon": glon, "lat": glat}, headers=h)
    assert r.status_code == 200, r.text
    p = r.json()["properties"]
    assert abs(p["lon"] - cam["lon"]) < 1e-6 and abs(p["lat"] - cam["lat"]) < 1e-6
    # an azimuth change alone keeps the position exactly
    r = env["client"].patch(f"/v1/cameras/{cam['id']}", json={"azimuth_deg": 90}, headers=h)
    assert r.status_code == 200 and (r.json()["properties"]["lon"], r.json()["properties"]["lat"]) == (p["lon"], p["lat"])


def test_a_mistaken_incident_is_voided_kept_and_out_of_counts(env) -> None:  # type: ignore[no-untyped-def]
    from shapely.geometry import shape

    c, op, viewer = env["client"], auth(env["keys"]["operator"]), auth(env["keys"]["viewer"])
    grid = c.get("/v1/grids", headers=viewer).json()["features"][0]
    inside = shape(grid["geometry"]).representative_point()  # inside the communities, where Gi* cells are
    r = c.post("/v1/incidents", json={**INCIDENT, "lon": inside.x, "lat": inside.y,
                                      "description": "hotline test call"}, headers=op)
    assert r.status_code == 201, r.text
    incident = r.json()["id"]
    window = {"from": (dt.date.today() - dt.timedelta(days=40)).isoformat()}  # the demo's last month and today

    def counted() -> tuple[int, int, int]:
        listed = c.get("/v1/incidents", params=window, headers=viewer).json()["total"]
        heat = c.get("/v1/heatmap", params=window, headers=viewer).json()["n_incidents"]
        hot = c.get("/v1/hotspots", params=window, headers=viewer).json()
        return listed, heat, sum(f["properties"]["count"] for f in hot["features"])

    with_it = counted()
    assert min(with_it) >= 1
    assert c.post(f"/v1/incidents/{incident}/void", json={"reason": " "}, headers=op).status_code == 422
    assert c.post(f"/v1/incidents/{incident}/void", json={"reason": "x"}, headers=viewer).status_code == 403
    r = c.post(f"/v1/incidents/{incident}/void", json={"reason": "test call from the hotline"}, headers=op)
    assert r.status_code == 200, r.text
    assert counted() == tuple(n - 1 for n in with_it)
    # kept, with who and why; listed when asked for; audited; and voiding twice is a conflict
    kept = c.get(f"/v1/incidents/{incident}", headers=viewer).json()["properties"]
    assert kept["voided"]["reason"] == "test call from the hotline" and kept["voided"]["by"].startswith("key:")
    voided = c.get("/v1/incidents", params={"voided": "true"}, headers=viewer).json()
    assert incident in [f["id"] for f in voided["features"]]
    assert _count(env, "SELECT count(*) FROM audit_log WHERE action = 'void' AND entity = 'incident' "
                       "AND entity_id = :i", i=str(incident)) == 1
    assert c.post(f"/v1/incidents/{incident}/void", json={"reason": "again"}, headers=op).status_code == 409
    month = dt.date.today().strftime("%Y-%m")
    report = c.get("/v1/reports/monthly", params={"month": month}, headers=viewer).json()
    assert _count(env, "SELECT count(*) FROM incident WHERE id = :i", i=incident) == 1  # never deleted
    assert report["town"]["incidents"] == _count(
        env, "SELECT count(*) FROM incident WHERE voided_at IS NULL AND occurred_at >= date_trunc('month', now() "
             "AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai'")
