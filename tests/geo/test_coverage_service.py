"""geo.coverage_service: the stored town's coverage does not depend on the metric CRS it is computed in.

The demo town is recomputed in EPSG:4547 (the default: CGCS2000 3-degree Gauss-Krüger, CM 114E) and
in EPSG:32649 (UTM 49N, CM 111E). Their scale factors differ by about 1e-4 at Gaoshan and their grid
norths by 1.9°; with the cameras turned by that (geo.coverage_service.grid_bearings) every grid's
watchable and covered areas agree within 0.1 %.
"""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

from geo import coverage_service
from geo.crs import METRIC_CRS_DEFAULT
from geo.errors import BadCRS
from geo.store.db import make_engine

UTM_49N = "EPSG:32649"


def _grid_coverage(engine) -> dict[bytes, tuple[float, float]]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return {bytes(r.geom_key): (r.watchable_m2, r.covered_m2) for r in conn.execute(text(
            "SELECT geom_key, watchable_m2, covered_m2 FROM grid_coverage"))}


def test_grid_coverage_agrees_in_another_metric_crs(private_db: str) -> None:
    engine = make_engine(private_db)
    try:
        first = coverage_service.recompute_all(engine, metric_crs=METRIC_CRS_DEFAULT)
        default = _grid_coverage(engine)
        again = coverage_service.recompute_all(engine, metric_crs=UTM_49N)
        utm = _grid_coverage(engine)
    finally:
        engine.dispose()
    assert first["computed"] == 725 and first["grids"] == 50
    # another CRS puts every camera elsewhere in metres and turns it: every view is stale
    assert again["computed"] == 725 and again["unchanged"] == 0
    assert METRIC_CRS_DEFAULT != UTM_49N and set(utm) == set(default) and len(default) == 50
    watch = np.array([[default[g][0], utm[g][0]] for g in default])
    covered = np.array([[default[g][1], utm[g][1]] for g in default])
    assert (covered[:, 0] > 0).all()
    assert np.abs(watch[:, 1] / watch[:, 0] - 1).max() < 1e-3
    assert np.abs(covered[:, 1] / covered[:, 0] - 1).max() < 1e-3


def test_bearings_turn_by_the_difference_of_grid_norths() -> None:
    lon, lat = np.array([113.1, 113.1]), np.array([40.05, 40.05])
    turned = coverage_service.grid_bearings(lon, lat, np.array([0.0, 90.0]), src=METRIC_CRS_DEFAULT, dst=UTM_49N)
    # meridian convergence (lon - lon0) sin(lat): -0.58° for CM 114E, +1.35° for CM 111E
    assert turned == pytest.approx([360 - 1.93, 90 - 1.93], abs=0.01)
    back = coverage_service.grid_bearings(lon, lat, turned, src=UTM_49N, dst=METRIC_CRS_DEFAULT)
    assert np.abs((back - [0.0, 90.0] + 180) % 360 - 180).max() < 1e-6
    assert coverage_service.grid_bearings(lon, lat, np.array([12.5, 0.0]), src=UTM_49N, dst=UTM_49N).tolist() \
        == [12.5, 0.0]


def test_a_crs_in_degrees_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    """Before anything is read or written (the shared session database stays as it is)."""
    with pytest.raises(BadCRS):
        coverage_service.recompute_all(engine, metric_crs="wgs84")


def test_a_forced_recompute_uses_its_cast_views_and_agrees_with_the_stored_ones(private_db: str) -> None:
    """A forced recompute hands the views it cast (metres) to the grid stage; a recompute after it reads the
    stored views back (WGS84, reprojected): the same figures, to reprojection rounding."""
    engine = make_engine(private_db)
    try:
        forced = coverage_service.recompute_all(engine, force=True)
        first = _grid_coverage(engine)
        again = coverage_service.recompute_all(engine)
        second = _grid_coverage(engine)
    finally:
        engine.dispose()
    assert forced["computed"] == 725 and again["computed"] == 0 and again["unchanged"] == 725
    assert set(first) == set(second) and len(first) == 50
    for key, (watch, covered) in first.items():
        assert second[key][0] == pytest.approx(watch, rel=1e-9)
        assert second[key][1] == pytest.approx(covered, rel=1e-6, abs=0.01)
