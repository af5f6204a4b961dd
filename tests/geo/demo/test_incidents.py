"""geo.demo.incidents: a year of incidents, their seasonality and hot spots, their event history."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict

import numpy as np
import shapely

from geo.demo.incidents import INCIDENT_STATES
from tests.geo.demo.conftest import TO_METRIC, Data


def test_incidents(data: Data) -> None:
    inc = data.incidents
    refs = [r["ref"] for r in inc]
    assert len(set(refs)) == len(refs)
    cats = {"dispute": {"neighbour", "family", "property"},
            "safety_hazard": {"fire", "gas", "electrical", "structural"},
            "public_order": {"noise", "parking", "other"}, "environment": {"sanitation", "other"},
            "facilities": {"lighting", "lift", "water", "other"}, "other": {"other"}}
    start, end = dt.datetime(2025, 12, 1, tzinfo=dt.timezone(dt.timedelta(hours=8))), \
        dt.datetime(2026, 12, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    for r in inc:
        assert re.fullmatch(r"GS-\d{8}-\d{4}", r["ref"]) and r["ref"][3:11] == r["occurred_at"][:10].replace("-", "")
        assert r["subcategory"] in cats[r["category"]]
        assert r["source"] in ("patrol", "hotline", "camera", "resident", "building_chief")
        assert 1 <= int(r["severity"]) <= 4
        assert r["occurred_at"].endswith("+08:00")
        assert start <= dt.datetime.fromisoformat(r["occurred_at"]) < end
        assert r["description"]
    assert set(r["status"] for r in inc) == set(INCIDENT_STATES)
    # old ones are mostly closed
    old = [r for r in inc if r["occurred_at"] < "2026-09-01"]
    assert sum(r["status"] in ("closed", "rejected", "duplicate") for r in old) >= 0.95 * len(old)
    # never inside a building
    xy = np.column_stack(TO_METRIC.transform([float(r["lon"]) for r in inc], [float(r["lat"]) for r in inc]))
    pts = shapely.points(xy)
    assert len(shapely.STRtree(data.buildings[1]).query(pts, predicate="intersects")[0]) == 0
    # inside a grid
    assert len(set(shapely.STRtree(data.grids[1]).query(pts, predicate="within")[0])) == len(inc)


def test_incident_seasonality_and_clusters(data: Data) -> None:
    def count(subs: set[str], months: set[int]) -> int:
        return sum(r["subcategory"] in subs and int(r["occurred_at"][5:7]) in months for r in data.incidents)

    winter, summer = {12, 1, 2}, {6, 7, 8}
    assert count({"fire", "gas", "electrical"}, winter) > 1.5 * count({"fire", "gas", "electrical"}, summer)
    assert count({"neighbour", "property"}, summer) > 1.5 * count({"neighbour", "property"}, winter)
    # noise and parking cluster: the densest 30 m cell holds far more than an even share
    sel = [r for r in data.incidents if r["subcategory"] in ("noise", "parking")]
    xy = np.column_stack(TO_METRIC.transform([float(r["lon"]) for r in sel], [float(r["lat"]) for r in sel]))
    cells = Counter(map(tuple, np.floor(xy / 30.0).astype(int)))
    area_cells = sum(g.area for g in data.communities[1]) / 900.0
    assert max(cells.values()) > 10 * len(sel) / area_cells


def test_incident_events(data: Data) -> None:
    status = {r["ref"]: r["status"] for r in data.incidents}
    occurred = {r["ref"]: r["occurred_at"] for r in data.incidents}
    by_ref: dict[str, list[dict[str, str]]] = defaultdict(list)
    for e in data.events:
        by_ref[e["incident_ref"]].append(e)
    assert set(by_ref) == set(status)
    allowed = {("", "reported"), ("reported", "accepted"), ("accepted", "assigned"), ("assigned", "assisting"),
               ("assisting", "closed"), ("reported", "rejected"), ("reported", "duplicate")}
    for ref, evs in by_ref.items():
        assert [int(e["seq"]) for e in evs] == list(range(1, len(evs) + 1))
        assert evs[0]["from_status"] == "" and evs[0]["to_status"] == "reported"
        assert evs[-1]["to_status"] == status[ref]
        for a, b in zip(evs, evs[1:]):
            assert b["from_status"] == a["to_status"]
            assert a["at"] < b["at"]
        assert all((e["from_status"], e["to_status"]) in allowed for e in evs)
        assert evs[0]["at"] >= occurred[ref]
        assert all(e["actor"] for e in evs)
        assert all(bool(e["assignee"]) == (e["to_status"] == "assigned") for e in evs)
