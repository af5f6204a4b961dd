"""Scenes the coverage tests share: cameras and boxes near Gaoshan Town in metres, a small town of
four buildings and seven cameras, and the committed demo layers in metres."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely
from shapely import Point, box

from geo.coverage import CameraSpec
from geo.crs import to_metric

DEMO = Path(__file__).resolve().parents[3] / "data" / "boundaries"

# somewhere near Gaoshan Town in EPSG:4547 metres, so the numbers have realistic magnitude
X0, Y0 = 423_000.0, 4_433_000.0


def cam(x=0.0, y=0.0, **kw) -> CameraSpec:
    kw.setdefault("range_m", 20.0)
    return CameraSpec(x=X0 + x, y=Y0 + y, **kw)


def bx(x0, y0, x1, y1):
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def P(x, y) -> Point:
    return Point(X0 + x, Y0 + y)


def small_town():
    area = bx(0, 0, 200, 120)
    buildings = [bx(20, 20, 80, 34), bx(110, 20, 170, 34), bx(20, 70, 80, 84), bx(110, 70, 170, 84)]
    specs = [
        cam(x=50, y=34.3, azimuth_deg=0.0, hfov_deg=100.0, range_m=15.0, mount="wall", building_index=0),
        cam(x=140, y=34.3, azimuth_deg=0.0, hfov_deg=100.0, range_m=15.0, mount="wall", building_index=1),
        cam(x=95, y=50, kind="fisheye", hfov_deg=360.0, range_m=25.0),
        cam(x=10, y=10, azimuth_deg=45.0, hfov_deg=80.0, range_m=40.0),
        cam(x=190, y=110, azimuth_deg=225.0, hfov_deg=60.0, range_m=60.0, status="offline"),
        cam(x=190, y=10, azimuth_deg=315.0, hfov_deg=60.0, range_m=60.0, status="fault"),
        cam(x=95, y=100, kind="ptz", azimuth_deg=90.0, hfov_deg=60.0, range_m=80.0),
    ]
    return area, buildings, specs


def load_layer(name):
    feats = json.loads((DEMO / f"{name}.geojson").read_text(encoding="utf-8"))["features"]
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in feats], dtype=object)
    return [f["properties"] for f in feats], to_metric(geoms)
