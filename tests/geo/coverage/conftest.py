"""The demo town in metres, its cameras' views cast once for the package's tests."""

from __future__ import annotations

import pytest

from geo import coverage as cv
from geo.coverage import CameraSpec
from tests.geo.coverage.scenes import load_layer


@pytest.fixture(scope="package")
def demo():
    bprops, bgeoms = load_layer("buildings")
    cprops, cgeoms = load_layer("cameras")
    _, communities = load_layer("communities")
    kprops, kgeoms = load_layer("key_places")
    index = {p["code"]: i for i, p in enumerate(bprops)}
    specs = [CameraSpec.from_record(p, x=g.x, y=g.y, building_index=index.get(p.get("building_code")))
             for p, g in zip(cprops, cgeoms)]
    obstacles = cv.Obstacles(bgeoms)
    views = cv.visible_views(specs, obstacles=obstacles)
    return {"specs": specs, "buildings": bgeoms, "obstacles": obstacles, "views": views,
            "communities": communities, "key_places": kgeoms}
