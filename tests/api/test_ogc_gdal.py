"""A real OGC API – Features client: GDAL's OAPIF driver (Debian's gdal-bin, 3.6) over real HTTP with a
Bearer key lists the collections, pages through every incident, applies a bbox and a filter sent to
the server, and writes GeoPackages; the counts are the database's.

GDAL 3.6 knows Part 3 only as its draft (``filter-lang=cql-text``) and sends an attribute filter to the
server only with ``--config OGR_OAPIF_ALLOW_CQL_TEXT YES`` (otherwise it filters on the client, after
reading every page); it has no ``crs`` option (Part 2 support came in GDAL 3.7), so CRS output is
tested over HTTP in test_ogc.py.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from geo.config import Settings
from geo.keys import create_key
from geo.store.db import make_engine
from tests.conftest import serve

pytestmark = pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="gdal-bin is not installed "
                                "(scripts/bootstrap.sh test installs it)")


@pytest.fixture(scope="module")
def target(module_db: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    engine = make_engine(module_db)
    key = create_key(engine, role="viewer", name="gdal")[1]
    server = serve(Settings(database_url=module_db, var_dir=tmp_path_factory.mktemp("var")))
    base = next(server)
    yield base, key, engine
    next(server, None)
    engine.dispose()


def gdal(*args: str, key: str | None, log: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    headers = ["--config", "GDAL_HTTP_HEADERS", f"Authorization: Bearer {key}"] if key else []
    run = subprocess.run([*args, *headers, "--debug", "ON"], capture_output=True, text=True, timeout=300)
    if log is not None:
        log += [ln for ln in run.stderr.splitlines() if "Fetch(" in ln]
    return run


def count(gpkg: Path, layer: str) -> int:
    run = subprocess.run(["ogrinfo", "-ro", "-so", str(gpkg), layer], capture_output=True, text=True, check=True)
    return int(next(ln for ln in run.stdout.splitlines() if ln.startswith("Feature Count:")).split(":")[1])


def test_ogrinfo_lists_the_collections(target) -> None:  # type: ignore[no-untyped-def]
    base, key, _ = target
    run = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{base}/ogc", key=key)
    assert run.returncode == 0, run.stderr
    for i, name in enumerate(["communities", "grids", "buildings", "units", "cameras", "camera-views",
                              "coverage-gaps", "key-places", "incidents"], start=1):
        assert f"{i}: {name} (title:" in run.stdout
    assert gdal("ogrinfo", "-ro", "-so", f"OAPIF:{base}/ogc", key=None).returncode != 0  # no key: 401


def test_ogr2ogr_reads_every_incident_page_by_page(target, tmp_path) -> None:  # type: ignore[no-untyped-def]
    base, key, engine = target
    with engine.connect() as conn:
        expected = conn.execute(text("SELECT count(*) FROM incident WHERE voided_at IS NULL")).scalar_one()
    log: list[str] = []
    out = tmp_path / "incidents.gpkg"
    run = gdal("ogr2ogr", "-f", "GPKG", str(out), "-oo", "PAGE_SIZE=1000", f"OAPIF:{base}/ogc", "incidents",
               key=key, log=log)
    assert run.returncode == 0, run.stderr
    assert count(out, "incidents") == expected > 3000
    assert sum("offset=" in ln for ln in log) == expected // 1000  # it followed the next links


def test_ogr2ogr_with_bbox_and_a_server_side_filter(target, tmp_path) -> None:  # type: ignore[no-untyped-def]
    base, key, engine = target
    box = (113.095, 40.047, 113.100, 40.050)
    with engine.connect() as conn:
        in_box = conn.execute(text("SELECT count(*) FROM incident WHERE voided_at IS NULL AND "
                                   "ST_Intersects(geom, ST_MakeEnvelope(:a, :b, :c, :d, 4326))"),
                              dict(zip("abcd", box))).scalar_one()
        filtered = conn.execute(text("SELECT count(*) FROM incident WHERE voided_at IS NULL AND category = 'dispute' "
                                     "AND severity >= 2 AND ST_Intersects(geom, ST_MakeEnvelope(:a, :b, :c, :d, 4326))"),
                                dict(zip("abcd", box))).scalar_one()
    assert 0 < filtered < in_box < 3000
    log: list[str] = []
    out = tmp_path / "box.gpkg"
    run = gdal("ogr2ogr", "-f", "GPKG", str(out), "-oo", "PAGE_SIZE=1000", "-spat", *map(str, box),
               f"OAPIF:{base}/ogc", "incidents", key=key, log=log)
    assert run.returncode == 0, run.stderr
    assert count(out, "incidents") == in_box
    assert any("bbox=" in ln for ln in log)
    log.clear()
    out = tmp_path / "filtered.gpkg"
    run = gdal("ogr2ogr", "-f", "GPKG", str(out), "-oo", "PAGE_SIZE=1000", "-spat", *map(str, box),
               "-where", "category = 'dispute' AND severity >= 2", "--config", "OGR_OAPIF_ALLOW_CQL_TEXT", "YES",
               f"OAPIF:{base}/ogc", "incidents", key=key, log=log)
    assert run.returncode == 0, run.stderr
    assert count(out, "incidents") == filtered
    assert any("filter=" in ln and "filter-lang=cql-text" in ln for ln in log)  # evaluated by the server


def test_ogr2ogr_reads_grids_and_buildings(target, tmp_path) -> None:  # type: ignore[no-untyped-def]
    base, key, engine = target
    out = tmp_path / "layers.gpkg"
    run = gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{base}/ogc", "grids", "buildings", key=key)
    assert run.returncode == 0, run.stderr
    with engine.connect() as conn:
        grids = conn.execute(text("SELECT count(*) FROM grid g JOIN grid_plan p ON p.id = g.plan_id "
                                  "AND p.status = 'published'")).scalar_one()
        buildings = conn.execute(text("SELECT count(*) FROM building")).scalar_one()
    assert count(out, "grids") == grids and count(out, "buildings") == buildings


def test_gdal_with_basic_credentials_reads_a_collection(target, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The key as a Basic password (GDAL_HTTP_USERPWD), for clients that cannot send a Bearer header."""
    base, key, engine = target
    with engine.connect() as conn:
        grids = conn.execute(text("SELECT count(*) FROM grid g JOIN grid_plan p ON p.id = g.plan_id "
                                  "WHERE p.status = 'published'")).scalar_one()
    out = tmp_path / "grids.gpkg"
    basic = ["--config", "GDAL_HTTP_AUTH", "BASIC", "--config", "GDAL_HTTP_USERPWD", f"gridmap:{key}"]
    run = gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{base}/ogc", "grids", *basic, key=None)
    assert run.returncode == 0, run.stderr
    assert count(out, "grids") == grids
    wrong = ["--config", "GDAL_HTTP_AUTH", "BASIC", "--config", "GDAL_HTTP_USERPWD", "gridmap:gmk_not_a_key"]
    assert gdal("ogrinfo", "-ro", "-so", f"OAPIF:{base}/ogc", *wrong, key=None).returncode != 0
