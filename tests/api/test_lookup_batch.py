"""POST /v1/lookup/batch: JSON points and addresses, CSV in → CSV out, order, bad rows, limits."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from sqlalchemy import Engine, text

from tests.conftest import auth


@pytest.fixture(scope="module")
def sample(engine: Engine) -> list[tuple[float, float]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT ST_X(p.geom), ST_Y(p.geom) FROM (SELECT (ST_Dump(ST_GeneratePoints("
            "ST_Buffer(ST_Union(geom)::geography, 60)::geometry, 1500, 11))).geom FROM community) p"))]


def test_json_points_match_single_lookups_in_order(client, keys, sample) -> None:
    r = client.post("/v1/lookup/batch", json={"points": [list(p) for p in sample]}, headers=auth(keys["client"]))
    assert r.status_code == 200, r.text
    body = r.json()
    results = body["results"]
    assert len(results) == len(sample) and body["plan"]["status"] == "published"
    inside = 0
    for (x, y), res in list(zip(sample, results))[::25]:
        single = client.get("/v1/lookup", params={"lon": x, "lat": y}, headers=auth(keys["client"]))
        if single.status_code == 200:
            inside += 1
            assert res["error"] is None and res["grid"]["code"] == single.json()["grid"]["code"]
        else:
            assert res["grid"] is None and res["error"]["code"] == "outside_grids"
    assert 10 < inside < len(sample[::25])  # the buffer puts some points outside every grid


def test_bad_rows_get_their_own_errors(client, keys, sample) -> None:
    x, y = sample[0]
    rows = [[x, y], ["x", 1], [40.05, 113.1], None, [x], [x, y, 5.0], [float(x), float(y)], [True, 1]]
    r = client.post("/v1/lookup/batch", json={"points": rows}, headers=auth(keys["client"]))
    assert r.status_code == 200
    res = r.json()["results"]
    assert len(res) == len(rows)
    first = res[0]
    assert res[1]["error"]["code"] == "bad_row" and "row 1" in res[1]["error"]["message"]
    assert res[2]["error"]["code"] == "bad_coordinates" and "swap" in res[2]["error"]["message"]
    assert res[3]["error"]["code"] == "bad_row" and res[4]["error"]["code"] == "bad_row"
    assert res[5] == first and res[6] == first  # a 3-D point uses lon, lat
    assert res[7]["error"]["code"] == "bad_row"


def test_gcj02_batch(client, keys, sample) -> None:
    from geo.crs import from_wgs84

    pts = np.array(sample[:300])
    gx, gy = from_wgs84(pts[:, 0], pts[:, 1], crs="gcj02")
    plain = client.post("/v1/lookup/batch", json={"points": pts.tolist()}, headers=auth(keys["client"])).json()
    mars = client.post("/v1/lookup/batch", json={"points": np.c_[gx, gy].tolist(), "crs": "gcj02"},
                       headers=auth(keys["client"])).json()
    assert plain["results"] == mars["results"]


def test_addresses_batch(client, keys) -> None:
    qs = ["春安新区3号楼2单元", "nonsense 123", "宁丰社区十二栋", 42]
    r = client.post("/v1/lookup/batch", json={"addresses": qs}, headers=auth(keys["client"]))
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert res[0]["grid"]["community"]["name"] == "春安新区"
    assert res[1]["error"]["code"] == "no_match"
    assert res[2]["grid"]["community"]["name"] == "宁丰社区"
    assert res[3]["error"]["code"] == "bad_row"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_csv_out(client, keys, sample, encoding) -> None:
    lines = ["id,名称,lon,lat"] + [f"{i},点{i},{x},{y}" for i, (x, y) in enumerate(sample[:200])]
    lines.append("200,坏行,abc,40.05")
    body = ("\n".join(lines) + "\n").encode(encoding)
    r = client.post("/v1/lookup/batch", content=body, headers={**auth(keys["client"]), "Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    out = list(csv.DictReader(io.StringIO(r.text)))
    assert len(out) == 201
    assert [row["id"] for row in out] == [str(i) for i in range(201)]
    assert out[5]["名称"] == "点5"
    assert {"grid_code", "grid_name", "community_code", "community_name", "grid_member", "error_code", "error"} \
        <= set(out[0])
    assert out[200]["error_code"] == "bad_row"
    assert any(row["grid_code"] for row in out) and any(row["error_code"] == "outside_grids" for row in out)


def test_csv_upload_as_a_form_file_with_addresses(client, keys) -> None:
    content = "address\n春安新区3号楼\n宏盛家园5#楼\n".encode("utf-8-sig")
    r = client.post("/v1/lookup/batch", files={"file": ("q.csv", content, "text/csv")}, headers=auth(keys["client"]))
    assert r.status_code == 200, r.text
    out = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["community_code"] for row in out] == ["140214101001", "140214101003"]


def test_limits_and_bad_bodies(client, keys, app) -> None:
    settings = app.state.settings
    old = settings.batch_max_rows
    settings.batch_max_rows = 10
    try:
        r = client.post("/v1/lookup/batch", json={"points": [[113.1, 40.05]] * 11}, headers=auth(keys["client"]))
        assert r.status_code == 413 and "split the batch" in r.json()["error"]["message"]
    finally:
        settings.batch_max_rows = old
    for body in ({"nothing": 1}, {"points": [], "addresses": []}, {"points": "113,40"}):
        r = client.post("/v1/lookup/batch", json=body, headers=auth(keys["client"]))
        assert r.status_code == 422, body
    r = client.post("/v1/lookup/batch", content=b"{not json", headers={**auth(keys["client"]),
                                                                        "Content-Type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["error"]["message"]
    r = client.post("/v1/lookup/batch", content=b"a,b\n1,2\n", headers={**auth(keys["client"]),
                                                                         "Content-Type": "text/csv"})
    assert r.status_code == 422 and "lon and lat" in r.json()["error"]["message"]
    r = client.post("/v1/lookup/batch", content=b"\xff\xfe\x00bad", headers={**auth(keys["client"]),
                                                                              "Content-Type": "text/csv"})
    assert r.status_code == 422
