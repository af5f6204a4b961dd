"""Shared by the tests of the demo-data generator (geo.demo): a fresh seed-1 town generation in a
temporary folder, and the committed files in data/boundaries, read back with geometries in EPSG:4547
metres; no database needed. Geometries are compared by area, never as WKT."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape

from geo.demo import generate
from geo.demo.model import AUTHORING_CRS

COMMITTED = Path(__file__).resolve().parents[3] / "data" / "boundaries"
FILES = ("town.json", "communities.geojson", "grids.geojson", "buildings.geojson", "units.csv", "roads.geojson",
         "key_places.geojson", "cameras.geojson", "staff.csv", "incidents.csv", "incident_events.csv")
TO_METRIC = Transformer.from_crs("EPSG:4326", AUTHORING_CRS, always_xy=True)


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("town-seed1")
    counts = generate(seed=1, scale="town", out_dir=out)
    assert set(counts) == set(FILES)
    return out


@pytest.fixture(scope="session", params=["generated", "committed"])
def data_dir(request: pytest.FixtureRequest, generated: Path) -> Path:
    if request.param == "generated":
        return generated
    if not (COMMITTED / "grids.geojson").exists():
        pytest.fail("data/boundaries is empty: run `gridmap demo generate --seed 1 --scale town`")
    return COMMITTED


class Data:
    """A data set read back, geometries in EPSG:4547 metres."""

    def __init__(self, d: Path) -> None:
        self.dir = d
        self.town = json.loads((d / "town.json").read_text(encoding="utf-8"))
        self.communities = self._fc("communities.geojson")
        self.grids = self._fc("grids.geojson")
        self.buildings = self._fc("buildings.geojson")
        self.roads = self._fc("roads.geojson")
        self.places = self._fc("key_places.geojson")
        self.cameras = self._fc("cameras.geojson")
        self.units = self._csv("units.csv")
        self.staff = self._csv("staff.csv")
        self.incidents = self._csv("incidents.csv")
        self.events = self._csv("incident_events.csv")

    def _fc(self, name: str) -> tuple[list[dict[str, Any]], np.ndarray]:
        fc = json.loads((self.dir / name).read_text(encoding="utf-8"))
        assert fc["type"] == "FeatureCollection"
        props = [f["properties"] for f in fc["features"]]
        geoms = np.array([shape(f["geometry"]) for f in fc["features"]], dtype=object)
        return props, to_metric(geoms)

    def _csv(self, name: str) -> list[dict[str, str]]:
        with (self.dir / name).open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))


def to_metric(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda c: np.column_stack(TO_METRIC.transform(c[:, 0], c[:, 1])))


_cache: dict[Path, Data] = {}


@pytest.fixture()
def data(data_dir: Path) -> Data:
    if data_dir not in _cache:
        _cache[data_dir] = Data(data_dir)
    return _cache[data_dir]
