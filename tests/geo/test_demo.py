"""The demo-data generator (geo.demo): the town's numbers, the geometry of the grids, and
determinism. Runs on a fresh generation in a temporary folder and on the committed files
in data/boundaries; no database needed. Geometries are compared by area, never as WKT."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
import shapely.testing
from pyproj import Transformer
from shapely.geometry import shape

from geo.demo import (
    INCIDENT_STATES,
    CommunitySpec,
    generate,
    make_community,
)
from geo.numbering import reading_order

COMMITTED = Path(__file__).resolve().parents[2] / "data" / "boundaries"
FILES = ("town.json", "communities.geojson", "grids.geojson", "buildings.geojson", "units.csv", "roads.geojson",
         "key_places.geojson", "cameras.geojson", "staff.csv", "incidents.csv", "incident_events.csv")
TO_METRIC = Transformer.from_crs("EPSG:4326", "EPSG:4547", always_xy=True)


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("town-seed1")
    counts = generate(seed=1, scale="town", out_dir=out)
    assert set(counts) == set(FILES)
    return out


@pytest.fixture(scope="session", params=["generated", "committed"])
def data_dir(request: pytest.FixtureRequest, generated: Path) -> Path:
    if request.param == "generated":
        return generated
    if not (COMMITTED / "grids.geojson").exists():
        pytest.fail("data/boundaries is empty: run `gridmap demo generate --seed 1 --scale town`")
    return COMMITTED


class Data:
    """A data set read back, geometries in EPSG:4547 metres."""

    def __init__(self, d: Path) -> None:
        self.dir = d
        self.town = json.loads((d / "town.json").read_text(encoding="utf-8"))
        self.communities = self._fc("communities.geojson")
        self.grids = self._fc("grids.geojson")
        self.buildings = self._fc("buildings.geojson")
        self.roads = self._fc("roads.geojson")
        self.places = self._fc("key_places.geojson")
        self.cameras = self._fc("cameras.geojson")
        self.units = self._csv("units.csv")
        self.staff = self._csv("staff.csv")
        self.incidents = self._csv("incidents.csv")
        self.events = self._csv("incident_events.csv")

    def _fc(self, name: str) -> tuple[list[dict[str, Any]], np.ndarray]:
        fc = json.loads((self.dir / name).read_text(encoding="utf-8"))
        assert fc["type"] == "FeatureCollection"
        props = [f["properties"] for f in fc["features"]]
        geoms = np.array([shape(f["geometry"]) for f in fc["features"]], dtype=object)
        return props, to_metric(geoms)

    def _csv(self, name: str) -> list[dict[str, str]]:
        with (self.dir / name).open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))


def to_metric(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda c: np.column_stack(TO_METRIC.transform(c[:, 0], c[:, 1])))


_cache: dict[Path, Data] = {}


@pytest.fixture()
def data(data_dir: Path) -> Data:
    if data_dir not in _cache:
        _cache[data_dir] = Data(data_dir)
    return _cache[data_dir]


# -- the town's numbers --------------------------------------------------------------------


def test_counts_match_the_source(data: Data) -> None:
    assert len(data.buildings[0]) == 125
    assert len(data.units) == 390
    assert sum(p["units"] for p in data.buildings[0]) == 390
    assert len(data.grids[0]) == 50
    assert len(data.communities[0]) >= 3
    names = {p["name"] for p in data.communities[0]}
    assert {"春安新区", "宁丰社区", "宏盛家园"} <= names
    roles = Counter(r["role"] for r in data.staff)
    assert roles == {"cadre": 32, "grid_member": 50, "building_chief": 125, "unit_chief": 390}
    assert 700 <= len(data.cameras[0]) <= 760
    assert 2500 <= len(data.incidents) <= 3500


def test_town_metadata(data: Data) -> None:
    t = data.town
    assert t["code"] == "140214101" and t["district_code"] == "140214"
    assert t["name"] == "高山镇" and t["district"] == "云冈区" and t["city"] == "大同市" and t["province"] == "山西省"
    assert t["plan"]["published_at"] == "2026-01-01T00:00:00+08:00"
    assert t["seed"] == 1 and t["scale"] == "town"


def test_grid_bands(data: Data) -> None:
    b_grid = {p["code"]: p["grid_code"] for p in data.buildings[0]}
    hh: dict[str, int] = defaultdict(int)
    pop: dict[str, int] = defaultdict(int)
    for u in data.units:
        hh[b_grid[u["building_code"]]] += int(u["households"])
        pop[b_grid[u["building_code"]]] += int(u["population"])
    assert set(hh) == {p["code"] for p in data.grids[0]}
    for p in data.grids[0]:
        assert 200 <= hh[p["code"]] <= 300, p["code"]
        assert 400 <= pop[p["code"]] <= 500, p["code"]
        assert (p["households"], p["population"]) == (hh[p["code"]], pop[p["code"]])


def test_units_are_plausible(data: Data) -> None:
    floors = {p["code"]: p["floors"] for p in data.buildings[0]}
    n_units = {p["code"]: p["units"] for p in data.buildings[0]}
    seen: dict[str, list[int]] = defaultdict(list)
    for u in data.units:
        h, p = int(u["households"]), int(u["population"])
        assert 0 < h <= 2 * floors[u["building_code"]]
        assert h <= p <= 5 * h
        seen[u["building_code"]].append(int(u["number"]))
    assert all(sorted(v) == list(range(1, n_units[k] + 1)) for k, v in seen.items())


def test_buildings_are_south_facing_slabs(data: Data) -> None:
    props, geoms = data.buildings
    for p, g in zip(props, geoms):
        assert 2 <= p["units"] <= 4 and 11 <= p["floors"] <= 18
        assert p["floors"] * 3.0 < p["height_m"] <= p["floors"] * 3.0 + 2.0
        x0, y0, x1, y1 = g.bounds
        assert x1 - x0 > y1 - y0  # long axis east–west
        assert 12.0 <= y1 - y0 <= 16.0
        assert abs((x1 - x0) / p["units"] - 15.0) < 1.0
        assert p["address"] == f"{_community_name(data, p['community_code'])}{p['number']}号楼"
        assert p["code"] == f"{p['community_code']}-{p['number']:02d}"


def _community_name(data: Data, code: str) -> str:
    return next(p["name"] for p in data.communities[0] if p["code"] == code)


# -- geometry ------------------------------------------------------------------------------


def test_geometries_valid(data: Data) -> None:
    for props, geoms in (data.communities, data.grids, data.buildings, data.roads, data.places, data.cameras):
        assert shapely.is_valid(geoms).all()
    for geoms in (data.communities[1], data.grids[1], data.buildings[1]):
        assert set(shapely.get_type_id(geoms)) == {3}  # Polygon


def test_every_building_in_exactly_one_grid(data: Data) -> None:
    gprops, grids = data.grids
    bprops, blds = data.buildings
    tree = shapely.STRtree(grids)
    for p, b in zip(bprops, blds):
        hits = tree.query(b, predicate="intersects")
        areas = {gprops[i]["code"]: shapely.intersection(b, grids[i]).area for i in hits}
        assert areas[p["grid_code"]] >= 0.999 * b.area, p["code"]
        assert sum(areas.values()) - areas[p["grid_code"]] < 0.001 * b.area, p["code"]


def test_grids_partition_their_community(data: Data) -> None:
    cprops, comms = data.communities
    gprops, grids = data.grids
    for cp, cg in zip(cprops, comms):
        mine = grids[[p["community_code"] == cp["code"] for p in gprops]]
        assert len(mine) > 0
        for i in range(len(mine)):
            for j in range(i + 1, len(mine)):
                assert shapely.intersection(mine[i], mine[j]).area < 0.01
        union = shapely.union_all(mine)
        assert abs(union.area - cg.area) < 0.1
        assert shapely.difference(union, cg).area < 0.1
        assert shapely.difference(cg, union).area < 0.1


def test_layout_is_clean(data: Data) -> None:
    cprops, comms = data.communities
    by_code = dict(zip((p["code"] for p in cprops), comms))
    bprops, blds = data.buildings
    for p, b in zip(bprops, blds):
        assert by_code[p["community_code"]].contains(b)
    tree = shapely.STRtree(blds)
    pairs = tree.query(blds, predicate="intersects")
    assert (pairs[0] == pairs[1]).all(), "buildings overlap"
    rprops, roads = data.roads
    areas = shapely.buffer(roads, [p["width_m"] / 2 for p in rprops], cap_style="flat")
    assert len(tree.query(areas, predicate="intersects")[0]) == 0, "a road crosses a building"
    for p, r in zip(rprops, roads):
        assert 6.0 <= p["width_m"] <= 30.0 and p["kind"] in ("street", "internal")
        if p["kind"] == "internal":
            assert 6.0 <= p["width_m"] <= 9.0
            assert by_code[p["community_code"]].buffer(0.5).contains(r)
        else:
            assert p["community_code"] is None
    # compounds are separated by streets 20-40 m wide
    for i in range(len(comms)):
        d = [comms[i].distance(comms[j]) for j in range(len(comms)) if j != i]
        assert 20.0 <= min(d) <= 40.0
    kinds = Counter(p["kind"] for p in data.places[0])
    assert {"gate", "square", "parking", "kindergarten", "market", "clinic"} <= set(kinds)
    for cp in cprops:
        gates = [p for p in data.places[0] if p["kind"] == "gate" and p["community_code"] == cp["code"]]
        assert 1 <= len(gates) <= 3


def test_grid_codes_and_reading_order(data: Data) -> None:
    gprops, grids = data.grids
    codes = [p["code"] for p in gprops]
    assert len(set(codes)) == len(codes)
    for cp in data.communities[0]:
        assert re.fullmatch(r"140214101\d{3}", cp["code"])
        idx = [i for i, p in enumerate(gprops) if p["community_code"] == cp["code"]]
        for i in idx:
            assert re.fullmatch(r"\d{15}", codes[i]) and codes[i].startswith(cp["code"])
            assert gprops[i]["name"] == f"{cp['name']}第{int(codes[i][-3:])}网格"
        numbers = [int(codes[i][-3:]) for i in idx]
        assert sorted(numbers) == list(range(1, len(idx) + 1))
        cent = shapely.get_coordinates(shapely.centroid(grids[idx]))
        expected = np.empty(len(idx), dtype=int)
        expected[reading_order(cent)] = np.arange(1, len(idx) + 1)
        assert numbers == expected.tolist()
        first = cent[numbers.index(1)]
        assert first[1] >= cent[:, 1].max() - 30.0  # number 1 is in the northern band


# -- cameras, staff, incidents -------------------------------------------------------------


def test_cameras(data: Data) -> None:
    props, pts = data.cameras
    codes = [p["code"] for p in props]
    assert all(re.fullmatch(r"\d{20}", c) for c in codes) and len(set(codes)) == len(codes)
    bprops, blds = data.buildings
    bidx = {p["code"]: i for i, p in enumerate(bprops)}
    tree = shapely.STRtree(blds)
    assert len(tree.query(pts, predicate="intersects")[0]) == 0, "a camera inside a building"
    kinds = Counter(p["kind"] for p in props)
    assert set(kinds) == {"bullet", "dome", "ptz", "fisheye"}
    bad = sum(p["status"] != "online" for p in props)
    assert 0.02 * len(props) <= bad <= 0.04 * len(props)
    assert {p["status"] for p in props} == {"online", "offline", "fault"}
    for p, pt in zip(props, pts):
        assert p["mount"] in ("pole", "wall", "ceiling")
        assert 0 <= p["azimuth_deg"] < 360 and 0 < p["hfov_deg"] <= 360 and 0 < p["range_m"] <= 2000
        assert p["resolution_px"] in (1920, 2560, 3840)
        if p["mount"] == "wall":
            b = blds[bidx[p["building_code"]]]
            assert b.distance(pt) <= 0.5 + 1e-6
            assert p["azimuth_deg"] < 20 or p["azimuth_deg"] > 340  # facing north, away from the wall
            assert 95 <= p["hfov_deg"] <= 105 and 10 <= p["range_m"] <= 15
        else:
            assert p["building_code"] is None
        if p["mount"] == "pole" and p["kind"] in ("bullet", "dome"):
            assert 3.5 <= p["height_m"] <= 6.0
        if p["kind"] == "fisheye":
            assert p["hfov_deg"] == 360
        if p["kind"] == "ptz":
            assert 80 <= p["range_m"] <= 150
    assert sum(p["mount"] == "wall" for p in props) == 390  # one above each unit door


def test_staff(data: Data) -> None:
    phones = [r["phone"] for r in data.staff]
    assert all(re.fullmatch(r"0352-0\d{6}", p) for p in phones)
    assert len(set(phones)) == len(phones)
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", r["name"]) for r in data.staff)
    grids = {p["code"] for p in data.grids[0]}
    buildings = {p["code"] for p in data.buildings[0]}
    assert {r["grid_code"] for r in data.staff if r["role"] == "grid_member"} == grids
    assert {r["building_code"] for r in data.staff if r["role"] == "building_chief"} == buildings
    units = {(r["building_code"], r["number"]) for r in data.units}
    assert {(r["building_code"], r["unit_number"]) for r in data.staff if r["role"] == "unit_chief"} == units


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


# -- determinism and the committed files ---------------------------------------------------


def test_same_seed_same_bytes(generated: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(seed=1, scale="town", out_dir=again)
    for name in FILES:
        assert (again / name).read_bytes() == (generated / name).read_bytes(), name


@pytest.mark.slow
def test_other_seed_differs(generated: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    counts = generate(seed=2, scale="town", out_dir=other)
    assert counts["buildings.geojson"] == 125 and counts["grids.geojson"] == 50
    for name in ("grids.geojson", "buildings.geojson", "cameras.geojson", "incidents.csv"):
        assert (other / name).read_bytes() != (generated / name).read_bytes(), name


def test_committed_files_are_seed_1(generated: Path) -> None:
    for name in FILES:
        assert (COMMITTED / name).read_bytes() == (generated / name).read_bytes(), name


def test_files_are_diff_friendly(generated: Path) -> None:
    for name in FILES:
        raw = (generated / name).read_bytes()
        assert b"\r" not in raw
        raw.decode("utf-8")
    lines = (generated / "buildings.geojson").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 125 + 2  # one feature per line
    assert "春安新区" in lines[1]  # not \u-escaped
    coords = re.findall(r"\d+\.(\d+)", (generated / "grids.geojson").read_text(encoding="utf-8"))
    assert max(len(c) for c in coords) <= 8


# -- one community -------------------------------------------------------------------------


def test_one_community() -> None:
    units = (3, 4, 2, 3, 3, 4, 3, 2, 4, 3, 3, 3, 4, 2, 3, 3, 4, 3)
    spec = CommunitySpec(code="140214101009", name="测试家园", name_en="Test Homeland", pinyin="Ceshi Jiayuan",
                         aliases=("测试",), width=460.0, units=units)
    c = make_community(spec, seed=[5, 5])
    assert len(c.buildings) == len(units) and sum(b.units for b in c.buildings) == sum(units)
    fps = np.array([b.footprint for b in c.buildings], dtype=object)
    grids = np.array([g.polygon for g in c.grids], dtype=object)
    assert shapely.is_valid(grids).all() and shapely.is_valid(c.polygon)
    assert abs(shapely.union_all(grids).area - c.polygon.area) < 1e-6
    assert sum(g.area for g in grids) == pytest.approx(c.polygon.area, abs=1e-6)
    for g in c.grids:
        assert 200 <= g.households <= 300 and 400 <= g.population <= 500
        for k in g.buildings:
            assert shapely.difference(fps[k], g.polygon).area < 1e-6
    assert sorted(k for g in c.grids for k in g.buildings) == list(range(len(units)))
    assert [g.number for g in c.grids] == list(range(1, len(c.grids) + 1))
    # same seed, same community
    again = make_community(spec, seed=[5, 5])
    for g1, g2 in zip(c.grids, again.grids):
        shapely.testing.assert_geometries_equal(g1.polygon, g2.polygon)
    assert len(c.cameras) > sum(units)
