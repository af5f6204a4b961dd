"""geo.plan_checks: every problem kind, its near misses, and the per-grid metrics.

Pure geometry, no database: small hand-built plans in metres (EPSG:4547). The
baseline plan is a community of 300 m × 200 m cut into three 100 m × 200 m grids
G1 | G2 | G3, each holding two buildings and in both bands; every test changes
one thing about it.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import LineString, MultiPolygon, Point, Polygon, box
from shapely.testing import assert_geometries_equal

from geo.plan_checks import KINDS, SLIVER_M2, Bands, Problem, building_grids, metrics, problem_dict, validate

CRS = "EPSG:4547"
BANDS = Bands()
COMMUNITY = box(0, 0, 300, 200)

# (code, grid, footprint, households, population, units)
BASE_BUILDINGS = [
    ("B1", "G1", box(20, 20, 60, 60), 120, 200, 40),
    ("B2", "G1", box(20, 120, 60, 160), 130, 220, 50),
    ("B3", "G2", box(120, 20, 160, 60), 100, 250, 30),
    ("B4", "G2", box(120, 120, 160, 160), 150, 250, 60),
    ("B5", "G3", box(220, 20, 260, 60), 140, 200, 45),
    ("B6", "G3", box(220, 120, 260, 160), 160, 200, 55),
]


def base_grids() -> dict[str, shapely.Geometry]:
    return {"G1": box(0, 0, 100, 200), "G2": box(100, 0, 200, 200), "G3": box(200, 0, 300, 200)}


def grids_frame(grids: dict[str, shapely.Geometry | None], community: str = "C1") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": list(grids), "community_code": [community] * len(grids)},
                            geometry=list(grids.values()), crs=CRS)


def communities_frame(geom: shapely.Geometry = COMMUNITY, code: str = "C1") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": [code]}, geometry=[geom], crs=CRS)


def buildings_frame(rows=BASE_BUILDINGS) -> gpd.GeoDataFrame:
    rows = list(rows)
    return gpd.GeoDataFrame({
        "code": [r[0] for r in rows], "community_code": ["C1"] * len(rows),
        "households": [r[3] for r in rows], "population": [r[4] for r in rows], "units": [r[5] for r in rows],
    }, geometry=[r[2] for r in rows], crs=CRS)


def check(grids=None, buildings=None, community=COMMUNITY, bands=BANDS):
    return validate(grids_frame(base_grids() if grids is None else grids), communities_frame(community),
                    buildings_frame() if buildings is None else buildings, bands=bands)


def of_kind(report, kind: str) -> list[Problem]:
    return [p for p in report.problems if p.kind == kind]


def kinds(report) -> set[str]:
    return {p.kind for p in report.problems}


def sym_diff_area(a, b) -> float:
    return shapely.symmetric_difference(a, b).area


# --- the valid baseline and its metrics --------------------------------------------


def test_baseline_plan_has_no_problems():
    report = check()
    assert report.problems == []
    assert report.errors == [] and report.warnings == []
    assert report.valid is True
    assert [m["code"] for m in report.metrics] == ["G1", "G2", "G3"]


def test_baseline_metrics_by_hand():
    by_code = {m["code"]: m for m in check().metrics}
    expected = {  # households, population, buildings, units
        "G1": (250, 420, 2, 90),
        "G2": (250, 500, 2, 90),
        "G3": (300, 400, 2, 100),
    }
    for code, (hh, pop, nb, units) in expected.items():
        m = by_code[code]
        assert m["community_code"] == "C1"
        assert (m["households"], m["population"], m["buildings"], m["units"]) == (hh, pop, nb, units)
        assert m["area_m2"] == pytest.approx(20_000.0)
        assert m["perimeter_m"] == pytest.approx(600.0)
        # Polsby–Popper of a 1 × 2 rectangle: 4π·2/6² = 2π/9
        assert m["polsby_popper"] == pytest.approx(2 * math.pi / 9, abs=1e-3)
        assert m["parts"] == 1 and m["contiguous"] is True
        assert m["households_deviation"] == 0 and m["population_deviation"] == 0
        assert m["band"] == "ok"
    # totals add up to the buildings' totals: every building is in exactly one grid
    assert sum(m["households"] for m in by_code.values()) == sum(r[3] for r in BASE_BUILDINGS)
    assert sum(m["population"] for m in by_code.values()) == sum(r[4] for r in BASE_BUILDINGS)
    assert sum(m["units"] for m in by_code.values()) == sum(r[5] for r in BASE_BUILDINGS)


def test_polsby_popper_of_a_square_is_pi_over_4():
    m, = metrics(grids_frame({"S": box(0, 0, 100, 100)}), buildings_frame([]), BANDS)
    assert m["polsby_popper"] == pytest.approx(math.pi / 4, abs=1e-3)
    assert m["area_m2"] == pytest.approx(10_000.0)
    assert m["buildings"] == 0 and m["households"] == 0
    # no households at all: under the band by its whole lower bound
    assert m["households_deviation"] == -200 and m["population_deviation"] == -400
    assert m["band"] == "under"


@pytest.mark.parametrize(("households", "population", "dh", "dp", "band"), [
    (200, 400, 0, 0, "ok"),
    (300, 500, 0, 0, "ok"),
    (199, 450, -1, 0, "under"),
    (301, 450, 1, 0, "over"),
    (250, 399, 0, -1, "under"),
    (250, 501, 0, 1, "over"),
    # households decide when the two disagree
    (301, 399, 1, -1, "over"),
    (199, 501, -1, 1, "under"),
])
def test_deviation_is_value_minus_clamp_and_band(households, population, dh, dp, band):
    rows = [("B1", "G", box(10, 10, 20, 20), households, population, 1)]
    m, = metrics(grids_frame({"G": box(0, 0, 100, 100)}), buildings_frame(rows), BANDS)
    assert (m["households"], m["population"]) == (households, population)
    assert (m["households_deviation"], m["population_deviation"], m["band"]) == (dh, dp, band)


def test_metrics_ignore_a_building_in_no_grid():
    rows = [("B1", "G", box(10, 10, 20, 20), 5, 10, 1), ("OUT", "G", box(500, 500, 510, 510), 7, 9, 3)]
    m, = metrics(grids_frame({"G": box(0, 0, 100, 100)}), buildings_frame(rows), BANDS)
    assert (m["buildings"], m["households"], m["population"], m["units"]) == (1, 5, 10, 1)


def test_building_on_a_shared_edge_belongs_to_the_lowest_code():
    # The footprint straddles x = 100 symmetrically: its point-on-surface is (100, 60), on the edge.
    fp = box(90, 50, 110, 70)
    assert shapely.equals(shapely.point_on_surface(fp), Point(100, 60))
    # frame order puts the higher code first: the code decides, not the order
    grids = grids_frame({"G2": box(100, 0, 200, 200), "G1": box(0, 0, 100, 200)})
    buildings = buildings_frame([("E", "G1", fp, 10, 20, 3)])
    assert building_grids(grids, buildings).tolist() == [1]
    by_code = {m["code"]: m for m in metrics(grids, buildings, BANDS)}
    assert by_code["G1"]["buildings"] == 1 and by_code["G1"]["households"] == 10
    assert by_code["G2"]["buildings"] == 0 and by_code["G2"]["households"] == 0


def test_building_grids_none_for_no_grid():
    grids = grids_frame(base_grids())
    buildings = buildings_frame([("IN", "C1", box(120, 20, 160, 60), 1, 1, 1),
                                 ("OUT", "C1", box(400, 20, 410, 30), 1, 1, 1)])
    assert building_grids(grids, buildings).tolist() == [1, -1]


# --- invalid_geometry --------------------------------------------------------------


def test_bowtie_grid_is_invalid_geometry_and_other_checks_still_run():
    grids = base_grids()
    bowtie = Polygon([(100, 0), (200, 200), (200, 0), (100, 200)])
    grids["G2"] = bowtie
    report = check(grids)
    invalid = of_kind(report, "invalid_geometry")
    assert len(invalid) == 1
    p = invalid[0]
    assert p.grids == ("G2",) and p.severity == "error"
    assert p.geometry is bowtie  # the grid as drawn
    assert "(150, 100)" in p.detail and "G2" in p.detail
    assert report.valid is False
    # repaired (two triangles of 5,000 m²), then checked: the top and bottom triangles are gaps
    gaps = of_kind(report, "gap")
    assert len(gaps) == 2
    assert sum(g.geometry.area for g in gaps) == pytest.approx(10_000.0, rel=1e-6)
    assert sorted(g.geometry.centroid.y for g in gaps) == pytest.approx([100 / 3, 200 - 100 / 3], abs=1e-6)
    by_code = {m["code"]: m for m in report.metrics}
    assert len(report.metrics) == 3
    assert by_code["G2"]["area_m2"] == pytest.approx(10_000.0)


@pytest.mark.parametrize("geom", [LineString([(100, 0), (200, 200)]), Polygon(), None])
def test_non_polygonal_or_empty_grid_is_invalid_geometry(geom):
    grids = base_grids()
    grids["G2"] = geom
    report = check(grids)
    invalid = of_kind(report, "invalid_geometry")
    assert [p.grids for p in invalid] == [("G2",)]
    assert invalid[0].severity == "error"
    # the whole of G2's place is then a gap
    gaps = of_kind(report, "gap")
    assert sum(g.geometry.area for g in gaps) == pytest.approx(20_000.0, rel=1e-6)
    assert len(report.metrics) == 3


def test_valid_polygon_with_repeated_points_and_a_multipolygon_are_not_invalid():
    grids = base_grids()
    grids["G1"] = Polygon([(0, 0), (100, 0), (100, 0), (100, 200), (0, 200)])
    grids["G2"] = MultiPolygon([box(100, 0, 200, 200)])
    report = check(grids)
    assert "invalid_geometry" not in kinds(report)
    assert report.valid


# --- outside_community -------------------------------------------------------------


def test_grid_past_the_community_edge_is_outside_community():
    grids = base_grids()
    grids["G3"] = box(200, 0, 310, 200)
    report = check(grids)
    outside = of_kind(report, "outside_community")
    assert len(outside) == 1
    p = outside[0]
    assert p.grids == ("G3",) and p.severity == "error"
    assert p.geometry.area == pytest.approx(2_000.0, rel=1e-6)
    assert_geometries_equal(p.geometry, box(300, 0, 310, 200), normalize=True)
    assert "C1" in p.detail
    assert kinds(report) == {"outside_community"}


def test_grid_of_another_community_is_wholly_outside():
    grids = grids_frame({"X": box(0, 0, 100, 100)}, community="C2")
    communities = gpd.GeoDataFrame({"code": ["C1", "C2"]}, geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
                                   crs=CRS)
    report = validate(grids, communities, buildings_frame([]), bands=BANDS)
    p, = of_kind(report, "outside_community")
    assert p.grids == ("X",)
    assert_geometries_equal(p.geometry, box(0, 0, 100, 100), normalize=True)


@pytest.mark.parametrize("g3", [box(200, 0, 300, 200), box(200, 0, 300 + 0.5 / 200, 200)],
                         ids=["on_the_edge", "half_m2_past_it"])
def test_grid_on_or_a_sliver_past_the_edge_is_not_outside(g3):
    grids = base_grids()
    grids["G3"] = g3
    assert shapely.difference(g3, COMMUNITY).area <= SLIVER_M2
    report = check(grids)
    assert "outside_community" not in kinds(report)
    assert report.valid


# --- overlap -----------------------------------------------------------------------


def test_overlapping_grids_are_an_overlap():
    grids = base_grids()
    grids["G1"] = box(0, 0, 110, 200)  # 10 m into G2
    report = check(grids)
    p, = of_kind(report, "overlap")
    assert p.grids == ("G1", "G2") and p.severity == "error"
    assert p.geometry.area == pytest.approx(2_000.0, rel=1e-6)
    assert_geometries_equal(p.geometry, box(100, 0, 110, 200), normalize=True)
    assert kinds(report) == {"overlap"}


def test_half_square_metre_overlap_is_not_reported():
    grids = base_grids()
    grids["G1"] = box(0, 0, 100 + 0.5 / 200, 200)  # 0.5 m² into G2
    assert shapely.intersection(grids["G1"], grids["G2"]).area == pytest.approx(0.5)
    report = check(grids)
    assert "overlap" not in kinds(report)
    assert report.valid


def test_grids_touching_along_an_edge_or_at_a_corner_do_not_overlap():
    grids = {"A": box(0, 0, 150, 100), "B": box(150, 0, 300, 100), "C": box(0, 100, 150, 200),
             "D": box(150, 100, 300, 200)}
    report = validate(grids_frame(grids), communities_frame(), buildings_frame([]), bands=BANDS)
    assert "overlap" not in kinds(report)
    assert report.valid


# --- gap ---------------------------------------------------------------------------


def test_hole_in_a_grid_is_a_gap():
    grids = base_grids()
    hole = box(170, 90, 190, 110)
    grids["G2"] = box(100, 0, 200, 200).difference(hole)
    report = check(grids)
    p, = of_kind(report, "gap")
    assert p.grids == ("G2",) and p.severity == "error"
    assert_geometries_equal(p.geometry, hole, normalize=True)
    assert "400.0 m²" in p.detail and "C1" in p.detail
    assert kinds(report) == {"gap"}


def test_strip_missing_along_the_edge_is_a_gap_next_to_every_grid_it_touches():
    grids = base_grids()
    grids["G2"] = box(100, 0, 200, 190)
    report = check(grids)
    p, = of_kind(report, "gap")
    assert p.geometry.area == pytest.approx(1_000.0, rel=1e-6)
    assert p.geometry.centroid.distance(Point(150, 195)) < 1e-6
    assert p.grids == ("G1", "G2", "G3")  # all three touch the missing strip


def test_community_with_no_grids_is_one_gap():
    report = validate(grids_frame({}), communities_frame(), buildings_frame([]), bands=BANDS)
    p, = of_kind(report, "gap")
    assert p.grids == ()
    assert_geometries_equal(p.geometry, COMMUNITY, normalize=True)


def test_half_square_metre_hole_is_not_a_gap():
    grids = base_grids()
    grids["G2"] = box(100, 0, 200, 200).difference(box(150, 100, 150.5, 101))
    report = check(grids)
    assert "gap" not in kinds(report)
    assert report.valid


# --- building_split ----------------------------------------------------------------


def test_building_across_a_boundary_is_split():
    fp = box(90, 80, 120, 100)  # 10 m in G1 (200 m²), 20 m in G2 (400 m²)
    buildings = buildings_frame(BASE_BUILDINGS + [("X", "C1", fp, 0, 0, 0)])
    report = check(buildings=buildings)
    p, = of_kind(report, "building_split")
    assert p.buildings == ("X",) and p.severity == "error"
    assert p.grids == ("G2", "G1")  # the grid holding most of it first
    assert_geometries_equal(p.geometry, fp, normalize=True)
    assert "200.0 m² outside grid G2" in p.detail
    assert kinds(report) == {"building_split"}


@pytest.mark.parametrize("fp", [box(80, 80, 100, 100), box(80, 80, 100 + 0.4 / 20, 100)],
                         ids=["edge_on_the_boundary", "0.4_m2_across"])
def test_building_inside_one_grid_or_a_sliver_across_is_not_split(fp):
    buildings = buildings_frame(BASE_BUILDINGS + [("X", "C1", fp, 0, 0, 0)])
    report = check(buildings=buildings)
    assert "building_split" not in kinds(report)
    assert report.valid


# --- non_contiguous ----------------------------------------------------------------


def test_grid_in_two_parts_is_non_contiguous():
    exclave = box(250, 0, 300, 20)
    grids = base_grids()
    grids["G1"] = MultiPolygon([box(0, 0, 100, 200), exclave])
    grids["G3"] = box(200, 0, 300, 200).difference(exclave)
    report = check(grids)
    p, = of_kind(report, "non_contiguous")
    assert p.grids == ("G1",) and p.severity == "error"
    assert_geometries_equal(p.geometry, exclave, normalize=True)  # the detached part, not the main one
    assert "2 separate parts" in p.detail
    assert kinds(report) == {"non_contiguous"}
    m = {m["code"]: m for m in report.metrics}["G1"]
    assert m["parts"] == 2 and m["contiguous"] is False


def test_grid_with_a_detached_half_square_metre_sliver_is_contiguous():
    sliver = box(299.5, 0, 300, 1)
    grids = base_grids()
    grids["G1"] = MultiPolygon([box(0, 0, 100, 200), sliver])
    grids["G3"] = box(200, 0, 300, 200).difference(sliver)
    report = check(grids)
    assert "non_contiguous" not in kinds(report)
    assert report.valid
    m = {m["code"]: m for m in report.metrics}["G1"]
    assert m["parts"] == 1 and m["contiguous"] is True


# --- households_band / population_band ---------------------------------------------


def _with(households: int | None = None, population: int | None = None):
    """Baseline buildings with G1's first building changed so that G1 totals these."""
    rows = list(BASE_BUILDINGS)
    code, grid, fp, hh, pop, units = rows[0]
    if households is not None:
        hh = households - 130
    if population is not None:
        pop = population - 220
    rows[0] = (code, grid, fp, hh, pop, units)
    return buildings_frame(rows)


@pytest.mark.parametrize(("households", "side", "off"), [(199, "below", 1), (301, "above", 1), (150, "below", 50)])
def test_households_outside_the_band_is_a_warning(households, side, off):
    report = check(buildings=_with(households=households))
    p, = report.problems
    assert p.kind == "households_band" and p.severity == "warning"
    assert p.grids == ("G1",)
    assert f"{households} households, {off} {side} the band 200–300" in p.detail
    assert_geometries_equal(p.geometry, box(0, 0, 100, 200), normalize=True)
    assert report.valid is True  # warnings do not block publishing
    assert report.warnings == [p] and report.errors == []


@pytest.mark.parametrize("households", [200, 300])
def test_households_at_the_band_ends_are_in_band(households):
    report = check(buildings=_with(households=households))
    assert report.problems == []
    assert {m["code"]: m for m in report.metrics}["G1"]["households"] == households


@pytest.mark.parametrize(("population", "side"), [(399, "below"), (501, "above")])
def test_population_outside_the_band_is_a_warning(population, side):
    report = check(buildings=_with(population=population))
    p, = report.problems
    assert p.kind == "population_band" and p.severity == "warning"
    assert p.grids == ("G1",)
    assert f"{population} population, 1 {side} the band 400–500" in p.detail
    assert_geometries_equal(p.geometry, box(0, 0, 100, 200), normalize=True)
    assert report.valid is True


@pytest.mark.parametrize("population", [400, 500])
def test_population_at_the_band_ends_is_in_band(population):
    report = check(buildings=_with(population=population))
    assert report.problems == []


def test_custom_bands_are_used():
    report = check(bands=Bands(households=(260, 400), population=(0, 10_000)))
    assert [(p.kind, p.grids) for p in report.problems] == [("households_band", ("G1",)), ("households_band", ("G2",))]


# --- bookkeeping -------------------------------------------------------------------


def test_every_kind_has_its_severity():
    errors = {"invalid_geometry", "outside_community", "overlap", "gap", "building_split", "non_contiguous"}
    assert {k for k, s in KINDS.items() if s == "error"} == errors
    assert {k for k, s in KINDS.items() if s == "warning"} == {"households_band", "population_band"}


def test_problem_dict():
    p = Problem("building_split", ("G2", "G1"), "detail", box(0, 0, 1, 1), buildings=("X",))
    assert problem_dict(p, geometry={"type": "Polygon"}) == {
        "kind": "building_split", "severity": "error", "grids": ["G2", "G1"], "buildings": ["X"],
        "detail": "detail", "detail_zh": None, "geometry": {"type": "Polygon"}}


def test_several_problems_at_once_are_all_reported():
    grids = base_grids()
    grids["G1"] = box(0, 0, 110, 200)          # overlap with G2
    grids["G3"] = box(200, 0, 300, 190)        # gap at the top of G3
    report = check(grids, buildings=_with(households=199))
    assert {p.kind for p in report.errors} == {"overlap", "gap"}
    assert np.all([p.severity == "error" for p in report.errors])
    assert report.valid is False


def test_a_gap_hidden_behind_an_overlap_of_the_same_area_is_still_found():
    """The gap step skips the union when community − Σ areas + Σ overlaps ≤ SLIVER_M2; an overlap must not
    cancel a gap of the same size in that bound."""
    grids = base_grids()
    a, b = sorted(grids)[:2]
    grids[a] = shapely.union_all([grids[a], shapely.intersection(grids[b], box(95, 0, 105, 10))])  # +~50 m² overlap
    grids[b] = shapely.difference(grids[b], box(150, 190, 155, 200))  # a 50 m² hole at the community's edge
    report = check(grids)
    assert of_kind(report, "overlap") and of_kind(report, "gap")
