"""geo.suggest.cells: adjacency of the cells, and the checks of the cells and bands."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
import shapely

import geo.suggest as sg
from geo.errors import BadCRS, BadInput, InvalidGeometry
from tests.geo.suggest.conftest import HH, POP, X0, Y0, rook_graph, town


def test_near_touching_cells_are_still_neighbours() -> None:
    """Cells shrunk by 1 cm (a tessellation with gaps) give the same neighbours."""
    c = town(0)
    geoms = c.cells.geometry.values
    i0, j0, s0 = sg.adjacency(geoms)
    i1, j1, s1 = sg.adjacency(shapely.buffer(np.asarray(geoms), -0.01, join_style="mitre"))
    assert list(zip(i0.tolist(), j0.tolist(), strict=True)) == list(zip(i1.tolist(), j1.tolist(), strict=True))
    np.testing.assert_allclose(s1, s0, atol=0.2)


def test_adjacency_matches_libpysal_rook_and_shared_lengths() -> None:
    c = town(0)
    geoms = np.asarray(c.cells.geometry.values)
    i, j, s = sg.adjacency(geoms)
    w = rook_graph(c.cells)
    ours = {(a, b) for a, b in zip(i.tolist(), j.tolist(), strict=True)}
    theirs = {(a, b) for a, nbs in w.neighbors.items() for b in nbs if a < b}
    # libpysal's rook may also count a corner contact; ours needs MIN_SHARED_M of boundary
    assert ours <= theirs
    for a, b in theirs - ours:
        assert geoms[a].boundary.intersection(geoms[b].boundary).length < sg.MIN_SHARED_M
    exact = shapely.length(shapely.intersection(shapely.boundary(geoms[i]), shapely.boundary(geoms[j])))
    np.testing.assert_allclose(s, exact, rtol=1e-6, atol=1e-3)


@pytest.mark.parametrize("drop", ["households", "population", "code"])
def test_missing_columns(drop: str) -> None:
    cells = town(0).cells.drop(columns=[drop])
    with pytest.raises(BadInput, match=f"lacks column.*{drop}") as err:
        sg.suggest_partition(cells=cells, households_band=HH, population_band=POP)
    assert err.value.details == {"missing": [drop]} and err.value.code == "bad_input"


def test_bad_cells() -> None:
    cells = town(0).cells
    with pytest.raises(BadCRS, match="geographic"):
        sg.suggest_partition(cells=cells.to_crs("EPSG:4326"), households_band=HH, population_band=POP)
    with pytest.raises(BadInput, match="GeoDataFrame"):
        sg.suggest_partition(cells=pd.DataFrame(cells), households_band=HH, population_band=POP)
    with pytest.raises(BadInput, match="empty"):
        sg.suggest_partition(cells=cells.iloc[:0], households_band=HH, population_band=POP)
    neg = cells.copy()
    neg.loc[3, "households"] = -5
    with pytest.raises(BadInput, match="households must be finite and >= 0"):
        sg.suggest_partition(cells=neg, households_band=HH, population_band=POP)
    dup = cells.copy()
    dup.loc[1, "code"] = dup.loc[0, "code"]
    with pytest.raises(BadInput, match="more than once"):
        sg.suggest_partition(cells=dup, households_band=HH, population_band=POP)
    over = cells.copy()
    over.loc[0, "geometry"] = over.geometry[0].buffer(10)
    with pytest.raises(BadInput, match="overlap"):
        sg.suggest_partition(cells=over, households_band=HH, population_band=POP)
    bowtie = cells.copy()
    bowtie.loc[0, "geometry"] = shapely.Polygon([(X0, Y0), (X0 + 10, Y0 + 10), (X0 + 10, Y0), (X0, Y0 + 10)])
    with pytest.raises(InvalidGeometry, match="not valid"):
        sg.suggest_partition(cells=bowtie, households_band=HH, population_band=POP)
