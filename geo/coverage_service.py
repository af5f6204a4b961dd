"""Camera views and coverage of the stored town, recomputed when their inputs change.

The orchestration between storage (:mod:`geo.store.coverage`: rows and WGS84 geometries) and the pure
geometry (:mod:`geo.coverage`: metres). Everything is computed in the deployment's metric CRS
(``metric_crs``, the setting ``GRIDMAP_METRIC_CRS``; :func:`geo.crs.require_metric` refuses one that is
not in metres) and stored in WGS84. A view is stored with a digest of its inputs (the camera's
parameters and the footprints near it, in metres), so ``gridmap coverage recompute`` finds stale views
without recomputing the others (another metric CRS changes every digest, so it recomputes them all).
Per-grid coverage and gap polygons are stored for the published plan's grid geometries (keyed by
``grid.geom_key``); a camera change recomputes the camera's view and the grids its old and new views
touch, in the same transaction as the change (:func:`on_cameras_changed`), and a publish computes the
new plan's changed grids only (:func:`on_plan_published`): its unchanged ones share their stored rows.
Both are callbacks with the signature their caller (:mod:`geo.cameras`, :func:`geo.plans.publish`)
expects once ``metric_crs`` is bound (``functools.partial``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import shapely
from shapely import STRtree
from sqlalchemy import Connection, Engine

from geo import coverage as cov
from geo.budgets import Budgets
from geo.coverage.parallel import thread_count
from geo.crs import METRIC_CRS_DEFAULT, from_metric, from_wgs84, require_metric, to_metric, to_wgs84
from geo.errors import BadInput
from geo.store import coverage as stored
from geo.store.boxes import Box
from geo.store.writebehind import WriteBehind

__all__ = [
    "RAYS_PER_DEGREE",
    "grid_bearings",
    "key_places",
    "on_cameras_changed",
    "on_plan_published",
    "recompute_all",
    "recompute_grid_coverage",
    "recompute_views",
    "suggest_sites",
    "summary",
]

Progress = Callable[[str, int, int], None]
#: Evenly spaced rays per degree of the stored views (geo.coverage.visibility adds corner rays).
RAYS_PER_DEGREE = 2.0
#: Grids whose coverage rows and gap polygons are written in one batch.
WRITE_BATCH = 200
#: Cameras per chunk of a recompute (one progress step each).
CHUNK = 2000


def _noop(stage: str, done: int, total: int) -> None:
    return None


def _metric(geoms: Any, crs: str) -> Any:
    """WGS84 geometries (an array, maybe empty) in the metric CRS."""
    return to_metric(geoms, crs=crs) if len(geoms) else np.array([], dtype=object)


def _buildings(conn: Connection, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Building ids and footprints in metres, in id order."""
    ids, geoms = stored.buildings(conn)
    return ids, np.asarray(_metric(geoms, crs), dtype=object)


def grid_bearings(lon: np.ndarray, lat: np.ndarray, bearing_deg: np.ndarray, *, src: str, dst: str) -> np.ndarray:
    """Bearings measured from the grid north of ``src`` at WGS84 points, as bearings from the grid north of ``dst``.

    A stored camera azimuth is a bearing from the grid north of :data:`geo.crs.METRIC_CRS_DEFAULT`
    (the demo data's convention, geo/demo/model.py AUTHORING_CRS; about 0.6° from true north at Gaoshan). Another metric
    CRS has its grid north elsewhere (EPSG:32649's is 1.9° from it at Gaoshan: its meridian convergence
    differs), so a view cast in it must turn each camera by that much, or the town's coverage would
    depend on the CRS it is computed in. The direction is carried by a 1 m step along it, projected
    through WGS84 into ``dst``. ``src == dst`` returns the bearings unchanged (not recomputed).

    Examples
    --------
    >>> b = grid_bearings(np.array([113.1]), np.array([40.05]), np.array([0.0]), src=METRIC_CRS_DEFAULT,
    ...                   dst="EPSG:32649")
    >>> round(float(b[0]), 2)
    358.07
    """
    bearing = np.asarray(bearing_deg, dtype=float)
    if src == dst:
        return bearing
    x, y = from_wgs84(lon, lat, crs=src)
    a = np.radians(bearing)
    lon1, lat1 = to_wgs84(x + np.sin(a), y + np.cos(a), crs=src)
    x0, y0 = from_wgs84(lon, lat, crs=dst)
    x1, y1 = from_wgs84(lon1, lat1, crs=dst)
    out = np.mod(np.degrees(np.arctan2(x1 - x0, y1 - y0)), 360.0)
    return np.where(out >= 360.0, 0.0, out)  # a tiny negative angle mod 360 rounds to 360


def _specs(rows: Sequence[Any], building_ids: np.ndarray, crs: str) -> list[cov.CameraSpec]:
    if not rows:
        return []
    lon, lat = np.array([r.lon for r in rows]), np.array([r.lat for r in rows])
    x, y = from_wgs84(lon, lat, crs=crs)
    azimuths = [r.azimuth_deg for r in rows]
    if crs != METRIC_CRS_DEFAULT:
        azimuths = list(grid_bearings(lon, lat, np.array(azimuths, dtype=float), src=METRIC_CRS_DEFAULT, dst=crs))
    position = {int(b): i for i, b in enumerate(building_ids)}
    return [cov.CameraSpec(x=float(xi), y=float(yi), azimuth_deg=az, hfov_deg=r.hfov_deg,
                           range_m=r.range_m, resolution_px=r.resolution_px, kind=r.kind, mount=r.mount,
                           height_m=r.height_m, building_index=position.get(r.building_id), status=r.status)
            for r, xi, yi, az in zip(rows, x, y, azimuths)]


def _footprint_wkbs(footprints: np.ndarray, indices: np.ndarray, known: dict[int, bytes]) -> None:
    """Add to ``known`` the footprints ``indices`` as a view's digest reads them: WKB on a 1 mm grid.
    Each footprint is made once per recompute, and only if a camera sees it (made per camera, a city's
    digests cost ~13 s; made for every footprint, a one-camera change would cost ~2.7 s)."""
    missing = np.array(sorted({int(i) for i in indices} - known.keys()), dtype=np.int64)
    if missing.size:
        known.update(zip(missing.tolist(), shapely.to_wkb(shapely.set_precision(footprints[missing], 0.001))))


def _digest(spec: cov.CameraSpec, nearby: Sequence[bytes]) -> str:
    """What a view depends on: the camera's parameters and the footprints within its range (their
    :func:`_footprint_wkbs`, in id order)."""
    h = hashlib.sha1(json.dumps([spec.x, spec.y, spec.azimuth_deg, spec.hfov_deg, spec.range_m,
                                 spec.resolution_px, spec.kind, spec.mount, spec.building_index,
                                 RAYS_PER_DEGREE]).encode())
    for wkb in nearby:
        h.update(wkb)
    return h.hexdigest()


def recompute_views(conn: Connection, *, camera_ids: Sequence[int] | None = None, force: bool = False,
                    progress: Progress | None = None, metric_crs: str = METRIC_CRS_DEFAULT,
                    online: list[Any] | None = None) -> dict[str, int]:
    """Recompute the stored views of ``camera_ids`` (all when None) whose inputs changed; the metric views
    cast for online cameras are appended to ``online`` when given (a forced recompute hands them to the
    grid stage rather than reading them back and reprojecting them, ~6 s at city scale)."""
    crs = require_metric(metric_crs)
    progress = progress or _noop
    building_ids, footprints = _buildings(conn, crs)
    tree = STRtree(footprints) if len(footprints) else None
    obstacles = cov.Obstacles(footprints) if len(footprints) else None  # built once for every chunk
    wkbs: dict[int, bytes] = {}  # footprint index -> its digest's WKB, made as cameras need them
    rows = stored.camera_rows(conn, camera_ids=camera_ids)
    inputs = stored.view_inputs(conn)
    total, computed, skipped = len(rows), 0, 0
    with WriteBehind() as writes:  # a chunk is stored while the next is cast; no other use of conn below
        for start in range(0, total, CHUNK):
            computed_now, skipped_now = _views_chunk(
                conn, writes, rows[start:start + CHUNK], building_ids=building_ids, footprints=footprints,
                tree=tree, obstacles=obstacles, wkbs=wkbs, inputs=inputs, force=force, crs=crs, online=online)
            computed, skipped = computed + computed_now, skipped + skipped_now
            progress("camera views", min(start + CHUNK, total), total)
    return {"computed": computed, "unchanged": skipped}


def _views_chunk(conn: Connection, writes: WriteBehind, chunk: Sequence[Any], *, building_ids: np.ndarray,
                 footprints: np.ndarray, tree: STRtree | None, obstacles: Any, wkbs: dict[int, bytes],
                 inputs: dict[int, str], force: bool, crs: str, online: list[Any] | None) -> tuple[int, int]:
    """Cast the stale views of one chunk of cameras and queue their storing; (computed, unchanged)."""
    specs = _specs(chunk, building_ids, crs)
    ranges = [cov.effective_range(s) for s in specs]
    near: list[list[int]] = [[] for _ in specs]
    if tree is not None and specs:
        cam_idx, fp_idx = tree.query(shapely.points([s.x for s in specs], [s.y for s in specs]),
                                     predicate="dwithin", distance=np.array([r for r, _ in ranges]))
        for c, f in zip(cam_idx, fp_idx):
            near[c].append(int(f))
        _footprint_wkbs(footprints, fp_idx, wkbs)
    digests = [_digest(s, [wkbs[f] for f in sorted(n)]) for s, n in zip(specs, near)]
    todo = [i for i, (row, d) in enumerate(zip(chunk, digests)) if force or inputs.get(row.id) != d]
    if todo:
        views = cov.visible_views([specs[i] for i in todo], obstacles=obstacles, rays_per_degree=RAYS_PER_DEGREE)

        def store() -> None:  # in the writer's thread: reprojection and repairs run beside the next chunk's casting
            wgs = stored.storable_many(from_metric(np.asarray(views, dtype=object), crs=crs))
            stored.upsert_views(conn, [
                {"camera_id": chunk[i].id, "geom": g, "area_m2": float(area), "range_m": float(ranges[i][0]),
                 "range_level": ranges[i][1], "rays_per_degree": RAYS_PER_DEGREE, "inputs": digests[i]}
                for i, g, area in zip(todo, wgs, shapely.area(views))])

        writes.submit(store)
        if online is not None:
            online.extend(v for i, v in zip(todo, views) if chunk[i].status == "online")
    return len(todo), len(chunk) - len(todo)


def _gap_rows(holes: Sequence[tuple[bytes, Any]], crs: str) -> list[dict[str, Any]]:
    """The coverage_gap rows of metric gap polygons ``(grid geometry key, polygon)``: reprojected and made storable
    as one array each (a city has ~43,000 gaps); a polygon that had to split shares its area by part."""
    if not holes:
        return []
    wgs = stored.storable_many(from_metric(np.array([h for _, h in holes], dtype=object), crs=crs))
    rows = []
    for (key, hole), g in zip(holes, wgs):
        parts = [p for p in getattr(g, "geoms", [g]) if p.geom_type == "Polygon" and not p.is_empty]
        for part in parts:  # usually one; the area is the metric hole's, shared if it had to split
            rows.append({"key": key, "geom": part, "area_m2": float(hole.area) if len(parts) == 1
                         else float(to_metric(part, crs=crs).area)})
    return rows


def recompute_grid_coverage(conn: Connection, *, grid_ids: Sequence[int] | None = None,
                            progress: Progress | None = None, min_gap_m2: float = 1.0,
                            metric_crs: str = METRIC_CRS_DEFAULT, views: Sequence[Any] | None = None) -> int:
    """Per-grid coverage of the published plan (or of ``grid_ids``): stats and gap polygons.

    The online views that reach the grids are unioned once; each grid then takes the
    union clipped to its bounding box, and its gaps are its watchable space minus
    that. Covered area is watchable minus gaps, so covered + gaps = watchable exactly.
    ``views`` (metres): every online camera's view, already at hand (a forced recompute); else they are
    read from the database.
    """
    crs = require_metric(metric_crs)
    progress = progress or _noop
    plan = stored.published_plan(conn)
    grids = stored.plan_grids(conn, plan_id=plan, grid_ids=grid_ids)
    if not grids:
        return 0
    areas = to_metric(np.array([g for _, g in grids], dtype=object), crs=crs)
    _, footprints = _buildings(conn, crs)
    tree = STRtree(footprints) if len(footprints) else None
    extent = shapely.to_wkb(from_metric(shapely.box(*shapely.total_bounds(areas)), crs=crs))
    if views is None:
        views = _metric(stored.online_views(conn, envelope_wkb=extent), crs)
    views = np.asarray(views, dtype=object)
    covered = cov.coverage(views) if len(views) else shapely.MultiPolygon()
    # The union's parts are disjoint: a grid needs only those that meet its box (found in a tree, not by
    # clipping the whole union per grid, which made a city's 6,087 grids cost ~0.1 s each).
    pieces = np.asarray(shapely.get_parts(covered), dtype=object)
    pieces_tree = STRtree(pieces) if len(pieces) else None
    if grid_ids is None:  # the whole plan: no row of another shape stays behind
        stored.forget_coverage_outside(conn, plan_id=plan)
    stored.delete_gaps(conn, keys=[k for k, _ in grids])
    holes_of_batch: list[tuple[bytes, Any]] = []  # (grid geometry key, metric gap polygon)
    grid_rows: list[dict[str, Any]] = []

    def store(holes: list[tuple[bytes, Any]], rows: list[dict[str, Any]]) -> None:  # in the writer's thread
        stored.insert_gaps(conn, _gap_rows(holes, crs))
        stored.upsert_grid_coverages(conn, rows)

    def one(i: int) -> tuple[dict[str, Any], list[tuple[bytes, Any]]]:
        return _grid_row(grids[i][0], areas[i], footprints=footprints, tree=tree, pieces=pieces,
                         pieces_tree=pieces_tree, min_gap_m2=min_gap_m2)

    # Grids are computed two (one per CPU) at a time: GEOS releases the GIL, and one grid's differences are
    # too small to split. A batch is stored (writer thread) while the next is computed; no other use of conn.
    with WriteBehind() as writes, ThreadPoolExecutor(max_workers=thread_count(None, len(grids))) as pool:
        for start in range(0, len(grids), WRITE_BATCH):  # one round trip per batch, not per row
            for row, holes in pool.map(one, range(start, min(start + WRITE_BATCH, len(grids)))):
                grid_rows.append(row)
                holes_of_batch.extend(holes)
            writes.submit(store, holes_of_batch, grid_rows)
            holes_of_batch, grid_rows = [], []
            progress("grid coverage", min(start + WRITE_BATCH, len(grids)), len(grids))
    return len(grids)


def _grid_row(key: bytes, area: Any, *, footprints: np.ndarray, tree: STRtree | None, pieces: np.ndarray,
              pieces_tree: STRtree | None, min_gap_m2: float) -> tuple[dict[str, Any], list[tuple[bytes, Any]]]:
    """One grid's coverage row and its gap polygons (metres, at least ``min_gap_m2``)."""
    obstacles = footprints[tree.query(area)] if tree is not None else footprints
    watch = cov.watchable(area, obstacles, workers=1) if len(obstacles) else area  # grids run in threads
    near = pieces[pieces_tree.query(shapely.box(*area.bounds))] if pieces_tree is not None else pieces
    found = cov.gaps(watch, shapely.MultiPolygon(list(near)), workers=1)
    watch_m2 = float(watch.area)
    gap_m2 = float(sum(h.area for h in found))
    big = [h for h in found if h.area >= min_gap_m2]
    return ({"key": key, "watchable_m2": watch_m2, "covered_m2": watch_m2 - gap_m2,
             "ratio": (watch_m2 - gap_m2) / watch_m2 if watch_m2 else 0.0,
             "largest_gap_m2": float(big[0].area) if big else 0.0, "gap_count": len(big)},
            [(key, hole) for hole in big])


def recompute_all(engine: Engine, *, force: bool = False, progress: Progress | None = None,
                  metric_crs: str = METRIC_CRS_DEFAULT) -> dict[str, int]:
    """Stale views (every view with ``force``), then every grid of the published plan, in one transaction."""
    with engine.begin() as conn:
        online: list[Any] | None = [] if force else None  # forced: every online view is cast here
        counts = recompute_views(conn, force=force, progress=progress, metric_crs=metric_crs, online=online)
        counts["grids"] = recompute_grid_coverage(conn, progress=progress, metric_crs=metric_crs, views=online)
    return counts


def on_cameras_changed(conn: Connection, camera_ids: Sequence[int], *, deleting: bool = False,
                       metric_crs: str = METRIC_CRS_DEFAULT) -> None:
    """Keep stored views and grid coverage in step with a camera change (same transaction)."""
    touched = stored.grids_seen_by_views(conn, camera_ids=camera_ids)
    if deleting:
        stored.delete_views(conn, camera_ids=camera_ids)
    else:
        recompute_views(conn, camera_ids=camera_ids, metric_crs=metric_crs)
        touched |= stored.grids_seen_by_cameras(conn, camera_ids=camera_ids)
    if touched:
        recompute_grid_coverage(conn, grid_ids=sorted(touched), metric_crs=metric_crs)


def on_plan_published(conn: Connection, *, plan_id: int, previous: Sequence[int],
                      metric_crs: str = METRIC_CRS_DEFAULT) -> int:
    """Give the newly published plan's grids their coverage (same transaction as the publish).

    Stored coverage is keyed by a grid's geometry, so a grid the plan keeps unchanged (its
    parent's shape, byte for byte) has its rows already: nothing is copied. The rows of the
    shapes the plan no longer has are removed and the plan's new shapes computed. Returns the
    number recomputed. ``previous`` (the plans it replaces) is part of the hook's signature
    (:func:`geo.plans.publish`) and not needed here.
    """
    stored.forget_coverage_outside(conn, plan_id=plan_id)
    todo = stored.grids_without_coverage(conn, plan_id=plan_id)
    if todo and stored.any_views(conn):
        recompute_grid_coverage(conn, grid_ids=todo, metric_crs=metric_crs)
    return len(todo)


def summary(conn: Connection, *, metric_crs: str = METRIC_CRS_DEFAULT, bbox: Box | None = None,
            grids: bool = True, key_places: bool = True, communities: bool = False) -> dict[str, Any]:
    """Per-grid coverage of the published plan, town totals, and key places' coverage.

    With *bbox* (lon/lat: a map's view of a city) only the grids and key places touching the box are
    listed (and only the camera views touching it are read); the town totals stay the whole town's.
    A key place's coverage is computed on request from the views (a city's ~100,000 take ~25 s, the
    reason a map of a city asks by view). *grids* / *key_places* false leave that list out (None);
    *communities* adds each community's sums (:func:`geo.store.coverage.community_coverage_rows`)."""
    plan = stored.published_plan(conn)
    grid_rows = stored.grid_coverage_rows(conn, plan_id=plan, bbox=bbox) if grids else None
    watch, covered, computed, count = stored.coverage_totals(conn, plan_id=plan)
    cams = stored.camera_status_counts(conn)
    return {"plan_id": plan, "bbox": list(bbox) if bbox else None,
            "town": {"watchable_m2": watch, "covered_m2": covered, "ratio": covered / watch if watch else None,
                     "grids_computed": computed, "grids": count, "cameras": cams},
            "grids": grid_rows,
            "key_places": key_place_coverage(conn, metric_crs=metric_crs, bbox=bbox) if key_places else None,
            "communities": stored.community_coverage_rows(conn, plan_id=plan, bbox=bbox) if communities else None}


def key_place_coverage(conn: Connection, *, metric_crs: str = METRIC_CRS_DEFAULT,
                       bbox: Box | None = None) -> list[dict[str, Any]]:
    """Each key place (touching *bbox* when given): covered or not, by which online cameras, and the best
    DORI level any of them gets."""
    crs = require_metric(metric_crs)
    places = stored.key_place_rows(conn, bbox=bbox)
    if not places:
        return []
    if bbox is not None:  # every view that touches one of these places (some reach out of the box)
        reach = shapely.total_bounds(shapely.from_wkb([bytes(p[3]) for p in places]))
        bbox = (float(reach[0]), float(reach[1]), float(reach[2]), float(reach[3]))
    cams = stored.online_camera_views(conn, bbox=bbox)
    specs = _specs(cams, np.array([], dtype=np.int64), crs)
    views = to_metric(shapely.from_wkb([bytes(c.view) for c in cams]), crs=crs) if cams \
        else np.array([], dtype=object)
    tree = STRtree(views) if len(views) else None
    out = []
    for pid, kind, name, wkb in places:
        place = to_metric(shapely.from_wkb(bytes(wkb)), crs=crs)
        idx = np.sort(tree.query(place)) if tree is not None else np.array([], dtype=int)
        result = cov.key_place_coverage(place=place, specs=[specs[i] for i in idx], views=views[idx])
        result["cameras"] = [cams[idx[i]].code for i in result["cameras"]]
        out.append({"id": pid, "kind": kind, "name": name, **result})
    return out


def suggest_sites(conn: Connection, *, k: int, grid_code: str | None = None, hfov_deg: float = 90.0,
                  range_m: float = 40.0, budgets: Budgets | None = None,
                  metric_crs: str = METRIC_CRS_DEFAULT) -> dict[str, Any]:
    """Greedy maximal-covering suggestion of ``k`` new cameras, existing coverage fixed, weighted by the
    last 12 months of incidents; ``budgets`` (geo/budgets.py) refuses too much work before any view is cast."""
    if not 1 <= k <= 50:
        raise BadInput(f"k={k} must be between 1 and 50")
    crs = require_metric(metric_crs)
    plan = stored.published_plan(conn)
    wkb = stored.grid_geometry(conn, plan_id=plan, code=grid_code) if grid_code else stored.town_geometry(conn)
    area = to_metric(shapely.from_wkb(wkb), crs=crs)
    building_ids, footprints = _buildings(conn, crs)
    tree = STRtree(footprints)
    near = np.sort(tree.query(area.buffer(range_m)))
    obstacles = footprints[near]
    roads = stored.roads_meeting(conn, wkb=wkb)
    road_geoms = list(to_metric(roads, crs=crs)) if len(roads) else None
    views = _metric(stored.online_views(conn, envelope_wkb=wkb), crs)
    covered = cov.coverage(views) if len(views) else shapely.Polygon()
    pts = stored.recent_incident_points(conn, wkb=wkb)
    weights = np.column_stack(from_wgs84(pts[:, 0], pts[:, 1], crs=crs)) if len(pts) else None
    candidates = cov.candidate_sites(obstacles=obstacles, roads=road_geoms, area=area)
    watch = cov.watchable(area, obstacles)
    picks = cov.suggest(k=k, candidates=candidates, obstacles=obstacles, covered=covered, watchable=watch,
                        weights=weights, hfov_deg=hfov_deg, range_m=range_m, budgets=budgets)
    features = []
    for n, s in enumerate(picks, start=1):
        lon, lat = to_wgs84(s.x, s.y, crs=crs)
        b = s.building_index
        azimuth = s.azimuth_deg if crs == METRIC_CRS_DEFAULT else float(grid_bearings(
            np.array([lon]), np.array([lat]), np.array([s.azimuth_deg]), src=crs, dst=METRIC_CRS_DEFAULT)[0])
        features.append({"type": "Feature", "id": n, "geometry": {"type": "Point", "coordinates": [lon, lat]},
                         "properties": {"id": n, "rank": n, "mount": s.mount, "azimuth_deg": round(azimuth, 1),
                                        "hfov_deg": hfov_deg, "range_m": range_m,
                                        "building_id": int(building_ids[near[b]]) if b is not None else None,
                                        "added_m2": round(s.added_m2, 1), "added_incidents": s.added_incidents,
                                        "view": json.loads(shapely.to_geojson(from_metric(s.view, crs=crs)))}})
    # where each site is, in words: the building it is mounted on (a wall) or the nearest one (a pole)
    near_buildings = stored.nearest_buildings(conn, [tuple(f["geometry"]["coordinates"]) for f in features])
    for f, building in zip(features, near_buildings):
        f["properties"]["building"] = building
    return {"type": "FeatureCollection", "features": features, "k": k, "grid": grid_code,
            "watchable_m2": float(watch.area), "covered_m2_before": float(covered.intersection(watch).area),
            "method": "greedy maximal covering (gain = newly covered watchable m² + incidents × "
                      "incident_weight_m2), existing online cameras fixed"}
