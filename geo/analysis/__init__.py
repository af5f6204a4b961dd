"""Incident heatmaps (kernel density) and statistical hotspots (Getis–Ord Gi*), in metres.

Everything is measured in metres in a projected CRS (the deployment's ``metric_crs``; the default
:data:`geo.crs.METRIC_CRS_DEFAULT`, EPSG:4547, CGCS2000 / 3-degree Gauss–Kruger CM 114E, right for
Datong), never in degrees: incident points come in as WGS84 lon/lat numpy arrays, are projected,
binned and analysed in metres, and whatever a map needs (cell polygons, cell centres, image bounds)
goes back out in WGS84. The package takes arrays, not database connections, imports neither FastAPI
nor folium, and computes numbers only: drawing a heatmap as a PNG is :mod:`maps.heatmap_png`'s job.

Modules
    :mod:`~geo.analysis.inputs` (the checks of points, sizes and metric bounds),
    :mod:`~geo.analysis.projection` (WGS84 to metres and back, :func:`project`),
    :mod:`~geo.analysis.kde` and :mod:`~geo.analysis.kde_grid` (the heatmap),
    :mod:`~geo.analysis.lattice` (cells), :mod:`~geo.analysis.weights` (spatial weights),
    :mod:`~geo.analysis.gistar` (Gi*, classes, FDR, :class:`HotspotResult`),
    :mod:`~geo.analysis.emerging` (hot spots over time).

Heatmap
    :func:`kde` — a Gaussian kernel density estimate computed by *binning and
    convolution*: the points are spread onto a lattice of ``cell_m`` cells
    (linear binning) and the lattice is convolved with a Gaussian of standard
    deviation ``bandwidth_m``. The cost is O(points) for the binning plus
    O(cells · kernel) or O(cells log cells) for the convolution, never
    points × cells. :func:`weekly_series` makes one frame per week on a shared
    lattice for an animated map.

Hotspots
    :func:`lattice` (square or hexagonal metric cells with counts),
    :func:`weights` (distance band, k nearest neighbours, queen or rook
    contiguity; binary or row-standardised; always with the self-weight),
    :func:`gi_star` (vectorised Getis–Ord Gi* z-scores, equal to
    ``esda.G_Local(..., star=True).Zs``), :func:`classify` (hot/cold at
    99/95/90 %, optional Benjamini–Hochberg FDR), :func:`hotspots` (all of it,
    with :meth:`HotspotResult.to_geojson`), :func:`emerging` (emerging-hotspot
    labels over several periods) and :func:`compare_periods` (two periods, for
    the monthly report).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> lon = 113.10 + rng.normal(0, 0.002, 500)
>>> lat = 40.05 + rng.normal(0, 0.002, 500)
>>> grid = kde(lon=lon, lat=lat, bandwidth_m=50, cell_m=10)
>>> round(float(grid.density.sum() * grid.cell_m**2))   # mass: the number of points
500
>>> res = hotspots(lon=lon, lat=lat, cell_m=100)   # binary weights by default
>>> fc = res.to_geojson()
>>> fc["weights"]["kind"], fc["weights"]["threshold_m"], fc["weights"]["transform"]
('distance_band', 150.0, 'B')
>>> res.summary(), res.lattice.n   # every cell has one class
({'hot_90': 3, 'hot_95': 6, 'hot_99': 29, 'not_significant': 187}, 225)
>>> # row-standardised: esda's variance gives smaller z-scores (about 1/3 with 8 neighbours; see gi_star)
>>> hotspots(lon=lon, lat=lat, cell_m=100, transform="R").summary()
{'hot_90': 3, 'hot_95': 7, 'hot_99': 7, 'not_significant': 208}
"""

from geo.analysis.emerging import (
    CHANGE_LABELS, EMERGING_LABELS, check_emerging_budget, compare_periods, emerging, emerging_labels,
)
from geo.analysis.gistar import HotspotResult, classify, gi_star, hotspots
from geo.analysis.kde import MAX_KDE_CELLS, MAX_WEEKS, TRUNCATE_SIGMAS, kde, weekly_series
from geo.analysis.kde_grid import KdeGrid
from geo.analysis.lattice import MAX_LATTICE_CELLS, Lattice, estimate_cells, lattice
from geo.analysis.projection import project
from geo.analysis.weights import WeightsSpec, weights

__all__ = [
    "CHANGE_LABELS",
    "EMERGING_LABELS",
    "MAX_KDE_CELLS",
    "MAX_LATTICE_CELLS",
    "MAX_WEEKS",
    "TRUNCATE_SIGMAS",
    "HotspotResult",
    "KdeGrid",
    "Lattice",
    "WeightsSpec",
    "check_emerging_budget",
    "classify",
    "compare_periods",
    "emerging",
    "emerging_labels",
    "estimate_cells",
    "gi_star",
    "hotspots",
    "kde",
    "lattice",
    "project",
    "weekly_series",
    "weights",
]
