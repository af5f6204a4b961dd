"""Suggested grid partitions of one community: whole buildings, contiguous, compact, in the bands.

A planner asks for a division of one community into grids. The atoms are the
buildings' *cells* (the part of the community nearer to a building than to any
other, so the cells tile the community): a building is never split, every grid
is one connected piece, as compact as possible, and inside both bands (200–300
households and 400–500 people in Gaoshan; the bands are arguments).

Two regionalisation methods run on every call and the better result wins:

``maxp``
    spopt's :class:`~spopt.region.MaxPHeuristic`: as many regions as possible
    with at least the lower household band each, compact in the cells'
    centroid coordinates (spopt's construction phase, then its annealing on at
    most three of the maximal constructions: see :mod:`geo.suggest.maxp`). Max-p
    knows only the floor: a region above the upper household band, or outside
    the population band, is a band violation.
``balanced``
    Hand-written (spopt has no regionalisation with an *upper* bound on an
    extensive attribute, nor with two bands: max-p enforces a floor only, AZP
    and Skater fix the number of regions and bound nothing, or only the number
    of areas). When buildings are large (a town: 2–4 per grid) the connected
    sets of buildings under 1.5 × the upper household band (and 2 × the
    population band) are few (hundreds to a few thousand): they are enumerated
    and the division is an exact set partitioning (HiGHS, via
    :func:`scipy.optimize.milp`) with the ranking below:
    fewest violations, then least household excess, then most compact. When
    they are too many (a city estate: ~10 walk-ups per grid) a heuristic runs:
    for each plausible number of grids *k*, start solutions come from dynamic
    programming over three space-filling orders of the cells (row snake, column
    snake, Hilbert curve: the best cut of the order into *k* connected runs) and
    from seeded region growing (the smallest region grows first); a local search
    then moves single boundary buildings to a neighbouring grid, or swaps two,
    while that lowers the cost (band violations, then the distance outside the
    bands, then 1 − Polsby–Popper) and keeps both grids connected. (Small cells
    make the bands easy to meet by local moves; large ones jump over a 100-household
    band in one move, which is why the town case is solved exactly.)

The winner has the fewest band violations, then the smallest household excess
(the sum over grids of how far each lies outside the household band), then the
highest mean Polsby–Popper compactness 4πA/P² of the dissolved grids; a method
whose grids are not all connected is disqualified. Ties go to the method
listed first in :data:`METHODS`.

Cells are neighbours when they share at least :data:`MIN_SHARED_M` of boundary
(a point contact is no connection); cells closer than :data:`SNAP_M` count as
touching, so a tessellation with millimetre gaps still works. Disconnected parts
of a community are divided separately.

Everything here is pure: numpy, shapely, geopandas, libpysal, spopt; no FastAPI,
folium or database. spopt (slow to import) is imported on first use.

Where things are
----------------
:mod:`geo.suggest.cells`
    The bands, the checked cells, :func:`adjacency` and the connected parts.
:mod:`geo.suggest.score`
    Scores of a division and the ranking of methods.
:mod:`geo.suggest.balanced`
    The ``balanced`` method (exact set partitioning, or the heuristic).
:mod:`geo.suggest.maxp`
    The ``maxp`` method (spopt, imported on first use; its private phases are pinned by
    pyproject.toml's ``spopt`` range and checked by tests/geo/suggest/test_maxp.py).
:mod:`geo.suggest.suggestion`
    :class:`Suggestion` and :func:`suggest_partition`.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> cells = gpd.GeoDataFrame(
...     {"code": list("abcdef"), "households": [120, 110, 100, 130, 90, 115],
...      "population": [230, 220, 200, 250, 190, 225]},
...     geometry=[box(x, y, x + 50, y + 40) for y in (40, 0) for x in (0, 50, 100)],
...     crs="EPSG:4547")
>>> s = suggest_partition(cells=cells, households_band=(200, 300), population_band=(400, 500))
>>> s.labels.tolist(), s.scores[s.method]["band_violations"]   # three north-south pairs
([0, 1, 2, 0, 1, 2], 0.0)
"""

from __future__ import annotations

from geo.suggest.cells import MIN_SHARED_M, SNAP_M, adjacency
from geo.suggest.suggestion import METHODS, Suggestion, suggest_partition

__all__ = ["METHODS", "MIN_SHARED_M", "SNAP_M", "Suggestion", "adjacency", "suggest_partition"]
