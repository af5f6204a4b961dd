"""Lattices of metric cells (square or hexagonal) with point counts: the cells Gi* runs on.

:func:`lattice` lays cells over a study extent (bounds, a WGS84 mask, or the points' box) and counts
the points into them; :func:`estimate_cells` says about how many cells that would be, from arithmetic
on the study area, so the work budgets can be checked before any cell is made. The builders the
other analyses share (:func:`build_lattice`, :func:`mask_metric`, :func:`study_region`,
:func:`check_shape`, :func:`cell_vertices`) live here with the cells they describe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import shapely

from geo import budgets as _budgets
from geo.analysis.inputs import Bounds, metric_bounds, positive, wgs84_points
from geo.analysis.projection import project_lonlat, to_lonlat
from geo.crs import METRIC_CRS_DEFAULT, require_metric, to_metric
from geo.errors import BadInput, InvalidGeometry, TooLarge

__all__ = [
    "MAX_LATTICE_CELLS", "Lattice", "Shape", "StudyRegion", "build_lattice", "cell_vertices", "check_shape",
    "estimate_cells", "lattice", "mask_metric", "study_region",
]

Shape = Literal["square", "hex"]

_SQRT3 = math.sqrt(3.0)

#: Largest Gi* lattice (cells).
MAX_LATTICE_CELLS = 250_000


@dataclass(frozen=True, eq=False)
class Lattice:
    """Square or hexagonal cells in a metric CRS, with point counts.

    Cell geometry (everything in metres of :attr:`crs`, on a global lattice
    anchored at the CRS origin, so lattices with the same ``cell_m`` and
    ``shape`` share cells wherever they overlap):

    ``square``
        Cell (i, j) is ``[i·c, (i+1)·c] × [j·c, (j+1)·c]`` for ``c = cell_m``.
    ``hex``
        Pointy-topped regular hexagons with flat-to-flat width ``c`` (the
        distance between neighbouring centres), circumradius ``c/√3``, area
        ``(√3/2)·c²``; row j has centres at ``y = j·(√3/2)·c`` and
        ``x = (i + (j mod 2)/2)·c``.

    Cells are ordered north to south, then west to east.

    Attributes
    ----------
    shape : {"square", "hex"}
    cell_m : float
    crs : str
        The metric CRS.
    extent_m : (xmin, ymin, xmax, ymax)
        The study extent: cells intersecting it (and the mask) are kept.
    ij : ndarray, shape (n, 2), int
        Global lattice indices (i, j) of each cell.
    counts : ndarray, shape (n,)
        Points per cell.
    n_points : int
        Points counted into a cell.
    n_outside : int
        Points outside every cell (outside the extent or the mask).
    """

    shape: str
    cell_m: float
    crs: str
    extent_m: Bounds
    ij: np.ndarray
    counts: np.ndarray
    n_points: int = 0
    n_outside: int = 0

    @property
    def n(self) -> int:
        """Number of cells."""
        return int(self.ij.shape[0])

    @cached_property
    def centres_m(self) -> np.ndarray:
        """(n, 2) cell centres in metres."""
        return _centres(self.shape, self.cell_m, self.ij)

    @cached_property
    def polygons_m(self) -> np.ndarray:
        """Cell polygons in metres (shapely array). Shared vertices are bit-identical."""
        return shapely.polygons(cell_vertices(self.shape, self.cell_m, self.ij))

    @cached_property
    def polygons(self) -> np.ndarray:
        """Cell polygons in WGS84 (shapely array): the metric polygons' vertices projected."""
        v = cell_vertices(self.shape, self.cell_m, self.ij)
        lon, lat = to_lonlat(v[..., 0].ravel(), v[..., 1].ravel(), self.crs)
        return shapely.polygons(np.stack([lon, lat], axis=-1).reshape(v.shape))

    @cached_property
    def centres(self) -> np.ndarray:
        """(n, 2) cell centres as WGS84 (lon, lat)."""
        c = self.centres_m
        lon, lat = to_lonlat(c[:, 0], c[:, 1], self.crs)
        return np.column_stack([lon, lat])

    @property
    def cell_area_m2(self) -> float:
        """Area of one cell, m²."""
        return self.cell_m**2 if self.shape == "square" else _SQRT3 / 2 * self.cell_m**2

    @property
    def keys(self) -> list[str]:
        """Stable cell keys ``"{shape}:{cell_m:g}:{i}:{j}"`` (the same cell in every lattice)."""
        return [f"{self.shape}:{self.cell_m:g}:{i}:{j}" for i, j in self.ij.tolist()]

    def cell_index(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the cell containing each metric point, -1 outside every cell."""
        i, j = _locate(self.shape, self.cell_m, np.asarray(x, float), np.asarray(y, float))
        return _lookup(self.ij, i, j)

    def count(self, *, lon: Any, lat: Any) -> tuple[np.ndarray, int]:
        """Count WGS84 points into the cells: (counts (n,), points outside)."""
        lon_a, lat_a = wgs84_points(lon, lat)
        if lon_a.size == 0:
            return np.zeros(self.n), 0
        x, y = project_lonlat(lon_a, lat_a, self.crs)
        return self.count_xy(x, y)

    def count_xy(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, int]:
        """Count metric points into the cells: (counts (n,), points outside)."""
        idx = self.cell_index(x, y)
        ok = idx >= 0
        return np.bincount(idx[ok], minlength=self.n).astype(float), int((~ok).sum())

    def with_counts(self, counts: np.ndarray, n_points: int, n_outside: int) -> Lattice:
        """The same cells with other counts."""
        return Lattice(
            shape=self.shape,
            cell_m=self.cell_m,
            crs=self.crs,
            extent_m=self.extent_m,
            ij=self.ij,
            counts=np.asarray(counts, float),
            n_points=n_points,
            n_outside=n_outside,
        )


def _hex_dims(cell: float) -> tuple[float, float, float]:
    """(column spacing w, row spacing h, circumradius R) of pointy-topped hexagons."""
    r = cell / _SQRT3
    return cell, 1.5 * r, r


def _centres(shape: str, cell: float, ij: np.ndarray) -> np.ndarray:
    i = ij[:, 0].astype(float)
    j = ij[:, 1].astype(float)
    if shape == "square":
        return np.column_stack([(i + 0.5) * cell, (j + 0.5) * cell])
    w, h, _ = _hex_dims(cell)
    return np.column_stack([(2 * i + (ij[:, 1] % 2)) * (w / 2), j * h])


def cell_vertices(shape: str, cell: float, ij: np.ndarray) -> np.ndarray:
    """(n, 5 or 7, 2) closed rings of cells *ij* in metres, counter-clockwise, from integer multiples (bit-exact)."""
    i = ij[:, 0]
    j = ij[:, 1]
    if shape == "square":
        di = np.array([0, 1, 1, 0, 0])
        dj = np.array([0, 0, 1, 1, 0])
        x = (i[:, None] + di[None, :]).astype(float) * cell
        y = (j[:, None] + dj[None, :]).astype(float) * cell
        return np.stack([x, y], axis=-1)
    w, _, r = _hex_dims(cell)
    # centre x = (2i + j%2) * w/2, y = 3j * r/2; vertices at 30°, 90°, ..., 330°
    xm = (2 * i + j % 2)[:, None] + np.array([1, 0, -1, -1, 0, 1, 1])[None, :]
    ym = (3 * j)[:, None] + np.array([1, 2, 1, -1, -2, -1, 1])[None, :]
    return np.stack([xm.astype(float) * (w / 2), ym.astype(float) * (r / 2)], axis=-1)


def _locate(shape: str, cell: float, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Global lattice indices (i, j) of the cell containing each point."""
    if shape == "square":
        return np.floor(x / cell).astype(np.int64), np.floor(y / cell).astype(np.int64)
    # Hexagons are the Voronoi cells of their centres: the nearest centre wins.
    # Even rows form a rectangular lattice (w, 2h), odd rows the same shifted by
    # (w/2, h); the nearest point of each is found by rounding.
    w, h, _ = _hex_dims(cell)
    je = 2 * np.round(y / (2 * h))
    ie = np.round(x / w)
    jo = 2 * np.floor(y / (2 * h)) + 1
    io = np.round(x / w - 0.5)
    de = (x - ie * w) ** 2 + (y - je * h) ** 2
    do = (x - (io + 0.5) * w) ** 2 + (y - jo * h) ** 2
    odd = do < de
    i = np.where(odd, io, ie).astype(np.int64)
    j = np.where(odd, jo, je).astype(np.int64)
    return i, j


def _lookup(ij: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Positions of (i, j) pairs in the cell list *ij*, -1 where absent (dense table)."""
    if ij.shape[0] == 0:
        return np.full(i.shape, -1, dtype=np.int64)
    i0, j0 = ij.min(axis=0)
    i1, j1 = ij.max(axis=0)
    ni, nj = int(i1 - i0 + 1), int(j1 - j0 + 1)
    table = np.full(ni * nj, -1, dtype=np.int64)
    table[(ij[:, 1] - j0) * ni + (ij[:, 0] - i0)] = np.arange(ij.shape[0])
    ii = i - i0
    jj = j - j0
    ok = (ii >= 0) & (ii < ni) & (jj >= 0) & (jj < nj)
    out = np.full(i.shape, -1, dtype=np.int64)
    out[ok] = table[jj[ok] * ni + ii[ok]]
    return out


def mask_metric(mask: Any, crs: str):
    """A WGS84 polygonal mask (shapely or GeoJSON mapping) in metres, prepared."""
    geom = mask
    if isinstance(mask, dict):
        try:
            geom = shapely.geometry.shape(mask.get("geometry", mask))
        except Exception as exc:  # noqa: BLE001 - report any parse failure as bad input
            raise InvalidGeometry(f"mask is not a GeoJSON geometry ({exc})") from None
    if not isinstance(geom, shapely.Geometry):
        raise InvalidGeometry(
            f"mask must be a polygon in WGS84 (shapely or GeoJSON), got {type(mask).__name__}"
        )
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection"):
        raise InvalidGeometry(
            f"mask must be a non-empty Polygon or MultiPolygon in WGS84, got {geom.geom_type}"
        )
    if not geom.is_valid:
        raise InvalidGeometry(
            f"mask is not a valid polygon: {shapely.is_valid_reason(geom)}; fix it (e.g. shapely.make_valid)",
            details={"reason": shapely.is_valid_reason(geom)},
        )
    b = geom.bounds
    if not (-180 <= b[0] <= 180 and -180 <= b[2] <= 180 and -90 <= b[1] <= 90 and -90 <= b[3] <= 90):
        raise InvalidGeometry(f"mask bounds {b} are not WGS84 degrees; send the mask in lon/lat")
    m = to_metric(geom, crs=crs)
    shapely.prepare(m)
    return m


def _lattice_cells(shape: str, cell: float, extent: Bounds, mask_m) -> np.ndarray:
    xmin, ymin, xmax, ymax = extent
    if shape == "square":
        i0, i1 = math.floor(xmin / cell + 1e-9), math.ceil(xmax / cell - 1e-9)
        j0, j1 = math.floor(ymin / cell + 1e-9), math.ceil(ymax / cell - 1e-9)
        n = max(i1 - i0, 1) * max(j1 - j0, 1)
        _check_cells(n, cell)
        jj, ii = np.meshgrid(
            np.arange(max(j1, j0 + 1) - 1, j0 - 1, -1), np.arange(i0, max(i1, i0 + 1)), indexing="ij"
        )
        ij = np.column_stack([ii.ravel(), jj.ravel()]).astype(np.int64)
        keep = np.ones(ij.shape[0], bool)
    else:
        w, h, r = _hex_dims(cell)
        j0, j1 = math.floor((ymin - r) / h), math.ceil((ymax + r) / h)
        i0, i1 = math.floor(xmin / w) - 1, math.ceil(xmax / w) + 1
        _check_cells(int((i1 - i0 + 1) * (j1 - j0 + 1) * 0.8), cell)
        jj, ii = np.meshgrid(np.arange(j1, j0 - 1, -1), np.arange(i0, i1 + 1), indexing="ij")
        ij = np.column_stack([ii.ravel(), jj.ravel()]).astype(np.int64)
        box = shapely.box(*extent)
        shapely.prepare(box)
        polys = shapely.polygons(cell_vertices(shape, cell, ij))
        keep = shapely.intersects(box, polys) & ~shapely.touches(box, polys)
    if mask_m is not None:
        polys = shapely.polygons(cell_vertices(shape, cell, ij[keep]))
        inner = shapely.intersects(mask_m, polys) & ~shapely.touches(mask_m, polys)
        idx = np.flatnonzero(keep)
        keep[idx[~inner]] = False
    ij = ij[keep]
    _check_cells(ij.shape[0], cell)
    return ij


def _check_cells(n: int, cell: float) -> None:
    if n > MAX_LATTICE_CELLS:
        need = cell * math.sqrt(n / MAX_LATTICE_CELLS)
        raise TooLarge(
            f"the lattice would have about {n:,} cells (limit {MAX_LATTICE_CELLS:,}); "
            f"use cell_m >= {math.ceil(need)} or a smaller extent/mask",
            details={"cells": n, "limit": MAX_LATTICE_CELLS},
        )


def check_shape(shape: Any) -> str:
    """*shape* if it is a cell shape ("square" or "hex"), else BadInput."""
    if shape not in ("square", "hex"):
        raise BadInput(f"shape={shape!r} is not a cell shape; use 'square' or 'hex'")
    return str(shape)


def build_lattice(
    x: np.ndarray,
    y: np.ndarray,
    *,
    cell: float,
    shape: str,
    bounds: Bounds | None,
    mask_m,
    crs: str,
) -> Lattice:
    """The lattice of checked inputs (metric points, cell size, shape, bounds, :func:`mask_metric`'s mask),
    with the points counted."""
    extent = _extent(x, y, cell, bounds, mask_m)
    ij = _lattice_cells(shape, cell, extent, mask_m)  # type: ignore[arg-type]
    if ij.shape[0] == 0:
        raise BadInput(
            "no cell of the lattice intersects the mask; check that the mask is in WGS84 and overlaps the extent"
        )
    lat_ = Lattice(shape=shape, cell_m=cell, crs=crs, extent_m=extent, ij=ij, counts=np.zeros(ij.shape[0]))  # type: ignore[arg-type]
    counts, outside = lat_.count_xy(x, y) if x.size else (np.zeros(lat_.n), 0)
    return lat_.with_counts(counts, int(x.size - outside), outside)


def _extent(x: np.ndarray, y: np.ndarray, cell: float, bounds: Bounds | None, mask_m) -> Bounds:
    """The study extent :func:`lattice` lays cells over, snapped outwards to multiples of the cell size."""
    if bounds is not None:
        extent = bounds
    elif mask_m is not None:
        extent = tuple(float(v) for v in mask_m.bounds)
    else:
        if x.size == 0:
            raise BadInput(
                "no points and no bounds_m or mask: nothing to lay cells over; widen the time "
                "window or categories, or pass bounds_m (metres) or a mask polygon"
            )
        extent = (float(x.min()) - cell, float(y.min()) - cell, float(x.max()) + cell, float(y.max()) + cell)
    extent = (
        math.floor(extent[0] / cell + 1e-9) * cell,
        math.floor(extent[1] / cell + 1e-9) * cell,
        math.ceil(extent[2] / cell - 1e-9) * cell,
        math.ceil(extent[3] / cell - 1e-9) * cell,
    )
    if extent[2] <= extent[0]:
        extent = (extent[0], extent[1], extent[0] + cell, extent[3])
    if extent[3] <= extent[1]:
        extent = (extent[0], extent[1], extent[2], extent[1] + cell)
    return extent  # type: ignore[return-value]


@dataclass(frozen=True)
class StudyRegion:
    """What the cell estimate needs of a study area: its extent, area, boundary length and parts."""

    extent: Bounds
    area_m2: float
    perimeter_m: float
    parts: int

    @classmethod
    def of_box(cls, extent: Bounds) -> StudyRegion:
        """The rectangle *extent* (e.g. a lattice's :attr:`Lattice.extent_m`) as one region."""
        e = extent
        return cls(e, (e[2] - e[0]) * (e[3] - e[1]), 2 * ((e[2] - e[0]) + (e[3] - e[1])), 1)

    def cells(self, shape: str, cell: float) -> float:
        """About how many cells of *shape* and size *cell* a lattice over this region keeps."""
        w, h = self.extent[2] - self.extent[0], self.extent[3] - self.extent[1]
        if shape == "square":
            box = math.ceil(w / cell - 1e-9) * math.ceil(h / cell - 1e-9)
        else:
            box = (w / cell + 2) * (h / (_SQRT3 / 2 * cell) + 2)
        return _budgets.lattice_cells(shape=shape, cell_m=cell, area_m2=self.area_m2,
                                      perimeter_m=self.perimeter_m, parts=self.parts, bbox_cells=max(box, 1))


def study_region(x: np.ndarray, y: np.ndarray, cell: float, bounds: Bounds | None, mask_m) -> StudyRegion:
    """The region a lattice of these inputs would cover (the mask within the extent, else the extent)."""
    extent = _extent(x, y, cell, bounds, mask_m)
    area = shapely.box(*extent)
    if mask_m is not None:
        area = shapely.intersection(mask_m, area) if bounds is not None else mask_m
    parts = int(shapely.get_num_geometries(area)) or 1
    return StudyRegion(extent, float(area.area), float(area.length), parts)


def _lattice_inputs(lon: Any, lat: Any, *, cell_m: float, shape: str, bounds_m: Any, mask: Any, crs: str
                    ) -> tuple[Any, float, str, Any, Any, np.ndarray, np.ndarray]:
    """The checked inputs of a lattice (CRS, cell, shape, bounds, metric mask, projected points): shared by
    :func:`estimate_cells` (the budget, before any work) and :func:`lattice`, so both see the same region."""
    c = require_metric(crs)
    cell = positive("cell_m", cell_m, "100")
    sh = check_shape(shape)
    b = metric_bounds(bounds_m, c)
    lon_a, lat_a = wgs84_points(lon, lat)
    mask_m = None if mask is None else mask_metric(mask, c)
    x, y = project_lonlat(lon_a, lat_a, c) if lon_a.size else (lon_a, lat_a)
    return c, cell, sh, b, mask_m, x, y


def estimate_cells(
    *,
    cell_m: float,
    shape: Shape = "square",
    mask: Any = None,
    bounds_m: Bounds | None = None,
    lon: Any = (),
    lat: Any = (),
    crs: str = METRIC_CRS_DEFAULT,
) -> int:
    """About how many cells :func:`lattice` would keep, from arithmetic on the study area (no cells made).

    Within a few per cent of the real count on the town's communities (see
    :func:`geo.budgets.lattice_cells`); used to check budgets before any work.

    Examples
    --------
    >>> estimate_cells(cell_m=100, lon=[113.1, 113.11], lat=[40.05, 40.06])   # the points' box + 1 cell
    154
    >>> lattice(lon=[113.1, 113.11], lat=[40.05, 40.06], cell_m=100).n
    154
    """
    c, cell, sh, b, mask_m, x, y = _lattice_inputs(lon, lat, cell_m=cell_m, shape=shape, bounds_m=bounds_m,
                                                   mask=mask, crs=crs)
    return int(math.ceil(study_region(x, y, cell, b, mask_m).cells(sh, cell)))




def lattice(
    *,
    lon: Any,
    lat: Any,
    cell_m: float = 100.0,
    shape: Shape = "square",
    bounds_m: Bounds | None = None,
    mask: Any = None,
    crs: str = METRIC_CRS_DEFAULT,
) -> Lattice:
    """Lay a lattice of metric cells over the study extent and count the points.

    The study extent is *bounds_m* when given, else the *mask*'s bounding box,
    else the points' bounding box padded by one cell; it is snapped outwards
    to multiples of ``cell_m``. Every cell intersecting the extent is kept,
    with or without points (Gi* compares each neighbourhood with the whole
    study area, so empty cells matter); with a *mask*, only cells whose
    interior meets the mask are kept. Points outside every kept cell are
    counted in :attr:`Lattice.n_outside`.

    Parameters
    ----------
    lon, lat : array_like
        Incident points, WGS84 degrees.
    cell_m : float, default 100
        Square side, or hexagon flat-to-flat width (= centre spacing), metres.
    shape : {"square", "hex"}, default "square"
    bounds_m : (xmin, ymin, xmax, ymax), optional
        Study extent in metres of *crs*.
    mask : shapely Polygon/MultiPolygon or GeoJSON geometry, optional
        Study area in WGS84 (e.g. the union of the communities).
    crs : str, default ``"EPSG:4547"``

    Returns
    -------
    Lattice

    Examples
    --------
    >>> lt = lattice(lon=[113.1, 113.1, 113.102], lat=[40.05, 40.05, 40.051], cell_m=100)
    >>> lt.n, int(lt.counts.sum()), int(lt.counts.max())
    (16, 3, 2)
    """
    c, cell, sh, b, mask_m, x, y = _lattice_inputs(lon, lat, cell_m=cell_m, shape=shape, bounds_m=bounds_m,
                                                   mask=mask, crs=crs)
    return build_lattice(x, y, cell=cell, shape=sh, bounds=b, mask_m=mask_m, crs=c)

