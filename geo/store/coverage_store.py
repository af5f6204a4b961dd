"""Camera views and coverage, stored in PostGIS and recomputed when their inputs change.

Views are computed in metres (EPSG:4547) by :mod:`geo.coverage` and stored in WGS84
in ``camera_view`` with a digest of their inputs (the camera's parameters and the
footprints near it), so ``gridmap coverage recompute`` finds stale views without
recomputing the others. Per-grid coverage (``grid_coverage``) and gap polygons
(``coverage_gap``) are stored for the published plan; a camera change recomputes
the camera's view and the grids its old and new views touch, in the same
transaction as the change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import shapely
from shapely.errors import GEOSException
from shapely import STRtree
from sqlalchemy import Connection, Engine, text

from geo import coverage as cov
from geo.budgets import Budgets
from geo.crs import METRIC_CRS_DEFAULT, transformer
from geo.errors import BadInput, NotFound

Progress = Callable[[str, int, int], None]
RAYS_PER_DEGREE = 2.0
CHUNK = 2000


def _noop(stage: str, done: int, total: int) -> None:
    return None


def to_metric(geoms: Any) -> Any:
    t = transformer("EPSG:4326", METRIC_CRS_DEFAULT)
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def to_wgs84(geoms: Any) -> Any:
    t = transformer(METRIC_CRS_DEFAULT, "EPSG:4326")
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def _buildings(conn: Connection) -> tuple[np.ndarray, np.ndarray]:
    """Building ids and footprints in metres, in id order."""
    rows = conn.execute(text("SELECT id, ST_AsBinary(geom) FROM building ORDER BY id")).all()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    geoms = to_metric(shapely.from_wkb([bytes(r[1]) for r in rows])) if rows else np.array([], dtype=object)
    return ids, np.asarray(geoms, dtype=object)


def _camera_rows(conn: Connection, camera_ids: Sequence[int] | None) -> list[Any]:
    return conn.execute(text(
        "SELECT id, ST_X(geom) AS lon, ST_Y(geom) AS lat, azimuth_deg, hfov_deg, range_m, resolution_px, kind, "
        "mount, height_m, building_id, status FROM camera "
        "WHERE CAST(:ids AS int[]) IS NULL OR id = ANY(:ids) ORDER BY id"),
        {"ids": list(camera_ids) if camera_ids is not None else None}).all()


def _specs(rows: Sequence[Any], building_ids: np.ndarray) -> list[cov.CameraSpec]:
    if not rows:
        return []
    t = transformer("EPSG:4326", METRIC_CRS_DEFAULT)
    x, y = t.transform(np.array([r.lon for r in rows]), np.array([r.lat for r in rows]))
    position = {int(b): i for i, b in enumerate(building_ids)}
    return [cov.CameraSpec(x=float(xi), y=float(yi), azimuth_deg=r.azimuth_deg, hfov_deg=r.hfov_deg,
                           range_m=r.range_m, resolution_px=r.resolution_px, kind=r.kind, mount=r.mount,
                           height_m=r.height_m, building_index=position.get(r.building_id), status=r.status)
            for r, xi, yi in zip(rows, x, y)]


def _digest(spec: cov.CameraSpec, nearby: np.ndarray) -> str:
    """What a view depends on: the camera's parameters and the footprints within its range."""
    h = hashlib.sha1(json.dumps([spec.x, spec.y, spec.azimuth_deg, spec.hfov_deg, spec.range_m,
                                 spec.resolution_px, spec.kind, spec.mount, spec.building_index,
                                 RAYS_PER_DEGREE]).encode())
    for wkb in shapely.to_wkb(shapely.set_precision(nearby, 0.001)) if len(nearby) else []:
        h.update(wkb)
    return h.hexdigest()


def recompute_views(conn: Connection, *, camera_ids: Sequence[int] | None = None, force: bool = False,
                    progress: Progress | None = None) -> dict[str, int]:
    """Recompute the stored views of ``camera_ids`` (all when None) whose inputs changed."""
    progress = progress or _noop
    building_ids, footprints = _buildings(conn)
    tree = STRtree(footprints) if len(footprints) else None
    obstacles = cov.Obstacles(footprints) if len(footprints) else None  # built once for every chunk
    rows = _camera_rows(conn, camera_ids)
    stored = dict(conn.execute(text("SELECT camera_id, inputs FROM camera_view")).all())
    total, computed, skipped = len(rows), 0, 0
    for start in range(0, total, CHUNK):
        chunk = rows[start:start + CHUNK]
        specs = _specs(chunk, building_ids)
        ranges = [cov.effective_range(s) for s in specs]
        near: list[list[int]] = [[] for _ in specs]
        if tree is not None and specs:
            cam_idx, fp_idx = tree.query(shapely.points([s.x for s in specs], [s.y for s in specs]),
                                         predicate="dwithin", distance=np.array([r for r, _ in ranges]))
            for c, f in zip(cam_idx, fp_idx):
                near[c].append(int(f))
        digests = [_digest(s, footprints[np.sort(n)] if n else np.array([], dtype=object))
                   for s, n in zip(specs, near)]
        todo = [i for i, (row, d) in enumerate(zip(chunk, digests)) if force or stored.get(row.id) != d]
        if todo:
            views = cov.visible_views([specs[i] for i in todo], obstacles=obstacles,
                                      rays_per_degree=RAYS_PER_DEGREE)
            areas = shapely.area(views)
            wgs = to_wgs84(np.asarray(views, dtype=object))
            wgs = shapely.make_valid(shapely.set_precision(wgs, 1e-9))
            for i, g, area in zip(todo, wgs, areas):
                conn.execute(text("""
                    INSERT INTO camera_view (camera_id, geom, area_m2, range_m, range_level, rays_per_degree, inputs)
                    VALUES (:id, ST_GeomFromWKB(:g, 4326), :a, :r, :lvl, :rpd, :d)
                    ON CONFLICT (camera_id) DO UPDATE SET geom = EXCLUDED.geom, area_m2 = EXCLUDED.area_m2,
                      range_m = EXCLUDED.range_m, range_level = EXCLUDED.range_level,
                      rays_per_degree = EXCLUDED.rays_per_degree, inputs = EXCLUDED.inputs, computed_at = now()"""),
                    {"id": chunk[i].id, "g": shapely.to_wkb(g), "a": float(area), "r": float(ranges[i][0]),
                     "lvl": ranges[i][1], "rpd": RAYS_PER_DEGREE, "d": digests[i]})
            computed += len(todo)
        skipped += len(chunk) - len(todo)
        progress("camera views", min(start + CHUNK, total), total)
    return {"computed": computed, "unchanged": skipped}


def _published_plan(conn: Connection) -> int:
    plan = conn.execute(text("SELECT id FROM grid_plan WHERE status = 'published'")).scalar()
    if plan is None:
        raise NotFound("no plan is published yet: load data (`gridmap demo load`) or publish a plan")
    return plan


def _online_views(conn: Connection, envelope_wkb: bytes | None = None) -> np.ndarray:
    rows = conn.execute(text(
        "SELECT ST_AsBinary(v.geom) FROM camera_view v JOIN camera c ON c.id = v.camera_id "
        "WHERE c.status = 'online' AND (CAST(:env AS bytea) IS NULL OR v.geom && ST_GeomFromWKB(:env, 4326))"),
        {"env": envelope_wkb}).scalars().all()
    return to_metric(shapely.from_wkb([bytes(r) for r in rows])) if rows else np.array([], dtype=object)


def _storable(g: Any) -> Any:
    """A gap polygon reprojected to WGS84, made valid on a 1e-9° grid for the database's CHECK.

    Reprojection can leave a valid metric polygon slightly invalid (a hole touching its shell);
    ``set_precision`` on such input raises a GEOS TopologyException (seen once in the 6,087 grids of
    the city set), so it is repaired first.
    """
    g = shapely.make_valid(g)
    try:
        return shapely.make_valid(shapely.set_precision(g, 1e-9))
    except GEOSException:
        return g


def recompute_grid_coverage(conn: Connection, *, grid_ids: Sequence[int] | None = None,
                            progress: Progress | None = None, min_gap_m2: float = 1.0) -> int:
    """Per-grid coverage of the published plan (or of ``grid_ids``): stats and gap polygons.

    The online views that reach the grids are unioned once; each grid then takes the
    union clipped to its bounding box, and its gaps are its watchable space minus
    that. Covered area is watchable minus gaps, so covered + gaps = watchable exactly.
    """
    progress = progress or _noop
    plan = _published_plan(conn)
    grids = conn.execute(text(
        "SELECT id, ST_AsBinary(geom) FROM grid WHERE plan_id = :p "
        "AND (CAST(:ids AS int[]) IS NULL OR id = ANY(:ids)) ORDER BY id"),
        {"p": plan, "ids": list(grid_ids) if grid_ids is not None else None}).all()
    if not grids:
        return 0
    areas = to_metric(shapely.from_wkb([bytes(w) for _, w in grids]))
    _, footprints = _buildings(conn)
    tree = STRtree(footprints) if len(footprints) else None
    extent = shapely.to_wkb(to_wgs84(shapely.box(*shapely.total_bounds(areas))))
    views = _online_views(conn, extent)
    covered = cov.coverage(views) if len(views) else shapely.MultiPolygon()
    shapely.prepare(covered)
    conn.execute(text("DELETE FROM coverage_gap WHERE grid_id = ANY(:ids)"), {"ids": [g for g, _ in grids]})
    for n, ((grid_id, _), area) in enumerate(zip(grids, areas), start=1):
        obstacles = footprints[tree.query(area)] if tree is not None else footprints
        watch = cov.watchable(area, obstacles) if len(obstacles) else area
        local = shapely.clip_by_rect(covered, *area.bounds) if not covered.is_empty else covered
        holes = cov.gaps(watch, local)
        watch_m2 = float(watch.area)
        gap_m2 = float(sum(h.area for h in holes))
        big = [h for h in holes if h.area >= min_gap_m2]
        for hole in big:
            g = _storable(to_wgs84(hole))
            parts = [p for p in getattr(g, "geoms", [g]) if p.geom_type == "Polygon" and not p.is_empty]
            for part in parts:  # usually one; the area is the metric hole's, shared if it had to split
                conn.execute(text("INSERT INTO coverage_gap (grid_id, area_m2, geom) "
                                  "VALUES (:g, :a, ST_GeomFromWKB(:w, 4326))"),
                             {"g": grid_id, "a": float(hole.area) if len(parts) == 1 else float(to_metric(part).area),
                              "w": shapely.to_wkb(part)})
        conn.execute(text("""
            INSERT INTO grid_coverage (grid_id, watchable_m2, covered_m2, ratio, largest_gap_m2, gap_count)
            VALUES (:g, :w, :c, :r, :l, :n)
            ON CONFLICT (grid_id) DO UPDATE SET watchable_m2 = EXCLUDED.watchable_m2, covered_m2 = EXCLUDED.covered_m2,
              ratio = EXCLUDED.ratio, largest_gap_m2 = EXCLUDED.largest_gap_m2, gap_count = EXCLUDED.gap_count,
              computed_at = now()"""),
            {"g": grid_id, "w": watch_m2, "c": watch_m2 - gap_m2,
             "r": (watch_m2 - gap_m2) / watch_m2 if watch_m2 else 0.0,
             "l": float(big[0].area) if big else 0.0, "n": len(big)})
        progress("grid coverage", n, len(grids))
    return len(grids)


def recompute_all(engine: Engine, *, force: bool = False, progress: Progress | None = None) -> dict[str, int]:
    with engine.begin() as conn:
        counts = recompute_views(conn, force=force, progress=progress)
        counts["grids"] = recompute_grid_coverage(conn, progress=progress)
    return counts


def on_cameras_changed(conn: Connection, camera_ids: Sequence[int], *, deleting: bool = False) -> None:
    """Keep stored views and grid coverage in step with a camera change (same transaction)."""
    touched = set(conn.execute(text(
        "SELECT g.id FROM grid g JOIN grid_plan p ON p.id = g.plan_id AND p.status = 'published' "
        "JOIN camera_view v ON ST_Intersects(g.geom, v.geom) WHERE v.camera_id = ANY(:ids)"),
        {"ids": list(camera_ids)}).scalars())
    if deleting:
        conn.execute(text("DELETE FROM camera_view WHERE camera_id = ANY(:ids)"), {"ids": list(camera_ids)})
    else:
        recompute_views(conn, camera_ids=camera_ids)
        touched |= set(conn.execute(text(
            "SELECT g.id FROM grid g JOIN grid_plan p ON p.id = g.plan_id AND p.status = 'published' "
            "JOIN camera c ON true LEFT JOIN camera_view v ON v.camera_id = c.id "
            "WHERE c.id = ANY(:ids) AND ST_Intersects(g.geom, coalesce(v.geom, c.geom))"),
            {"ids": list(camera_ids)}).scalars())
    if touched:
        recompute_grid_coverage(conn, grid_ids=sorted(touched))


def view_feature(conn: Connection, *, camera_id: int) -> dict[str, Any]:
    row = conn.execute(text(
        "SELECT c.id, c.code, c.status, v.area_m2, v.range_m, v.range_level, v.rays_per_degree, v.computed_at, "
        "ST_AsGeoJSON(v.geom, 7) AS g FROM camera c LEFT JOIN camera_view v ON v.camera_id = c.id WHERE c.id = :id"),
        {"id": camera_id}).first()
    if row is None:
        raise NotFound(f"no camera with id {camera_id}: GET /v1/cameras lists them")
    if row.g is None:
        raise NotFound(f"camera {camera_id} has no computed view yet: run `gridmap coverage recompute`")
    return {"type": "Feature", "id": row.id, "geometry": json.loads(row.g), "properties": {
        "id": row.id, "camera_id": row.id, "code": row.code, "status": row.status, "area_m2": round(row.area_m2, 2),
        "range_m": row.range_m, "range_level": row.range_level, "rays_per_degree": row.rays_per_degree,
        "computed_at": row.computed_at.isoformat(), "counted": row.status == "online"}}


def summary(conn: Connection) -> dict[str, Any]:
    """Per-grid coverage of the published plan, town totals, and key places' coverage."""
    plan = _published_plan(conn)
    rows = conn.execute(text("""
        SELECT g.code, g.name, c.code AS community_code, gc.watchable_m2, gc.covered_m2, gc.ratio,
               gc.largest_gap_m2, gc.gap_count, gc.computed_at
        FROM grid g JOIN community c ON c.id = g.community_id LEFT JOIN grid_coverage gc ON gc.grid_id = g.id
        WHERE g.plan_id = :p ORDER BY g.code"""), {"p": plan}).all()
    grids = [{"code": r.code, "name": r.name, "community_code": r.community_code,
              "watchable_m2": r.watchable_m2, "covered_m2": r.covered_m2, "ratio": r.ratio,
              "largest_gap_m2": r.largest_gap_m2, "gap_count": r.gap_count,
              "computed_at": r.computed_at.isoformat() if r.computed_at else None} for r in rows]
    done = [g for g in grids if g["watchable_m2"] is not None]
    watch = sum(g["watchable_m2"] for g in done)
    covered = sum(g["covered_m2"] for g in done)
    cams = dict(conn.execute(text("SELECT status, count(*) FROM camera GROUP BY status")).all())
    return {"plan_id": plan, "town": {"watchable_m2": watch, "covered_m2": covered,
                                      "ratio": covered / watch if watch else None,
                                      "grids_computed": len(done), "grids": len(grids), "cameras": cams},
            "grids": grids, "key_places": key_places(conn)}


def key_places(conn: Connection) -> list[dict[str, Any]]:
    """Each key place: covered or not, by which online cameras, and the best DORI level any of them gets."""
    places = conn.execute(text("SELECT id, kind, name, ST_AsBinary(geom) FROM key_place ORDER BY id")).all()
    if not places:
        return []
    cams = conn.execute(text(
        "SELECT c.id, c.code, ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat, c.azimuth_deg, c.hfov_deg, c.range_m, "
        "c.resolution_px, c.kind, c.mount, c.height_m, c.building_id, c.status, ST_AsBinary(v.geom) AS view "
        "FROM camera c JOIN camera_view v ON v.camera_id = c.id WHERE c.status = 'online' ORDER BY c.id")).all()
    specs = _specs(cams, np.array([], dtype=np.int64))
    views = to_metric(shapely.from_wkb([bytes(c.view) for c in cams])) if cams else np.array([], dtype=object)
    tree = STRtree(views) if len(views) else None
    out = []
    for pid, kind, name, wkb in places:
        place = to_metric(shapely.from_wkb(bytes(wkb)))
        idx = np.sort(tree.query(place)) if tree is not None else np.array([], dtype=int)
        result = cov.key_place_coverage(place=place, specs=[specs[i] for i in idx], views=views[idx])
        result["cameras"] = [cams[idx[i]].code for i in result["cameras"]]
        out.append({"id": pid, "kind": kind, "name": name, **result})
    return out


def gaps_geojson(conn: Connection, *, grid_code: str | None = None) -> dict[str, Any]:
    plan = _published_plan(conn)
    rows = conn.execute(text(
        "SELECT cg.id, g.code, cg.area_m2, ST_AsGeoJSON(cg.geom, 7) AS g FROM coverage_gap cg "
        "JOIN grid g ON g.id = cg.grid_id WHERE g.plan_id = :p AND (CAST(:code AS text) IS NULL OR g.code = :code) "
        "ORDER BY cg.area_m2 DESC"), {"p": plan, "code": grid_code}).all()
    if grid_code and not rows and not conn.execute(text("SELECT 1 FROM grid WHERE plan_id = :p AND code = :c"),
                                                   {"p": plan, "c": grid_code}).first():
        raise NotFound(f"no grid {grid_code!r} in the published plan: GET /v1/grids lists the codes")
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": r.id, "geometry": json.loads(r.g),
         "properties": {"id": r.id, "grid_code": r.code, "area_m2": round(r.area_m2, 2)}} for r in rows]}


def suggest_sites(conn: Connection, *, k: int, grid_code: str | None = None, hfov_deg: float = 90.0,
                  range_m: float = 40.0, budgets: Budgets | None = None) -> dict[str, Any]:
    """Greedy maximal-covering suggestion of ``k`` new cameras, existing coverage fixed, weighted by the
    last 12 months of incidents; ``budgets`` (geo/budgets.py) refuses too much work before any view is cast."""
    if not 1 <= k <= 50:
        raise BadInput(f"k={k} must be between 1 and 50")
    plan = _published_plan(conn)
    if grid_code:
        wkb = conn.execute(text("SELECT ST_AsBinary(geom) FROM grid WHERE plan_id = :p AND code = :c"),
                           {"p": plan, "c": grid_code}).scalar()
        if wkb is None:
            raise NotFound(f"no grid {grid_code!r} in the published plan: GET /v1/grids lists the codes")
    else:
        wkb = conn.execute(text("SELECT ST_AsBinary(ST_Union(geom)) FROM community")).scalar()
    area = to_metric(shapely.from_wkb(bytes(wkb)))
    building_ids, footprints = _buildings(conn)
    tree = STRtree(footprints)
    near = np.sort(tree.query(area.buffer(range_m)))
    obstacles = footprints[near]
    roads = conn.execute(text("SELECT ST_AsBinary(geom) FROM road WHERE ST_Intersects(geom, ST_GeomFromWKB(:w, 4326))"),
                         {"w": bytes(wkb)}).scalars().all()
    road_geoms = list(to_metric(shapely.from_wkb([bytes(r) for r in roads]))) if roads else None
    views = _online_views(conn, bytes(wkb))
    covered = cov.coverage(views) if len(views) else shapely.Polygon()
    incidents = conn.execute(text(
        "SELECT ST_X(geom), ST_Y(geom) FROM incident WHERE voided_at IS NULL AND occurred_at >= now() - interval '365 days' "
        "AND ST_Intersects(geom, ST_GeomFromWKB(:w, 4326))"), {"w": bytes(wkb)}).all()
    t = transformer("EPSG:4326", METRIC_CRS_DEFAULT)
    pts = np.array(incidents, dtype=float).reshape(-1, 2)
    weights = np.column_stack(t.transform(pts[:, 0], pts[:, 1])) if len(pts) else None
    candidates = cov.candidate_sites(obstacles=obstacles, roads=road_geoms, area=area)
    watch = cov.watchable(area, obstacles)
    picks = cov.suggest(k=k, candidates=candidates, obstacles=obstacles, covered=covered, watchable=watch,
                        weights=weights, hfov_deg=hfov_deg, range_m=range_m, budgets=budgets)
    back = transformer(METRIC_CRS_DEFAULT, "EPSG:4326")
    features = []
    for n, s in enumerate(picks, start=1):
        lon, lat = back.transform(s.x, s.y)
        b = s.building_index
        features.append({"type": "Feature", "id": n, "geometry": {"type": "Point", "coordinates": [lon, lat]},
                         "properties": {"id": n, "rank": n, "mount": s.mount, "azimuth_deg": round(s.azimuth_deg, 1),
                                        "hfov_deg": hfov_deg, "range_m": range_m,
                                        "building_id": int(building_ids[near[b]]) if b is not None else None,
                                        "added_m2": round(s.added_m2, 1), "added_incidents": s.added_incidents,
                                        "view": json.loads(shapely.to_geojson(to_wgs84(s.view)))}})
    return {"type": "FeatureCollection", "features": features, "k": k, "grid": grid_code,
            "watchable_m2": float(watch.area), "covered_m2_before": float(covered.intersection(watch).area),
            "method": "greedy maximal covering (gain = newly covered watchable m² + incidents × "
                      "incident_weight_m2), existing online cameras fixed"}


def views_geojson(conn: Connection) -> dict[str, Any]:
    """Every camera's stored visible view (offline and faulty ones too, marked as not counted)."""
    rows = conn.execute(text(
        "SELECT c.id, c.code, c.name, c.kind, c.status, c.mount, v.area_m2, v.range_m, v.range_level, "
        "ST_AsGeoJSON(v.geom, 7) AS g FROM camera c JOIN camera_view v ON v.camera_id = c.id ORDER BY c.id")).all()
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": r.id, "geometry": json.loads(r.g),
         "properties": {"id": r.id, "camera_id": r.id, "code": r.code, "name": r.name, "kind": r.kind,
                        "status": r.status, "mount": r.mount, "area_m2": round(r.area_m2, 2), "range_m": r.range_m,
                        "range_level": r.range_level, "counted": r.status == "online"}} for r in rows]}


def on_plan_published(conn: Connection, *, plan_id: int, previous: Sequence[int]) -> int:
    """Give the newly published plan's grids their coverage (same transaction as the publish).

    A grid whose code and geometry are unchanged from the previous plan takes the
    stored figures and gap polygons over; the others are recomputed. Returns the
    number recomputed.
    """
    same = """
        SELECT n.id AS new_id, o.id AS old_id FROM grid n
        JOIN grid o ON o.plan_id = ANY(:old) AND o.code = n.code AND ST_Equals(o.geom, n.geom)
        WHERE n.plan_id = :new"""
    conn.execute(text(f"""
        INSERT INTO grid_coverage (grid_id, watchable_m2, covered_m2, ratio, largest_gap_m2, gap_count, computed_at)
        SELECT s.new_id, gc.watchable_m2, gc.covered_m2, gc.ratio, gc.largest_gap_m2, gc.gap_count, gc.computed_at
        FROM ({same}) s JOIN grid_coverage gc ON gc.grid_id = s.old_id
        ON CONFLICT (grid_id) DO NOTHING"""), {"new": plan_id, "old": list(previous)})
    conn.execute(text(f"""
        INSERT INTO coverage_gap (grid_id, area_m2, geom)
        SELECT s.new_id, g.area_m2, g.geom FROM ({same}) s JOIN coverage_gap g ON g.grid_id = s.old_id
        WHERE NOT EXISTS (SELECT 1 FROM coverage_gap x WHERE x.grid_id = s.new_id)"""),
        {"new": plan_id, "old": list(previous)})
    todo = conn.execute(text(
        "SELECT id FROM grid g WHERE plan_id = :p AND NOT EXISTS (SELECT 1 FROM grid_coverage c WHERE c.grid_id = g.id)"
    ), {"p": plan_id}).scalars().all()
    if todo and conn.execute(text("SELECT EXISTS (SELECT 1 FROM camera_view)")).scalar():
        recompute_grid_coverage(conn, grid_ids=todo)
    return len(todo)
