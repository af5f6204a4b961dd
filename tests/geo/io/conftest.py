"""Fixtures of the geo.io tests: three grid polygons (one with a hole, one multi) and three camera points."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely import MultiPolygon, Point, Polygon


@pytest.fixture
def grids() -> gpd.GeoDataFrame:
    """Three grid polygons in Chun'an New District (one with a hole, one multi).

    Slightly skewed quadrilaterals: no two vertices share an x, so normalisation picks
    the same start vertex after the 1e-7 degree rounding of RFC 7946 output.
    """
    x0, y0 = 113.100, 40.050

    def quad(x, y, w, h):
        return [(x, y), (x + w + 0.0001, y + 0.00007), (x + w, y + h), (x + 0.00013, y + h - 0.00005)]

    g1 = Polygon(quad(x0, y0, 0.003, 0.002), [quad(x0 + 0.001, y0 + 0.0005, 0.0005, 0.0005)])
    g2 = Polygon(quad(x0 + 0.0032, y0, 0.0028, 0.002))
    g3 = MultiPolygon([Polygon(quad(x0, y0 + 0.0022, 0.002, 0.0018)), Polygon(quad(x0 + 0.0025, y0 + 0.0023, 0.0035, 0.0017))])
    return gpd.GeoDataFrame(
        {
            "code": ["140214001001001", "140214001001002", "140214001001003"],
            "name": ["春安新区第一网格", "春安新区第二网格", "宁丰社区第一网格"],
            "households": [250, 280, 300],
            "population": [420, 480, 500],
        },
        geometry=[g1, g2, g3],
        crs="EPSG:4326",
    )


@pytest.fixture
def cameras() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": ["34020000001320000001", "34020000001320000002", "34020000001320000003"],
            "name": ["春安新区3号楼1单元", "北门", "广场"],
            "hfov_deg": [100.0, 90.0, 360.0],
        },
        geometry=[Point(113.1012, 40.0503), Point(113.1021, 40.0519), Point(113.1040, 40.0511)],
        crs="EPSG:4326",
    )
