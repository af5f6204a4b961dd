"""The data set's files: GeoJSON (EPSG:4326, 8 decimals), CSV and town.json written from a
site (:func:`write_site`), and :func:`generate`, which builds and writes a town or a city."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import shapely
from pyproj import Transformer
from shapely import Point

from geo.demo.grids import largest_polygon
from geo.demo.incidents import (
    DESCRIPTIONS,
    INCIDENT_STATES,
    NOTES_ASSIST,
    PERIOD_START,
    SOURCES,
    SUBCATEGORIES,
    iso_local,
    local_seconds,
    simulate_incidents,
)
from geo.demo.model import AUTHORING_CRS, Building, Community, Progress, seeded_rng
from geo.demo.names import fake_names, fake_phones
from geo.demo.sites import (
    CITY_LONLAT,
    DISTRICT_CODE,
    TOWN_CADRES,
    TOWN_CODE,
    TOWN_LONLAT,
    Site,
    build_city,
    build_town,
    largest_remainder,
)

PLAN = {"name": "2026 年网格方案", "published_at": "2026-01-01T00:00:00+08:00"}


class _Wgs84:
    """AUTHORING_CRS (metres) -> EPSG:4326, rounded to 8 decimals, valid polygons, RFC 7946 winding."""

    def __init__(self) -> None:
        self.tr = Transformer.from_crs(AUTHORING_CRS, "EPSG:4326", always_xy=True)
        self.fixed = 0

    def xy(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lon, lat = self.tr.transform(np.asarray(x, float), np.asarray(y, float))
        return np.round(lon, 8), np.round(lat, 8)

    def geoms(self, geoms: Sequence[Any]) -> np.ndarray:
        arr = np.asarray(geoms, dtype=object)
        out = shapely.transform(arr, lambda c: np.column_stack(self.xy(c[:, 0], c[:, 1])))
        polys = shapely.get_type_id(out) == 3
        if polys.any():
            out[polys] = shapely.orient_polygons(out[polys])
            bad = np.flatnonzero(polys & ~shapely.is_valid(out))
            for i in bad:
                fixedg = largest_polygon(shapely.make_valid(out[i]))
                out[i] = shapely.orient_polygons(fixedg)
                self.fixed += 1
        return out


def _geometry(g: Any) -> dict[str, Any]:
    t = g.geom_type
    if t == "Point":
        return {"type": "Point", "coordinates": [g.x, g.y]}
    if t == "LineString":
        return {"type": "LineString", "coordinates": np.asarray(g.coords).tolist()}
    if t == "Polygon":
        return {"type": "Polygon", "coordinates": [np.asarray(g.exterior.coords).tolist()]
                + [np.asarray(r.coords).tolist() for r in g.interiors]}
    raise TypeError(t)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _write_fc(path: Path, feats: Iterable[tuple[str, dict[str, Any], Any]]) -> int:
    n = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write('{"type":"FeatureCollection","features":[\n')
        for fid, props, geom in feats:
            if n:
                fh.write(",\n")
            fh.write(_dumps({"type": "Feature", "id": fid, "properties": props, "geometry": _geometry(geom)}))
            n += 1
        fh.write("\n]}\n")
    return n


def _csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    n = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for row in rows:
            w.writerow(row)
            n += 1
    return n


def write_site(site: Site, out_dir: Path, *, seed: int, scale: str, town_meta: dict[str, Any],
           n_incidents: int, ref_prefix: str, rng: np.random.Generator, progress: Progress) -> dict[str, int]:
    out_dir.mkdir(parents=True, exist_ok=True)
    tr = _Wgs84()
    comms = site.communities
    counts: dict[str, int] = {}
    town = dict(town_meta, plan=PLAN, seed=seed, scale=scale)
    (out_dir / "town.json").write_text(json.dumps(town, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    counts["town.json"] = 1

    def grid_code(cm: Community, gi: int) -> str:
        return f"{cm.spec.code}{cm.grids[gi].number:03d}"

    def bcode(cm: Community, b: Building) -> str:
        return f"{cm.spec.code}-{b.number:02d}"

    geoms = tr.geoms([cm.polygon for cm in comms])
    counts["communities.geojson"] = _write_fc(out_dir / "communities.geojson", (
        (cm.spec.code, {"code": cm.spec.code, "name": cm.spec.name, "name_en": cm.spec.name_en,
                        "pinyin": cm.spec.pinyin, "aliases": list(cm.spec.aliases),
                        "buildings": len(cm.buildings), "households": cm.households,
                        "population": cm.population}, g)
        for cm, g in zip(comms, geoms)))

    def grid_feats() -> Iterable[tuple[str, dict[str, Any], Any]]:
        for cm in comms:
            gg = tr.geoms([g.polygon for g in cm.grids])
            for gi, (g, geom) in enumerate(zip(cm.grids, gg)):
                code = grid_code(cm, gi)
                yield code, {"code": code, "name": f"{cm.spec.name}第{g.number}网格",
                             "community_code": cm.spec.code, "households": g.households,
                             "population": g.population, "buildings": len(g.buildings)}, geom
    counts["grids.geojson"] = _write_fc(out_dir / "grids.geojson", grid_feats())

    def building_feats() -> Iterable[tuple[str, dict[str, Any], Any]]:
        for cm in comms:
            gg = tr.geoms([b.footprint for b in cm.buildings])
            for b, geom in zip(cm.buildings, gg):
                code = bcode(cm, b)
                yield code, {"code": code, "number": b.number, "name": b.name,
                             "address": f"{cm.spec.name}{b.name}", "community_code": cm.spec.code,
                             "grid_code": grid_code(cm, b.grid), "floors": b.floors, "height_m": b.height_m,
                             "units": b.units, "households": int(b.households.sum()),
                             "population": int(b.population.sum())}, geom
    counts["buildings.geojson"] = _write_fc(out_dir / "buildings.geojson", building_feats())
    progress("buildings", counts["buildings.geojson"], counts["buildings.geojson"])

    counts["units.csv"] = _csv(out_dir / "units.csv", ["building_code", "number", "households", "population"], (
        (bcode(cm, b), u + 1, int(b.households[u]), int(b.population[u]))
        for cm in comms for b in cm.buildings for u in range(b.units)))

    def road_feats() -> Iterable[tuple[str, dict[str, Any], Any]]:
        rows = [(None, r) for r in site.streets] + [(cm.spec.code, r) for cm in comms for r in cm.roads]
        gg = tr.geoms([r.geom for _, r in rows])
        for k, ((cc, r), geom) in enumerate(zip(rows, gg), start=1):
            yield f"road-{k}", {"name": r.name, "community_code": cc, "width_m": r.width_m, "kind": r.kind}, geom
    counts["roads.geojson"] = _write_fc(out_dir / "roads.geojson", road_feats())

    def place_feats() -> Iterable[tuple[str, dict[str, Any], Any]]:
        rows = [(cm.spec.code, p) for cm in comms for p in cm.places]
        gg = tr.geoms([p.geom for _, p in rows])
        for k, ((cc, p), geom) in enumerate(zip(rows, gg), start=1):
            yield f"place-{k}", {"kind": p.kind, "name": p.name, "community_code": cc}, geom
    counts["key_places.geojson"] = _write_fc(out_dir / "key_places.geojson", place_feats())

    # Cameras: GB/T 28181 ids = 8-digit centre code + 2-digit industry + 132 (IP camera) + 7-digit serial.
    allc = [(ci, cam) for ci, cm in enumerate(comms) for cam in cm.cameras]
    n_cam = len(allc)
    n_bad = int(round(n_cam * rng.uniform(0.025, 0.035)))
    bad = rng.choice(n_cam, size=n_bad, replace=False)
    for j, i in enumerate(bad):
        allc[i][1].status = "offline" if j % 5 < 3 else "fault"
    cx = np.array([cam.x for _, cam in allc])
    cy = np.array([cam.y for _, cam in allc])
    lon, lat = tr.xy(cx, cy)

    def cam_feats() -> Iterable[tuple[str, dict[str, Any], Any]]:
        for k, ((ci, cam), x, y) in enumerate(zip(allc, lon, lat), start=1):
            cm = comms[ci]
            centre = cm.spec.code[:6] + ("10" if scale == "town" else "00")
            code = f"{centre}{'01' if cam.mount != 'pole' or cam.kind != 'bullet' else '00'}132{k:07d}"
            b = cm.buildings[cam.building] if cam.building is not None else None
            yield code, {"code": code, "name": cam.name, "kind": cam.kind, "status": cam.status, "mount": cam.mount,
                         "height_m": cam.height_m, "azimuth_deg": cam.azimuth_deg, "hfov_deg": cam.hfov_deg,
                         "range_m": cam.range_m, "resolution_px": cam.resolution_px,
                         "community_code": cm.spec.code, "building_code": bcode(cm, b) if b is not None else None
                         }, Point(float(x), float(y))
    counts["cameras.geojson"] = _write_fc(out_dir / "cameras.geojson", cam_feats())
    progress("cameras", n_cam, n_cam)

    # Staff: cadres per community, a member per grid, a chief per building and per unit.
    cadres = (largest_remainder(TOWN_CADRES, [cm.population for cm in comms]) if scale == "town"
              else [int(rng.integers(5, 10)) for _ in comms])
    n_staff = sum(cadres) + sum(len(cm.grids) + len(cm.buildings) + sum(b.units for b in cm.buildings)
                                for cm in comms)
    names = iter(fake_names(rng, n_staff))
    phones = iter(fake_phones(rng, n_staff))
    member: dict[str, str] = {}
    chief: dict[str, str] = {}
    staff_rows = []
    for cm, nc in zip(comms, cadres):
        for _ in range(nc):
            staff_rows.append(("cadre", next(names), next(phones), cm.spec.code, "", "", ""))
        for gi in range(len(cm.grids)):
            nm = next(names)
            member[grid_code(cm, gi)] = nm
            staff_rows.append(("grid_member", nm, next(phones), cm.spec.code, grid_code(cm, gi), "", ""))
        for b in cm.buildings:
            nm = next(names)
            chief[bcode(cm, b)] = nm
            staff_rows.append(("building_chief", nm, next(phones), cm.spec.code, "", bcode(cm, b), ""))
        for b in cm.buildings:
            for u in range(1, b.units + 1):
                staff_rows.append(("unit_chief", next(names), next(phones), cm.spec.code, "", bcode(cm, b), u))
    counts["staff.csv"] = _csv(out_dir / "staff.csv", ["role", "name", "phone", "community_code", "grid_code",
                                                       "building_code", "unit_number"], staff_rows)
    del staff_rows

    # Incidents, written in chunks (a million at city scale).
    inc = simulate_incidents(site, n_incidents, rng, scale == "town", progress)
    n = len(inc["t_occ"])
    day_idx = (inc["t_occ"] - local_seconds(PERIOD_START)) // 86400
    seq = np.arange(n) - np.searchsorted(day_idx, day_idx, side="left") + 1
    near_b = _nearest_building(inc["xy"], inc["community"], comms)
    ks = inc["kernels"]
    tmpl_pick = rng.integers(0, 1000, n)
    suf_pick = rng.integers(0, 4, n)
    place_suffix = ("附近", "楼下", "北侧", "门前")
    cats = [c for c, *_ in SUBCATEGORIES]
    subs = [s for _, s, *_ in SUBCATEGORIES]
    tmpls = [DESCRIPTIONS[(c, s)] for c, s, *_ in SUBCATEGORIES]
    kname = [k.name if k.kind in ("market", "parking", "square") else None for k in ks]
    addresses = [[f"{cm.spec.name}{b.name}" for b in cm.buildings] for cm in comms]
    src_actor = {"patrol": "网格员巡查", "hotline": "12345热线", "camera": "视频巡查", "resident": "居民上报",
                 "building_chief": "楼长上报"}
    ev_header = ["incident_ref", "seq", "from_status", "to_status", "at", "actor", "note", "assignee"]
    town_scale = scale == "town"
    refs_all: list[str] = []
    with (out_dir / "incidents.csv").open("w", encoding="utf-8", newline="") as fh, \
            (out_dir / "incident_events.csv").open("w", encoding="utf-8", newline="") as fe:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["ref", "category", "subcategory", "source", "severity", "lon", "lat", "occurred_at", "status",
                    "description"])
        we = csv.writer(fe, lineterminator="\n")
        we.writerow(ev_header)
        step = 100_000
        for a in range(0, n, step):
            sl = slice(a, min(n, a + step))
            lon, lat = tr.xy(inc["xy"][sl, 0], inc["xy"][sl, 1])
            days = np.datetime_as_string(inc["t_occ"][sl].astype("datetime64[s]").astype("datetime64[D]"),
                                         unit="D")
            refs = [f"{ref_prefix}-{d[:4]}{d[5:7]}{d[8:]}-{q:04d}" for d, q in zip(days.tolist(), seq[sl].tolist())]
            occ_s = iso_local(inc["t_occ"][sl]).tolist()
            rep_s = iso_local(inc["t_rep"][sl]).tolist()
            descs = []
            for sub_i, comp_i, ci, bi, tp, sp in zip(inc["sub"][sl].tolist(), inc["comp"][sl].tolist(),
                                                     inc["community"][sl].tolist(), near_b[sl].tolist(),
                                                     tmpl_pick[sl].tolist(), suf_pick[sl].tolist()):
                addr = addresses[ci][bi]
                t = tmpls[sub_i]
                descs.append(t[tp % len(t)].format(b=addr, p=kname[comp_i] or addr + place_suffix[sp]))
            sub_l = inc["sub"][sl].tolist()
            src_l = inc["source"][sl].tolist()
            w.writerows(zip(refs, (cats[i] for i in sub_l), (subs[i] for i in sub_l), (SOURCES[i] for i in src_l),
                            inc["sev"][sl].tolist(), lon.tolist(), lat.tolist(), occ_s,
                            (INCIDENT_STATES[i] for i in inc["status"][sl].tolist()), descs))
            if town_scale:
                refs_all.extend(refs)
            else:  # city scale: only the first event of each incident
                we.writerows((r, 1, "", "reported", t, src_actor[SOURCES[i]], "", "")
                             for r, t, i in zip(refs, rep_s, src_l))
            progress("incidents", sl.stop, n)
        counts["incidents.csv"] = n
        if not town_scale:
            counts["incident_events.csv"] = n
            return counts

        # Town scale: the full history of every incident.
        gtree = shapely.STRtree(np.array([g.polygon for cm in comms for g in cm.grids], dtype=object))
        gcodes = [grid_code(cm, gi) for cm in comms for gi in range(len(cm.grids))]
        gq = gtree.query(shapely.points(inc["xy"]), predicate="intersects")
        inc_grid = np.full(n, -1)
        inc_grid[gq[0]] = gq[1]
        rep_s = iso_local(inc["t_rep"])
        step_s = [iso_local(inc["t_steps"][:, j]) for j in range(4)]
        end_s = iso_local(inc["t_end"])
        centre = "高山镇综治中心"
        last_ref: dict[tuple[int, int], str] = {}
        last_any: dict[int, str] = {}
        n_events = 0
        for i in range(n):
            sub_i = int(inc["sub"][i])
            cat = SUBCATEGORIES[sub_i][0]
            ci = int(inc["community"][i])
            cm, b = comms[ci], comms[ci].buildings[near_b[i]]
            gm = member[gcodes[inc_grid[i]]] if inc_grid[i] >= 0 else centre
            src = SOURCES[inc["source"][i]]
            actor = (f"网格员{gm}" if src == "patrol" else f"楼长{chief[bcode(cm, b)]}" if src == "building_chief"
                     else src_actor[src])
            ev = [(1, "", "reported", rep_s[i], actor, "", "")]
            st_i = int(inc["status"][i])
            if st_i >= 5:
                if st_i == 5:
                    note = "经核实不属于受理范围" if tmpl_pick[i] % 2 else "经核实情况不实"
                else:
                    prev = last_ref.get((sub_i, ci), last_any.get(sub_i))
                    note = f"与{prev}重复" if prev else "重复上报"
                ev.append((2, "reported", INCIDENT_STATES[st_i], end_s[i], centre, note, ""))
            else:
                notes = {
                    1: (centre, "已受理", ""),
                    2: (centre, "派单至网格员", gm),
                    3: (f"网格员{gm}", NOTES_ASSIST[cat][tmpl_pick[i] % len(NOTES_ASSIST[cat])], ""),
                    4: (f"网格员{gm}", "已办结，回访群众满意" if tmpl_pick[i] % 3 else "已处理完毕", ""),
                }
                for j in range(1, st_i + 1):
                    actor_j, note, asg = notes[j]
                    ev.append((j + 1, INCIDENT_STATES[j - 1], INCIDENT_STATES[j], step_s[j - 1][i], actor_j, note,
                               asg))
            we.writerows((refs_all[i],) + e for e in ev)
            n_events += len(ev)
            last_ref[(sub_i, ci)] = refs_all[i]
            last_any[sub_i] = refs_all[i]
        counts["incident_events.csv"] = n_events
    return counts


def _nearest_building(xy: np.ndarray, community: np.ndarray, comms: list[Community]) -> np.ndarray:
    """Index (within its community) of the building whose centroid is nearest each point."""
    out = np.zeros(len(xy), dtype=np.int64)
    order = np.argsort(community, kind="stable")
    bounds = np.searchsorted(community[order], np.arange(len(comms) + 1))
    for ci, cm in enumerate(comms):
        idx = order[bounds[ci]:bounds[ci + 1]]
        if not len(idx):
            continue
        cent = shapely.get_coordinates(shapely.centroid([b.footprint for b in cm.buildings]))
        for part in np.array_split(idx, max(1, len(idx) // 5000)):
            dx = xy[part, 0, None] - cent[None, :, 0]
            dy = xy[part, 1, None] - cent[None, :, 1]
            dx *= dx
            dy *= dy
            dx += dy
            out[part] = dx.argmin(axis=1)
    return out


def _centre_offset(site: Site, lonlat: tuple[float, float]) -> tuple[float, float]:
    tr = Transformer.from_crs("EPSG:4326", AUTHORING_CRS, always_xy=True)
    cx, cy = tr.transform(*lonlat)
    allb = shapely.union_all([cm.polygon.envelope for cm in site.communities])
    x0, y0, x1, y1 = allb.bounds
    return round(cx - (x0 + x1) / 2), round(cy - (y0 + y1) / 2)


def generate(*, seed: int = 1, scale: Literal["town", "city"] = "town", out_dir: Path,
             progress: Progress | None = None) -> dict[str, int]:
    """Write a demo data set into ``out_dir``; returns the number of records per file.

    Parameters
    ----------
    seed : int
        The same seed (and library versions) gives byte-identical files.
    scale : {"town", "city"}
        ``town``: Gaoshan Town as in the source — 4 communities, exactly 50 grids, 125
        buildings, 390 units, 32 cadres, 718–745 cameras, ~3,000 incidents with their full
        event history. ``city``: a Datong-sized set for benchmarks — 375 compounds (three
        in four 5–7-storey walk-up estates), about 6,000 grids, 60,000 buildings, 100,000
        cameras, 1,000,000 incidents; there ``incident_events.csv`` holds only the first
        ("reported") event of each incident, although ``incidents.csv`` still carries the
        simulated status.
    out_dir : Path
        Created if missing; existing files of the same names are replaced.
    progress : callable, optional
        ``progress(stage, done, total)``: per community and per 100,000 incidents.

    Files: ``town.json``, ``communities.geojson``, ``grids.geojson``,
    ``buildings.geojson``, ``units.csv``, ``roads.geojson``, ``key_places.geojson``,
    ``cameras.geojson``, ``staff.csv``, ``incidents.csv``, ``incident_events.csv``.
    """
    progress = progress or (lambda s, d, t: None)
    out_dir = Path(out_dir)
    if scale == "town":
        site = build_town(seed, progress)
        meta = {"code": TOWN_CODE, "name": "高山镇", "name_en": "Gaoshan Town", "district_code": DISTRICT_CODE,
                "district": "云冈区", "city": "大同市", "province": "山西省"}
        lonlat, n_inc, prefix = TOWN_LONLAT, int(seeded_rng([seed, 7]).integers(2950, 3051)), "GS"
    elif scale == "city":
        site = build_city(seed, progress)
        meta = {"code": "140200000", "name": "大同市城区（合成）", "name_en": "Datong (synthetic city scale)",
                "district_code": "140200", "district": "（多区）", "city": "大同市", "province": "山西省"}
        lonlat, n_inc, prefix = CITY_LONLAT, 1_000_000, "DT"
    else:
        raise ValueError(f"scale must be 'town' or 'city', not {scale!r}")
    dx, dy = _centre_offset(site, lonlat)
    for cm in site.communities:
        cm.translate(dx, dy)
    off = np.array([dx, dy])
    for r in site.streets:
        r.geom = shapely.transform(r.geom, lambda c: c + off)
    meta["synthetic"] = True
    meta["metric_crs"] = AUTHORING_CRS
    return write_site(site, out_dir, seed=seed, scale=scale, town_meta=meta, n_incidents=n_inc, ref_prefix=prefix,
                  rng=seeded_rng([seed, 8]), progress=progress)
