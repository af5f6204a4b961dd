"""geo.demo.files: valid geometries after rounding, byte-identical files for a seed, the committed
files are seed 1, diff-friendly text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import shapely

from geo.demo import generate
from tests.geo.demo.conftest import COMMITTED, FILES, Data


def test_geometries_valid(data: Data) -> None:
    for props, geoms in (data.communities, data.grids, data.buildings, data.roads, data.places, data.cameras):
        assert shapely.is_valid(geoms).all()
    for geoms in (data.communities[1], data.grids[1], data.buildings[1]):
        assert set(shapely.get_type_id(geoms)) == {3}  # Polygon


def test_same_seed_same_bytes(generated: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(seed=1, scale="town", out_dir=again)
    for name in FILES:
        assert (again / name).read_bytes() == (generated / name).read_bytes(), name


@pytest.mark.slow
def test_other_seed_differs(generated: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    counts = generate(seed=2, scale="town", out_dir=other)
    assert counts["buildings.geojson"] == 125 and counts["grids.geojson"] == 50
    for name in ("grids.geojson", "buildings.geojson", "cameras.geojson", "incidents.csv"):
        assert (other / name).read_bytes() != (generated / name).read_bytes(), name


def test_committed_files_are_seed_1(generated: Path) -> None:
    for name in FILES:
        assert (COMMITTED / name).read_bytes() == (generated / name).read_bytes(), name


def test_files_are_diff_friendly(generated: Path) -> None:
    for name in FILES:
        raw = (generated / name).read_bytes()
        assert b"\r" not in raw
        raw.decode("utf-8")
    lines = (generated / "buildings.geojson").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 125 + 2  # one feature per line
    assert "春安新区" in lines[1]  # not \u-escaped
    coords = re.findall(r"\d+\.(\d+)", (generated / "grids.geojson").read_text(encoding="utf-8"))
    assert max(len(c) for c in coords) <= 8
