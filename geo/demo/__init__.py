"""Deterministic demo data: the Gaoshan Town resettlement communities, or a Datong-sized city.

Everything here is synthetic. The *numbers* of the town scale follow the source article
(50 grids of 200–300 households and 400–500 people, 125 buildings, 390 units, 32 cadres,
700+ cameras); the place is an illustrative site in Yungang District, Datong (Shanxi),
and every geometry, name, phone number and incident is made up.

How the data are built
----------------------
All geometry is computed in metres in :data:`geo.demo.model.AUTHORING_CRS`, which is
:data:`geo.crs.METRIC_CRS_DEFAULT` (EPSG:4547, CGCS2000 / 3-degree Gauss–Krüger CM 114E),
and converted to EPSG:4326 (RFC 7946 GeoJSON, 8 decimals) only when written.

A *community* (a walled compound, 小区) is laid out by :func:`layout_community` in local
metres (x east, y north, origin at its south-west corner):

* a street-edge frontage along the south wall holds the main gate and the market,
  kindergarten, clinic (and school) buildings;
* rows of south-facing slab buildings (long axis east–west, 2–4 units of ~15 m, 12–13 m
  deep, a stair/lift core bump at each unit door on the north side, sometimes a 0.6 m
  step between units) fill the rest, west to east and south to north; the clear distance
  between rows is 1.2–1.45 × the height of the taller southern building (winter sun);
* a ring road runs inside the wall, a main road (spine) runs north from the south gate,
  and a 6–7 m access road passes 3.5 m north of every row's doors, with parking strips on
  its north side; one row gap is widened for the central square; 0–2 side gates join the
  access roads or the spine to the street;
* a cut corner (or two) keeps the wall from being a plain rectangle.

Two styles exist: ``highrise`` (11–18 floors, the Gaoshan resettlement blocks) and
``walkup`` (5–7 floors, ~13 m units, rows 23–28 m apart: the older estates that make up
most of the city scale).

:func:`partition_community` then divides the community into grids: each building's cell
(the land nearer to it than to any other, clipped to the wall) comes from
:func:`geo.partition.building_cells`, the tessellation the planner's edits use, with outline
points every ``sample_m`` metres; buildings taken in snake
order along the rows are grouped by dynamic programming into contiguous runs whose
household capacity fits the band; each grid is the union of its buildings' cells,
simplified as a coverage and snapped to a 1 cm grid, and the community polygon is
rebuilt as the union of its grids, so the grids tile it exactly. Households and
population are then drawn per grid inside the band and spread over its units.

:func:`place_cameras` puts one camera above every unit door, gate cameras, a fisheye
over each parking lot, a PTZ dome over the square, ceiling domes in the market and
clinic, and pole cameras spaced along the internal roads.

:func:`generate` assembles communities on a lattice separated by town streets, then
draws staff and a year of incidents (with hotspots and seasonality) and writes the files.

Azimuths are grid bearings in EPSG:4547 (0 = grid north, clockwise); they differ from
true north by the meridian convergence (about 0.6° at Gaoshan), which is ignored.

Where things are
----------------
:mod:`geo.demo.model`
    Styles (``highrise``, ``walkup``), :class:`CommunitySpec`, and the laid-out
    :class:`Community` with its buildings, roads, key places, grids and cameras.
:mod:`geo.demo.layout`
    :func:`layout_community`: one walled community in local metres.
:mod:`geo.demo.grids`
    :func:`partition_community`: grids of whole buildings in the band, households and
    population per unit.
:mod:`geo.demo.cameras`
    :func:`place_cameras`.
:mod:`geo.demo.sites`
    :func:`make_community` (layout, grids, cameras), :func:`build_town`,
    :func:`build_city` and the lattice of streets between communities.
:mod:`geo.demo.incidents`
    A year of incidents: hotspot kernels, seasonality, sources, the workflow.
:mod:`geo.demo.names`
    Fictional staff names and phone numbers.
:mod:`geo.demo.files`
    :func:`generate`: builds a site and writes its GeoJSON and CSV files.
"""

from __future__ import annotations

from geo.demo.cameras import place_cameras
from geo.demo.files import generate
from geo.demo.grids import partition_community
from geo.demo.layout import layout_community
from geo.demo.model import Community, CommunitySpec
from geo.demo.sites import build_city, build_town, make_community

__all__ = [
    "Community",
    "CommunitySpec",
    "build_city",
    "build_town",
    "generate",
    "layout_community",
    "make_community",
    "partition_community",
    "place_cameras",
]
