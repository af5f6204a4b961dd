"""The result of a kernel density estimate (:class:`KdeGrid`) and what a map needs of it.

A :class:`KdeGrid` is a density in points per m² on a north-up lattice of square metric cells; it
gives its extent (metres and WGS84), its GDAL geotransform, weighted points for Leaflet.heat and its
metadata. Drawing it as a PNG overlay is the map layer's job (:mod:`maps.heatmap_png`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from geo.analysis.inputs import Bounds, positive
from geo.analysis.projection import to_lonlat

__all__ = ["KdeGrid"]


def _wgs84_envelope(b: Bounds, crs: str) -> list[list[float]]:
    """[[south, west], [north, east]] around the metric rectangle *b* (edges densified)."""
    s = np.linspace(0.0, 1.0, 33)
    xs = np.concatenate(
        [b[0] + (b[2] - b[0]) * s, np.full(33, b[2]), b[0] + (b[2] - b[0]) * s, np.full(33, b[0])]
    )
    ys = np.concatenate(
        [np.full(33, b[1]), b[1] + (b[3] - b[1]) * s, np.full(33, b[3]), b[1] + (b[3] - b[1]) * s]
    )
    lon, lat = to_lonlat(xs, ys, crs)
    return [[float(lat.min()), float(lon.min())], [float(lat.max()), float(lon.max())]]


@dataclass(frozen=True, eq=False)
class KdeGrid:
    """A kernel density surface on a north-up lattice of square metric cells.

    Attributes
    ----------
    density : ndarray, shape (rows, cols)
        Density at the cell centres in points (or weight units) per m².
        Row 0 is the northernmost row, column 0 the westernmost (image order).
        ``density.sum() * cell_m**2`` is the mass inside the grid.
    xmin, ymax : float
        Metric coordinates of the grid's north-west corner (in *crs*).
    cell_m, bandwidth_m : float
        Cell size and Gaussian standard deviation, metres.
    crs : str
        The metric CRS.
    n_points : int
        Points that contributed (those within the padded computation area).
    total_weight : float
        Their summed weight (= n_points without weights).
    """

    density: np.ndarray
    xmin: float
    ymax: float
    cell_m: float
    bandwidth_m: float
    crs: str
    n_points: int
    total_weight: float

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return self.density.shape  # type: ignore[return-value]

    @property
    def bounds_m(self) -> Bounds:
        """(xmin, ymin, xmax, ymax) in metres of :attr:`crs`."""
        rows, cols = self.density.shape
        return (self.xmin, self.ymax - rows * self.cell_m, self.xmin + cols * self.cell_m, self.ymax)

    @property
    def transform(self) -> tuple[float, float, float, float, float, float]:
        """GDAL geotransform ``(xmin, cell_m, 0, ymax, 0, -cell_m)``.

        Pixel (row, col)'s centre is ``x = xmin + (col + 0.5) cell_m``,
        ``y = ymax - (row + 0.5) cell_m``.
        """
        return (self.xmin, self.cell_m, 0.0, self.ymax, 0.0, -self.cell_m)

    @property
    def wgs84_bounds(self) -> list[list[float]]:
        """``[[south, west], [north, east]]`` enclosing the grid (Leaflet's LatLngBounds)."""
        return _wgs84_envelope(self.bounds_m, self.crs)

    @property
    def mass(self) -> float:
        """``density.sum() * cell_m**2``: points (or weight) inside the grid."""
        return float(self.density.sum() * self.cell_m**2)

    def centres_m(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre coordinates: x of each column (cols,), y of each row (rows,)."""
        rows, cols = self.density.shape
        x = self.xmin + (np.arange(cols) + 0.5) * self.cell_m
        y = self.ymax - (np.arange(rows) + 0.5) * self.cell_m
        return x, y

    def full_scale(self, vmax: float | None = None) -> float:
        """The density drawn at full scale: *vmax* checked (> 0), or this grid's maximum (0 when empty)."""
        if vmax is None:
            return float(self.density.max()) if self.density.size else 0.0
        return positive("vmax", vmax, "0.001", unit=" (points per m²)")

    def to_points(self, min_fraction: float = 0.01, *, vmax: float | None = None) -> list[list[float]]:
        """Weighted points ``[lat, lon, value]`` for Leaflet.heat.

        Parameters
        ----------
        min_fraction : float, default 0.01
            Cells whose density is below ``min_fraction * vmax`` are left out.
        vmax : float, optional
            The density that maps to value 1 (default: this grid's maximum).
            Pass a common value to make frames of a series comparable.

        Returns
        -------
        list of [lat, lon, value]
            WGS84 cell centres (7 decimals) and ``density / vmax`` (4 decimals);
            use Leaflet.heat with ``max: 1``.
        """
        return self.points_array(min_fraction, vmax=vmax).tolist()

    def points_array(self, min_fraction: float = 0.01, *, vmax: float | None = None) -> np.ndarray:
        """:meth:`to_points` as an (n, 3) float array (no Python object per point)."""
        top = self.full_scale(vmax)
        if top <= 0:
            return np.empty((0, 3))
        rr, cc = np.nonzero(self.density >= float(min_fraction) * top)
        if rr.size == 0:
            return np.empty((0, 3))
        x = self.xmin + (cc + 0.5) * self.cell_m
        y = self.ymax - (rr + 0.5) * self.cell_m
        lon, lat = to_lonlat(x, y, self.crs)
        val = np.round(self.density[rr, cc] / top, 4)
        return np.column_stack([np.round(lat, 7), np.round(lon, 7), val])

    def as_dict(self) -> dict[str, Any]:
        """Metadata for an API response (no arrays)."""
        return {
            "cell_m": self.cell_m,
            "bandwidth_m": self.bandwidth_m,
            "kernel": "gaussian",
            "crs": self.crs,
            "shape": list(self.shape),
            "bounds_m": list(self.bounds_m),
            "bounds": self.wgs84_bounds,
            "transform": list(self.transform),
            "units": "points per m²",
            "n_points": self.n_points,
            "max_density": float(self.density.max()) if self.density.size else 0.0,
        }
