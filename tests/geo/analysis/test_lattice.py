"""geo.analysis.lattice: hexagons tile the extent and count like point-in-polygon; a mask keeps only the cells
meeting it. No database."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from geo.analysis.gistar import hotspots
from geo.analysis.lattice import lattice
from geo.crs import to_metric
from tests.geo.analysis.synthetic import CRS, TO_LL, TO_M, X0, Y0


def test_hex_cells_do_not_overlap_and_cover_the_extent(pts):
    lt = lattice(lon=pts[0], lat=pts[1], cell_m=100, shape="hex")
    metric = to_metric(lt.polygons, crs=CRS)
    areas = shapely.area(metric)
    assert np.allclose(areas, math.sqrt(3) / 2 * 100**2, rtol=1e-3)
    union = shapely.union_all(metric)
    assert areas.sum() == pytest.approx(union.area, rel=1e-3)
    assert union.buffer(1e-3).covers(shapely.box(*lt.extent_m))
    assert lt.counts.sum() == pts[0].size and lt.n_outside == 0
    # counts agree with a point-in-polygon count
    x, y = TO_M.transform(pts[0], pts[1])
    tree = shapely.STRtree(lt.polygons_m)
    _, ci = tree.query(shapely.points(x, y), predicate="intersects")
    assert np.array_equal(np.bincount(ci, minlength=lt.n), lt.counts)


def test_mask_keeps_only_cells_meeting_it(pts):
    mask_m = shapely.Point(X0 + 1000, Y0 + 1000).buffer(600)
    mask = shapely.transform(mask_m, lambda c: np.column_stack(TO_LL.transform(c[:, 0], c[:, 1])))
    lt = lattice(lon=pts[0], lat=pts[1], cell_m=100, mask=mask)
    polys = lt.polygons_m
    assert (shapely.area(shapely.intersection(polys, mask_m)) > 0).all()
    full = lattice(lon=pts[0], lat=pts[1], cell_m=100, bounds_m=mask_m.bounds)
    inside = shapely.area(shapely.intersection(full.polygons_m, mask_m)) > 0
    assert lt.n == int(inside.sum()) < full.n
    assert lt.counts.sum() + lt.n_outside == pts[0].size and lt.n_outside > 0
    res = hotspots(lon=pts[0], lat=pts[1], cell_m=100, mask=shapely.geometry.mapping(mask))
    assert res.lattice.n == lt.n
