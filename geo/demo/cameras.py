"""Cameras of one community: door, gate, parking, square, indoor and pole cameras
(:func:`place_cameras`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from shapely import Point

from geo.demo.model import Camera, Community, round_to, seeded_rng


def _bearing(dx: float, dy: float) -> float:
    return math.degrees(math.atan2(dx, dy)) % 360.0


def _az(v: float) -> float:
    return round(v % 360.0, 1) % 360.0


def place_cameras(c: Community, *, seed: int | Sequence[int], n_pole: int | None = None) -> int:
    """Put cameras in ``c`` (replacing any); returns the number of fixed (non-road) cameras.

    One camera above each unit door (a share of them in walk-up estates), two at each
    gate, a fisheye over each parking lot (a share in walk-ups), a PTZ dome over the
    square, ceiling domes in the market and clinic, then ``n_pole`` pole cameras spread
    along the internal roads (default: one every 55–75 m, 110–140 m in walk-ups). The
    fixed cameras are drawn first, so calling again with the same seed and a different
    ``n_pole`` only changes the pole cameras.
    """
    rng = seeded_rng(seed)
    st = c.style
    cams: list[Camera] = []
    name = c.spec.name
    for k, b in enumerate(c.buildings):
        if st.door_camera_share < 1.0 and rng.random() >= st.door_camera_share:
            continue
        for u, (dx, dy) in enumerate(b.doors, start=1):
            cams.append(Camera(
                name=f"{name}{b.number}号楼{u}单元门口", kind="dome" if rng.random() < 0.6 else "bullet",
                mount="wall", x=float(dx), y=round_to(float(dy) + 0.3), height_m=round(rng.uniform(2.8, 3.2), 1),
                azimuth_deg=_az(rng.normal(0.0, 3.0)), hfov_deg=round(rng.uniform(97.0, 104.0), 1),
                range_m=round(rng.uniform(10.0, 15.0), 1), resolution_px=int(rng.choice([1920, 2560], p=[0.7, 0.3])),
                building=k))
    gates = [p for p in c.places if p.kind == "gate"]
    W, H = c.width, c.height
    for g in gates:
        gx, gy = g.geom.x, g.geom.y
        if gy < 2.0:
            out_dir, along = (0.0, -1.0), (1.0, 0.0)
        elif gy > H - 2.0:
            out_dir, along = (0.0, 1.0), (1.0, 0.0)
        elif gx > W - 2.0:
            out_dir, along = (1.0, 0.0), (0.0, 1.0)
        else:
            out_dir, along = (-1.0, 0.0), (0.0, 1.0)
        for side, (look, label) in ((-1.0, (out_dir, "出口")), (1.0, ((-out_dir[0], -out_dir[1]), "入口"))):
            px = gx - out_dir[0] * 2.5 + side * along[0] * 6.0
            py = gy - out_dir[1] * 2.5 + side * along[1] * 6.0
            cams.append(Camera(
                name=f"{g.name}{label}", kind="bullet", mount="pole", x=round_to(px), y=round_to(py),
                height_m=round(rng.uniform(3.5, 4.5), 1), azimuth_deg=_az(_bearing(*look) + rng.normal(0, 4.0)),
                hfov_deg=round(rng.uniform(50.0, 70.0), 1), range_m=round(rng.uniform(20.0, 35.0), 1),
                resolution_px=int(rng.choice([2560, 3840]))))
    for p in c.places:
        if p.kind == "parking":
            if st.fisheye_share < 1.0 and rng.random() >= st.fisheye_share:
                continue
            x0, y0, x1, y1 = p.geom.bounds
            cams.append(Camera(
                name=f"{p.name}全景", kind="fisheye", mount="pole", x=round_to((x0 + x1) / 2 + rng.uniform(-5, 5)),
                y=round_to(y1 + 0.8), height_m=round(rng.uniform(5.0, 7.0), 1), azimuth_deg=0.0, hfov_deg=360.0,
                range_m=round(rng.uniform(18.0, 28.0), 1), resolution_px=int(rng.choice([2560, 3840]))))
        elif p.kind == "square":
            x0, y0, x1, y1 = p.geom.bounds
            cams.append(Camera(
                name=f"{p.name}球机", kind="ptz", mount="pole", x=round_to(x0 + 2.0 if rng.random() < 0.5 else x1 - 2.0),
                y=round_to((y0 + y1) / 2), height_m=round(rng.uniform(8.0, 12.0), 1),
                azimuth_deg=_az(rng.uniform(0, 360)), hfov_deg=round(rng.uniform(57.0, 63.0), 1),
                range_m=round(rng.uniform(80.0, 150.0), 1), resolution_px=int(rng.choice([1920, 2560]))))
        elif p.kind in ("market", "clinic"):
            x0, y0, x1, y1 = p.geom.bounds
            for j in range(2 if p.kind == "market" else 1):
                cams.append(Camera(
                    name=f"{p.name}室内{j + 1}", kind="dome", mount="ceiling",
                    x=round_to(x0 + (x1 - x0) * (j + 1) / 3), y=round_to(y0 + (y1 - y0) * 0.6),
                    height_m=round(rng.uniform(3.0, 3.6), 1), azimuth_deg=_az(rng.choice([90.0, 270.0])),
                    hfov_deg=round(rng.uniform(100.0, 110.0), 1), range_m=round(rng.uniform(10.0, 15.0), 1),
                    resolution_px=1920))
    n_fixed = len(cams)

    roads = [r for r in c.roads if r.kind == "internal"]
    lengths = np.array([r.geom.length for r in roads])
    if n_pole is None:
        n_pole = int(round(lengths.sum() / rng.uniform(*st.pole_spacing)))
    fps = np.array([b.footprint for b in c.buildings], dtype=object)
    tree = shapely.STRtree(fps)
    inner = c.polygon.buffer(-1.0)
    cum = np.concatenate([[0.0], np.cumsum(lengths)])
    per_road: dict[int, int] = {}
    for i in range(n_pole):
        t = (i + rng.uniform(0.25, 0.75)) * cum[-1] / max(n_pole, 1)
        for attempt in range(12):
            tt = (t + attempt * 4.0) % cum[-1]
            ri = int(np.searchsorted(cum, tt, side="right") - 1)
            road = roads[ri]
            d = min(max(tt - cum[ri], 0.5), road.geom.length - 0.5)
            p0 = road.geom.interpolate(d)
            p1 = road.geom.interpolate(min(d + 1.0, road.geom.length))
            if p1.equals(p0):
                p1 = road.geom.interpolate(d - 1.0)
                ux, uy = p0.x - p1.x, p0.y - p1.y
            else:
                ux, uy = p1.x - p0.x, p1.y - p0.y
            norm = math.hypot(ux, uy) or 1.0
            ux, uy = ux / norm, uy / norm
            side = 1.0 if (i + attempt) % 2 == 0 else -1.0
            off = road.width_m / 2 + 1.0
            px, py = p0.x - side * uy * off, p0.y + side * ux * off
            pt = Point(px, py)
            if inner.contains(pt) and not len(tree.query(pt, predicate="dwithin", distance=1.5)):
                break
        else:  # pragma: no cover - the road centre is always clear
            px, py = p0.x, p0.y
        per_road[ri] = per_road.get(ri, 0) + 1
        facing = _bearing(ux, uy) if i % 2 == 0 else _bearing(-ux, -uy)
        cams.append(Camera(
            name=f"{road.name}{per_road[ri]:02d}号杆", kind="bullet" if rng.random() < 0.8 else "dome",
            mount="pole", x=round_to(px), y=round_to(py), height_m=round(rng.uniform(4.0, 6.0), 1),
            azimuth_deg=_az(facing + rng.normal(0.0, 5.0)), hfov_deg=round(rng.uniform(60.0, 90.0), 1),
            range_m=round(rng.uniform(30.0, 60.0), 1),
            resolution_px=int(rng.choice([1920, 2560, 3840], p=[0.4, 0.4, 0.2]))))
    c.cameras = cams
    return n_fixed

