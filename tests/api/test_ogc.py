"""OGC API – Features at /ogc: every answer checked against a SQL ground truth on the demo town.

Paging through next links, bbox (+ bbox-crs), datetime, properties, sortby, crs (Part 2 axis orders),
CQL2 text and JSON filters (attributes, spatial, temporal), injection attempts, roles, plans.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import app_env, auth

INCIDENTS = "/ogc/collections/incidents/items"


@pytest.fixture(scope="module")
def env(module_db: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    with app_env(module_db, tmp_path_factory.mktemp("var")) as env:
        yield env


@pytest.fixture(scope="module")
def client(env):  # type: ignore[no-untyped-def]
    return env["client"]


@pytest.fixture(scope="module")
def viewer(env) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return auth(env["keys"]["viewer"])


def sql_ids(env: dict[str, Any], where: str, params: dict[str, Any] | None = None, order: str = "id") -> list[int]:
    with env["engine"].connect() as conn:
        return list(conn.execute(text(f"SELECT id FROM incident i WHERE voided_at IS NULL AND ({where}) ORDER BY {order}"),
                                 params or {}).scalars())


def all_pages(client, url: str, headers: dict[str, str], params: dict[str, str] | None = None) -> tuple[list[dict], list[dict]]:  # type: ignore[no-untyped-def]
    """Every feature, following next links; and every page body."""
    features, pages = [], []
    r = client.get(url, params=params, headers=headers)
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append(body)
        features += body["features"]
        nxt = [ln["href"] for ln in body["links"] if ln["rel"] == "next"]
        if not nxt:
            return features, pages
        r = client.get(nxt[0], headers=headers)


def ids(features: list[dict]) -> list[int]:
    return [f["id"] for f in features]


# ---------------------------------------------------------------------------- landing, conformance, collections


def test_landing_conformance_and_collections(client, viewer) -> None:  # type: ignore[no-untyped-def]
    landing = client.get("/ogc").json()
    rels = {ln["rel"]: ln["href"] for ln in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"].endswith("/openapi.json")
    conf = client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conf
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json" in conf
    # Part 4: create-replace-delete and update, on the grids of a draft (tests/api/test_ogc_transactions.py)
    assert sorted(c for c in conf if "ogcapi-features-4" in c) == [
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update"]
    cols = client.get("/ogc/collections", headers=viewer).json()["collections"]
    assert [c["id"] for c in cols] == ["communities", "grids", "buildings", "units", "cameras", "camera-views",
                                       "coverage-gaps", "key-places", "incidents"]
    inc = next(c for c in cols if c["id"] == "incidents")
    assert inc["storageCrs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    assert "http://www.opengis.net/def/crs/EPSG/0/4547" in inc["crs"]
    assert inc["extent"]["temporal"]["interval"][0][0] is not None


@pytest.mark.parametrize("cid", ["communities", "grids", "buildings", "units", "cameras", "camera-views",
                                 "coverage-gaps", "key-places", "incidents"])
def test_every_collection_pages_and_counts_like_the_database(client, viewer, env, cid) -> None:  # type: ignore[no-untyped-def]
    tables = {"communities": "community", "grids": "grid g JOIN grid_plan p ON p.id = g.plan_id AND p.status = 'published'",
              "buildings": "building", "units": "unit", "cameras": "camera", "camera-views": "camera_view",
              "coverage-gaps": "coverage_gap cg JOIN grid g ON g.geom_key = cg.geom_key JOIN grid_plan p ON p.id = g.plan_id "
                               "AND p.status = 'published'",
              "key-places": "key_place", "incidents": "incident WHERE voided_at IS NULL"}
    with env["engine"].connect() as conn:
        expected = conn.execute(text(f"SELECT count(*) FROM {tables[cid]}")).scalar_one()
    features, pages = all_pages(client, f"/ogc/collections/{cid}/items", viewer, {"limit": "1000"})
    assert pages[0]["numberMatched"] == expected == len(features)
    assert len({f["id"] for f in features}) == expected
    for f in features[:5]:
        assert f["type"] == "Feature" and f["geometry"]["type"]
        one = client.get(f"/ogc/collections/{cid}/items/{f['id']}", headers=viewer)
        assert one.status_code == 200 and one.json()["properties"] == f["properties"]


def test_all_incidents_page_by_page_equal_the_database(client, viewer, env) -> None:  # type: ignore[no-untyped-def]
    features, pages = all_pages(client, INCIDENTS, viewer, {"limit": "250"})
    expected = sql_ids(env, "true")
    assert len(expected) > 3000
    assert ids(features) == expected  # default order: id
    assert {p["numberMatched"] for p in pages} == {len(expected)}
    assert [p["numberReturned"] for p in pages] == [250] * (len(expected) // 250) + [len(expected) % 250]
    # prev of the second page is the first page
    second = client.get(INCIDENTS, params={"limit": "250", "offset": "250"}, headers=viewer).json()
    prev = next(ln["href"] for ln in second["links"] if ln["rel"] == "prev")
    assert ids(client.get(prev, headers=viewer).json()["features"]) == expected[:250]


def test_links_keep_every_query_parameter(client, viewer) -> None:  # type: ignore[no-untyped-def]
    params = {"limit": "7", "bbox": "113.0,40.0,113.2,40.1", "filter": "severity >= 2", "sortby": "-occurred_at",
              "properties": "category,severity", "crs": "http://www.opengis.net/def/crs/EPSG/0/3857"}
    body = client.get(INCIDENTS, params=params, headers=viewer).json()
    from urllib.parse import parse_qs, urlparse
    nxt = parse_qs(urlparse(next(ln["href"] for ln in body["links"] if ln["rel"] == "next")).query)
    assert {k: v[0] for k, v in nxt.items()} == {**params, "offset": "7"}


def test_limit_default_maximum_and_bad_values(client, viewer) -> None:  # type: ignore[no-untyped-def]
    assert client.get(INCIDENTS, headers=viewer).json()["numberReturned"] == 100
    big = client.get(INCIDENTS, params={"limit": "50000"}, headers=viewer).json()
    assert big["numberReturned"] == min(10_000, big["numberMatched"])
    for bad in ({"limit": "0"}, {"limit": "ten"}, {"offset": "-1"}, {"bbbox": "1,2,3,4"}, {"f": "xml"}):
        r = client.get(INCIDENTS, params=bad, headers=viewer)
        assert r.status_code == 400, (bad, r.text)
        body = r.json()
        assert body["code"] == body["error"]["code"] and body["description"]


# ---------------------------------------------------------------------------- bbox, datetime, properties, sortby


def test_bbox_in_crs84_epsg4326_and_epsg4547(client, viewer, env) -> None:  # type: ignore[no-untyped-def]
    box = (113.095, 40.047, 113.100, 40.050)
    expected = sql_ids(env, "ST_Intersects(geom, ST_MakeEnvelope(:a, :b, :c, :d, 4326))",
                       dict(zip("abcd", box)))
    assert 0 < len(expected) < 3000
    got = all_pages(client, INCIDENTS, viewer, {"bbox": ",".join(map(str, box)), "limit": "1000"})[0]
    assert sorted(ids(got)) == expected
    latlon = f"{box[1]},{box[0]},{box[3]},{box[2]}"
    got = all_pages(client, INCIDENTS, viewer, {"bbox": latlon, "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4326",
                                                "limit": "1000"})[0]
    assert sorted(ids(got)) == expected
    with env["engine"].connect() as conn:
        e = conn.execute(text("SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT ST_Extent(ST_Transform("
                              "ST_MakeEnvelope(:a, :b, :c, :d, 4326), 4547)) AS b) s"), dict(zip("abcd", box))).one()
        in_4547 = sql_ids(env, "ST_Intersects(geom, ST_Transform(ST_MakeEnvelope(:a, :b, :c, :d, 4547), 4326))",
                          dict(zip("abcd", e)))
    northing_first = f"{e[1]},{e[0]},{e[3]},{e[2]}"
    got = all_pages(client, INCIDENTS, viewer, {"bbox": northing_first, "limit": "1000",
                                                "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4547"})[0]
    assert sorted(ids(got)) == in_4547 and set(expected) <= set(in_4547)
    r = client.get(INCIDENTS, params={"bbox": "40.05,113.1,40.06,113.2"}, headers=viewer)  # lat first in CRS84
    assert r.status_code == 400 and "latitude" in r.json()["description"]


@pytest.mark.parametrize("value, where", [
    ("2026-09-01T00:00:00Z/2026-10-01T00:00:00Z", "occurred_at BETWEEN '2026-09-01T00:00:00Z' AND '2026-10-01T00:00:00Z'"),
    ("../2026-03-01T00:00:00+08:00", "occurred_at <= '2026-03-01T00:00:00+08:00'"),
    ("2026-10-15T00:00:00Z/..", "occurred_at >= '2026-10-15T00:00:00Z'"),
    ("2026-10-01/2026-10-31", "occurred_at >= '2026-10-01T00:00:00+08:00' AND occurred_at < '2026-11-01T00:00:00+08:00'"),
    ("2026-10-07", "occurred_at >= '2026-10-07T00:00:00+08:00' AND occurred_at < '2026-10-08T00:00:00+08:00'"),
])
def test_datetime_filters_occurred_at(client, viewer, env, value, where) -> None:  # type: ignore[no-untyped-def]
    expected = sql_ids(env, where)
    got = all_pages(client, INCIDENTS, viewer, {"datetime": value, "limit": "1000"})[0]
    assert sorted(ids(got)) == expected


def test_datetime_instant_and_bad_ones(client, viewer, env) -> None:  # type: ignore[no-untyped-def]
    with env["engine"].connect() as conn:
        t = conn.execute(text("SELECT occurred_at FROM incident WHERE voided_at IS NULL ORDER BY id LIMIT 1")).scalar_one()
    got = client.get(INCIDENTS, params={"datetime": t.isoformat()}, headers=viewer).json()["features"]
    assert got
    assert sorted(ids(got)) == sql_ids(env, "occurred_at = :t", {"t": t})
    for bad in ("yesterday", "../..", "2026-10-02/2026-10-01", "0001-01-01"):
        assert client.get(INCIDENTS, params={"datetime": bad}, headers=viewer).status_code == 400, bad
    assert client.get("/ogc/collections/cameras/items", params={"datetime": "2026-10-01"},
                      headers=viewer).status_code == 400


def test_properties_and_sortby(client, viewer, env) -> None:  # type: ignore[no-untyped-def]
    page = client.get(INCIDENTS, params={"properties": "severity,category", "limit": "20"}, headers=viewer).json()
    assert all(set(f["properties"]) == {"category", "severity"} for f in page["features"])
    got = all_pages(client, INCIDENTS, viewer, {"sortby": "-severity,+occurred_at", "limit": "1000"})[0]
    assert ids(got) == sql_ids(env, "true", order="severity DESC, occurred_at ASC, id ASC")
    for bad in ({"properties": "severity,nope"}, {"sortby": "nope"}, {"sortby": "-description;"}):
        r = client.get(INCIDENTS, params=bad, headers=viewer)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_parameter"


# ---------------------------------------------------------------------------- crs (Part 2)


def test_crs_output_in_epsg4547_epsg4326_and_3857(client, viewer, env) -> None:  # type: ignore[no-untyped-def]
    with env["engine"].connect() as conn:
        truth = {r.id: r for r in conn.execute(text(
            "SELECT id, ST_X(geom) AS lon, ST_Y(geom) AS lat, ST_X(ST_Transform(geom, 4547)) AS e, "
            "ST_Y(ST_Transform(geom, 4547)) AS n, ST_X(ST_Transform(geom, 3857)) AS mx, "
            "ST_Y(ST_Transform(geom, 3857)) AS my FROM incident WHERE voided_at IS NULL ORDER BY id LIMIT 50"))}
    r = client.get(INCIDENTS, params={"limit": "50", "crs": "http://www.opengis.net/def/crs/EPSG/0/4547"}, headers=viewer)
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4547>"
    for f in r.json()["features"]:
        n, e = f["geometry"]["coordinates"]  # EPSG:4547 is northing, easting
        t = truth[f["id"]]
        assert abs(n - t.n) < 1e-3 and abs(e - t.e) < 1e-3 and 4_000_000 < n < 5_000_000
    for f in client.get(INCIDENTS, params={"limit": "50", "crs": "EPSG:4326"}, headers=viewer).json()["features"]:
        lat, lon = f["geometry"]["coordinates"]
        assert abs(lat - truth[f["id"]].lat) < 1e-8 and abs(lon - truth[f["id"]].lon) < 1e-8
    for f in client.get(INCIDENTS, params={"limit": "50", "crs": "EPSG:3857"}, headers=viewer).json()["features"]:
        x, y = f["geometry"]["coordinates"]
        assert abs(x - truth[f["id"]].mx) < 1e-3 and abs(y - truth[f["id"]].my) < 1e-3
    default = client.get(INCIDENTS, params={"limit": "1"}, headers=viewer)
    assert default.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    assert client.get(INCIDENTS, params={"crs": "EPSG:2000"}, headers=viewer).status_code == 400


# ---------------------------------------------------------------------------- CQL2 (Part 3)

POLY = "POLYGON((113.095 40.047, 113.100 40.047, 113.100 40.050, 113.095 40.050, 113.095 40.047))"
POLY_SQL = "ST_GeomFromText('" + POLY + "', 4326)"

CQL_CASES = [
    ("category = 'dispute' AND severity >= 3", "category = 'dispute' AND severity >= 3"),
    ("category <> 'dispute' OR NOT (severity < 2)", "category <> 'dispute' OR NOT (severity < 2)"),
    ("category LIKE 'dis%'", "category LIKE 'dis%'"),
    ("CASEI(category) = casei('DISPUTE')", "lower(category) = 'dispute'"),
    ("status IN ('closed', 'rejected')", "status IN ('closed', 'rejected')"),
    ("severity BETWEEN 2 AND 3", "severity BETWEEN 2 AND 3"),
    ("subcategory IS NULL", "subcategory IS NULL"),
    ("ref IS NOT NULL AND severity = 4", "ref IS NOT NULL AND severity = 4"),
    (f"S_INTERSECTS(geometry, {POLY})", f"ST_Intersects(geom, {POLY_SQL})"),
    (f"S_WITHIN(geometry, {POLY}) AND severity > 1", f"ST_Within(geom, {POLY_SQL}) AND severity > 1"),
    ("S_INTERSECTS(geometry, BBOX(113.095, 40.047, 113.1, 40.05))",
     "ST_Intersects(geom, ST_MakeEnvelope(113.095, 40.047, 113.1, 40.05, 4326))"),
    ("T_AFTER(occurred_at, TIMESTAMP('2026-10-01T00:00:00Z'))", "occurred_at > '2026-10-01T00:00:00Z'"),
    ("T_BEFORE(occurred_at, DATE('2026-03-01'))", "occurred_at < '2026-03-01T00:00:00+08:00'"),
    ("T_DURING(occurred_at, INTERVAL('2026-09-01T00:00:00Z', '2026-10-01T00:00:00Z'))",
     "occurred_at > '2026-09-01T00:00:00Z' AND occurred_at < '2026-10-01T00:00:00Z'"),
    ("occurred_at >= TIMESTAMP('2026-11-01T00:00:00Z')", "occurred_at >= '2026-11-01T00:00:00Z'"),
]


@pytest.mark.parametrize("cql, where", CQL_CASES, ids=[c[0][:40] for c in CQL_CASES])
def test_cql2_text_and_json_against_sql(client, viewer, env, cql, where) -> None:  # type: ignore[no-untyped-def]
    import cql2

    expected = sql_ids(env, where)
    got = all_pages(client, INCIDENTS, viewer, {"filter": cql, "limit": "1000"})[0]
    assert sorted(ids(got)) == expected
    as_json = json.dumps(cql2.parse_text(cql).to_json())
    got = all_pages(client, INCIDENTS, viewer, {"filter": as_json, "filter-lang": "cql2-json", "limit": "1000"})[0]
    assert sorted(ids(got)) == expected


def test_some_filters_match_and_others_do_not(client, viewer, env) -> None:  # type: ignore[no-untyped-def]
    """The cases above are not vacuous: most select some incidents, none all of them."""
    total = len(sql_ids(env, "true"))
    sizes = [len(sql_ids(env, where)) for _, where in CQL_CASES]
    assert sum(0 < s < total for s in sizes) >= len(CQL_CASES) - 2


def test_filter_crs_for_geometry_literals(client, viewer, env) -> None:  # type: ignore[no-untyped-def]
    expected = sql_ids(env, f"ST_Intersects(geom, {POLY_SQL})")
    latlon = "POLYGON((40.047 113.095, 40.047 113.100, 40.050 113.100, 40.050 113.095, 40.047 113.095))"
    got = all_pages(client, INCIDENTS, viewer, {"filter": f"S_INTERSECTS(geometry, {latlon})", "limit": "1000",
                                                "filter-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"})[0]
    assert sorted(ids(got)) == expected


def test_filter_errors_name_the_problem(client, viewer) -> None:  # type: ignore[no-untyped-def]
    r = client.get(INCIDENTS, params={"filter": "colour = 'red'"}, headers=viewer)
    assert r.status_code == 400
    assert "colour" in r.json()["description"] and "occurred_at" in r.json()["description"]
    assert "occurred_at" in r.json()["error"]["details"]["queryables"]
    r = client.get(INCIDENTS, params={"filter": "severity >= "}, headers=viewer)
    assert r.status_code == 400 and "does not parse" in r.json()["description"] and "1:" in r.json()["description"]
    for bad in ("severity = 'high'", "category > 3", "S_INTERSECTS(severity, POINT(1 2))",
                "T_AFTER(category, TIMESTAMP('2026-01-01T00:00:00Z'))", "severity + 1 > 2"):
        r = client.get(INCIDENTS, params={"filter": bad}, headers=viewer)
        assert r.status_code == 400, (bad, r.text)
    r = client.get(INCIDENTS, params={"filter": "{not json", "filter-lang": "cql2-json"}, headers=viewer)
    assert r.status_code == 400
    for bad_geometry in ("S_INTERSECTS(geometry, POLYGON((113 40, 113.1 40.1, 113.1 40, 113 40.1, 113 40)))",
                         "S_INTERSECTS(geometry, POLYGON((113 40, 113.1 40, 113 40)))",
                         "S_INTERSECTS(geometry, POINT(40.05 113.1))"):  # a bow tie, 3 points, lat/lon in CRS84
        assert client.get(INCIDENTS, params={"filter": bad_geometry}, headers=viewer).status_code == 400, bad_geometry
    r = client.get(INCIDENTS, params={"bbox": "1e9,1e9,2e9,2e9", "bbox-crs": "EPSG:3857"}, headers=viewer)
    assert r.status_code == 400
    deep = "NOT (" * 200 + "severity = 1" + ")" * 200
    assert client.get(INCIDENTS, params={"filter": deep}, headers=viewer).status_code == 400


def test_injection_attempts_change_nothing(client, viewer, env) -> None:  # type: ignore[no-untyped-def]
    before = sql_ids(env, "true")
    attempts = [
        {"sortby": "id; DROP TABLE incident"},
        {"sortby": "(SELECT 1)"},
        {"properties": "id,(SELECT phone FROM staff)"},
        {"filter": "category = 'x''; DROP TABLE incident; --'"},
        {"filter": "category = 'x'; DROP TABLE incident"},
        {"filter": '"category; DROP TABLE incident" = 1'},
        {"filter": json.dumps({"op": "=", "args": [{"property": "1=1) OR (true"}, 1]}), "filter-lang": "cql2-json"},
        {"bbox": "1,2,3,4); DROP TABLE incident; --"},
        {"crs": "EPSG:4326); DROP TABLE incident"},
    ]
    for params in attempts:
        r = client.get(INCIDENTS, params=params, headers=viewer)
        if "''" in params.get("filter", ""):  # a well-formed literal: a text nobody has
            assert r.status_code == 200 and r.json()["numberMatched"] == 0
        else:
            assert r.status_code == 400, (params, r.text)
    assert sql_ids(env, "true") == before


# ---------------------------------------------------------------------------- roles, plans, items


def test_roles(client, env) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/ogc").status_code == 200  # no data on the landing page
    r = client.get("/ogc/collections/grids/items")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.get("/ogc/collections").status_code == 401
    cl = auth(env["keys"]["client"])
    # a client key (hotline staff, the lookup page of a city loads grids and buildings by view) reads the
    # grids and the buildings with what /v1/lookup tells it: no phone numbers, households or population;
    # every other collection is viewer and above
    listed = client.get("/ogc/collections", headers=cl)
    assert listed.status_code == 200 and [c["id"] for c in listed.json()["collections"]] == ["grids", "buildings"]
    assert client.get(INCIDENTS, headers=cl).status_code == 403
    assert client.get("/ogc/collections/cameras/items", headers=cl).status_code == 403
    grids = client.get("/ogc/collections/grids/items", headers=cl)
    assert grids.status_code == 200 and grids.json()["numberMatched"] == 50
    for f in grids.json()["features"]:
        assert f["properties"]["grid_member"] and not {"grid_member_phone", "households", "population"} & set(f["properties"])
    buildings = client.get("/ogc/collections/buildings/items", headers=cl).json()["features"]
    assert buildings and all(not {"households", "population"} & set(f["properties"]) for f in buildings)
    for asked in ("properties=grid_member_phone", "filter=households>200", "sortby=population"):
        assert client.get(f"/ogc/collections/grids/items?{asked}", headers=cl).status_code == 400, asked
    v = client.get("/ogc/collections/grids/items", headers=auth(env["keys"]["viewer"])).json()["features"]
    assert all(f["properties"]["grid_member_phone"] for f in v)


def test_grids_mirror_v1_and_follow_plans(client, viewer, env) -> None:  # type: ignore[no-untyped-def]
    v1 = {f["properties"]["code"]: f["properties"] for f in client.get("/v1/grids", headers=viewer).json()["features"]}
    ogc = all_pages(client, "/ogc/collections/grids/items", viewer)[0]
    assert {f["id"] for f in ogc} == set(v1)
    for f in ogc:
        for k in ("households", "population", "buildings", "units", "grid_member", "grid_member_phone", "plan_id"):
            assert f["properties"][k] == v1[f["id"]][k], (f["id"], k)
    plan = next(iter(v1.values()))["plan_id"]
    code = next(iter(v1))
    one = client.get(f"/ogc/collections/grids/items/{code}", params={"plan": str(plan)}, headers=viewer)
    assert one.status_code == 200 and one.json()["id"] == code and one.headers["x-plan"].startswith(f"{plan};")
    now = client.get("/ogc/collections/grids/items", params={"datetime": "2999-01-01T00:00:00Z", "limit": "1"},
                     headers=viewer)
    assert now.json()["plan"]["id"] == plan
    early = client.get("/ogc/collections/grids/items", params={"at": "1999-01-01"}, headers=viewer)
    assert early.status_code == 404 and "no plan was in force" in early.json()["description"]
    draft = client.post("/v1/plans", json={"name": "ogc draft"}, headers=auth(env["keys"]["planner"])).json()
    d = client.get("/ogc/collections/grids/items", params={"plan": str(draft["id"])}, headers=viewer).json()
    assert d["numberMatched"] == len(v1) and {f["properties"]["plan_id"] for f in d["features"]} == {draft["id"]}
    assert client.get("/ogc/collections/grids/items", params={"plan": "99999"}, headers=viewer).status_code == 404
    assert client.get("/ogc/collections/grids/items", params={"datetime": "2026-01-01/2026-02-01"},
                      headers=viewer).status_code == 400
    missing = client.get("/ogc/collections/grids/items/999", headers=viewer)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert client.get(f"{INCIDENTS}/abc", headers=viewer).status_code == 404
    assert client.get("/ogc/collections/nope/items", headers=viewer).status_code == 404


def test_html_for_a_person(client, viewer) -> None:  # type: ignore[no-untyped-def]
    r = client.get(INCIDENTS, params={"f": "html", "limit": "5"}, headers=viewer)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<table>" in r.text and "<script" not in r.text and "content-security-policy" in r.headers
    page = client.get("/ogc/collections", headers={**viewer, "Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html") and "incidents" in page.text
    assert client.get("/ogc/collections", headers={**viewer, "Accept": "application/json"}).json()["collections"]


def test_the_openapi_document_declares_the_bearer_scheme(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/openapi.json").json()
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": doc["components"]["securitySchemes"]["bearer"]["description"]}
    assert doc["paths"]["/ogc/collections/{collection_id}/items"]["get"]["security"] == [{"bearer": []}]
    assert doc["paths"]["/v1/grids"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in doc["paths"]["/health"]["get"]


def test_the_registry_and_the_sql_agree() -> None:
    """Every property of the registry has exactly one SQL column, and nothing else is exposed."""
    from geo.ogc.collections import COLLECTIONS, TYPES
    from geo.store.ogc import SOURCES

    assert set(SOURCES) == {c.id for c in COLLECTIONS}
    for c in COLLECTIONS:
        assert [p.name for p in c.properties] == list(SOURCES[c.id].columns), c.id
        assert all(p.type in TYPES and p.name.replace("_", "").isalnum() for p in c.properties)
        assert c.role in ("client", "viewer") and all(p.role in ("client", "viewer") for p in c.properties)


def test_numbermatched_follows_a_reported_and_a_voided_incident_at_once(env, client, viewer) -> None:  # type: ignore[no-untyped-def]
    """The app keeps counts between pages (geo.store.ogc.MatchedCounts); an incident reported through
    /v1 is counted on the very next page, and one voided leaves it."""
    def matched() -> int:
        r = client.get(INCIDENTS, params={"limit": "1", "filter": "source='hotline'"}, headers=viewer)
        assert r.status_code == 200, r.text
        return r.json()["numberMatched"]

    before = matched()
    assert matched() == before  # kept
    with env["engine"].connect() as conn:
        lon, lat = conn.execute(text("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
                                     "FROM grid ORDER BY code LIMIT 1")).one()
    r = client.post("/v1/incidents", headers=auth(env["keys"]["operator"]), json={
        "category": "dispute", "subcategory": "neighbour", "lon": lon, "lat": lat, "source": "hotline",
        "description": "计数 count test", "severity": 2})
    assert r.status_code == 201, r.text
    assert matched() == before + 1
    r = client.post(f"/v1/incidents/{r.json()['id']}/void", headers=auth(env["keys"]["operator"]),
                    json={"reason": "count test"})
    assert r.status_code in (200, 204), r.text
    assert matched() == before
