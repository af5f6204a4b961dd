"""The gridmap command line against the session's throwaway database."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from api.cli import app
from geo.keys import authenticate

# A building footprint east of the demo communities, in WGS84.
SQUARE = [[113.2000, 40.0500], [113.2004, 40.0500], [113.2004, 40.0502], [113.2000, 40.0502], [113.2000, 40.0500]]
BOWTIE = [[113.2010, 40.0500], [113.2014, 40.0502], [113.2014, 40.0500], [113.2010, 40.0502], [113.2010, 40.0500]]


def _building(code: str, ring: list[list[float]] | None, **props: object) -> dict:
    base = {"code": code, "community_code": "140214101001", "number": int(code[-2:]) + 80, "floors": 12,
            "height_m": 37.0, "units": 2, "households": 40, "population": 70}
    base.update(props)
    return {"type": "Feature", "properties": base,
            "geometry": None if ring is None else {"type": "Polygon", "coordinates": [ring]}}


@pytest.fixture
def runner_env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {"GRIDMAP_DATABASE_URL": db_url, "GRIDMAP_VAR_DIR": str(tmp_path / "var")}


def test_keys_create_prints_the_key_last(db_url: str, engine: Engine, tmp_path: Path) -> None:
    env = {**os.environ, "GRIDMAP_DATABASE_URL": db_url, "GRIDMAP_VAR_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "api.cli", "keys", "create", "--role", "operator"],
                         env=env, capture_output=True, text=True, check=True)
    key = out.stdout.strip().splitlines()[-1]
    assert authenticate(engine, key).role == "operator"
    listed = subprocess.run([sys.executable, "-m", "api.cli", "keys", "list"], env=env, capture_output=True,
                            text=True, check=True).stdout
    assert key.split("_")[1] in listed  # the prefix is listed, the key itself never is
    assert key not in listed


def test_keys_create_refuses_an_unknown_role(runner_env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["keys", "create", "--role", "superuser"], env=runner_env)
    assert result.exit_code == 1
    assert "client, viewer, operator, planner, admin" in result.output


def test_import_reports_every_bad_feature_and_stores_nothing(runner_env, engine: Engine, tmp_path: Path) -> None:
    fc = {"type": "FeatureCollection", "features": [
        _building("140214101001-91", SQUARE),
        _building("140214101001-92", BOWTIE),
        _building("140214101001-93", SQUARE, floors=None),
        _building("140214101001-94", None),
        _building("140214101001-95", SQUARE, community_code="140214101999"),
    ]}
    path = tmp_path / "buildings.geojson"
    path.write_text(json.dumps(fc), encoding="utf-8")
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM building")).scalar_one()

    result = CliRunner().invoke(app, ["import", str(path), "--layer", "buildings"], env=runner_env)
    assert result.exit_code == 1
    out = result.output
    assert "feature 1:" in out and "self-intersects" in out
    assert "feature 2:" in out and "floors" in out
    assert "feature 3:" in out and "null geometry" in out
    assert "feature 4:" in out and "140214101999" in out
    assert "feature 0:" not in out
    assert "nothing was imported" in out
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM building")).scalar_one() == before

    result = CliRunner().invoke(app, ["import", str(path), "--layer", "buildings", "--skip-invalid"], env=runner_env)
    assert result.exit_code == 0, result.output
    assert "imported 1 buildings, skipped 4" in result.output
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT b.address, count(u.id), sum(u.households) FROM building b JOIN unit u ON u.building_id = b.id "
            "WHERE b.code = '140214101001-91' GROUP BY b.address")).one()
        assert row[1:] == (2, 40) and row[0].endswith("号楼")
        conn.execute(text("DELETE FROM building WHERE code = '140214101001-91'"))
        conn.commit()


def test_export_and_reimport_round_trip(runner_env, engine: Engine, tmp_path: Path) -> None:
    for suffix in ("gpkg", "shp", "geojson"):
        path = tmp_path / f"grids.{suffix}"
        result = CliRunner().invoke(app, ["export", "grids", str(path)], env=runner_env)
        assert result.exit_code == 0, result.output
        gdf = gpd.read_file(path)
        assert len(gdf) == 50
        with engine.connect() as conn:
            area = conn.execute(text(
                "SELECT sum(ST_Area(ST_Transform(g.geom, 4547))) FROM grid g "
                "JOIN grid_plan p ON p.id = g.plan_id AND p.status = 'published'")).scalar_one()
        # PostGIS's PROJ and pyproj's may differ slightly on WGS84 -> CGCS2000; 1e-5 is ~9 m² of 864,000.
        assert gdf.to_crs(4547).area.sum() == pytest.approx(area, rel=1e-5)

    cams = tmp_path / "cameras.csv"
    assert CliRunner().invoke(app, ["export", "cameras", str(cams), "--crs", "gcj02"], env=runner_env).exit_code == 0
    head = cams.read_text(encoding="utf-8").splitlines()[0]
    assert "lon" in head and "lat" in head


LAYERS = ("communities", "grids", "buildings", "cameras", "key_places")


def test_every_layer_exports_to_a_geopackage_gdal_3_6_reads_without_warnings(runner_env, tmp_path: Path) -> None:
    import warnings

    from tests.geo.io.features import gdal_complaints, ogrinfo

    town = tmp_path / "town.gpkg"
    for layer in LAYERS:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            for path in (tmp_path / f"{layer}.gpkg", town):  # a file of its own, and all in one
                result = CliRunner().invoke(app, ["export", layer, str(path)], env=runner_env)
                assert result.exit_code == 0, result.output
        info = ogrinfo("-al", "-so", str(tmp_path / f"{layer}.gpkg"))
        assert gdal_complaints(info.stderr) == [], info.stderr
        assert f"Layer name: {layer}" in info.stdout
    for args in (["-al", "-so"], ["-al"]):
        info = ogrinfo(*args, str(town))
        assert gdal_complaints(info.stderr) == [], info.stderr
    assert [line.split(": ")[1].split(" (")[0] for line in ogrinfo(str(town)).stdout.splitlines()
            if line[:1].isdigit()] == list(LAYERS)


@pytest.mark.parametrize("encoding, cpg", [("utf-8", "UTF-8"), ("gbk", "CP936")])
def test_every_layer_exports_to_a_shapefile_with_chosen_names(runner_env, encoding: str, cpg: str,
                                                              tmp_path: Path) -> None:
    import warnings

    from geo.io.shapefile_names import SHAPEFILE_FIELDS
    from tests.geo.io.features import dbf_field_names, gdal_complaints, ogrinfo

    for layer in LAYERS:
        path = tmp_path / f"{layer}.shp"
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # GDAL's "Normalized/laundered field name"
            result = CliRunner().invoke(app, ["export", layer, str(path), "--encoding", encoding], env=runner_env)
        if layer == "key_places":  # points and polygons: no Shapefile holds both
            assert result.exit_code == 1 and "one kind of geometry" in result.output and ".gpkg" in result.output
            assert not path.exists()
            continue
        assert result.exit_code == 0, result.output
        assert f"field names: {tmp_path / f'{layer}.fields.txt'}" in result.output
        names = dbf_field_names(path.with_suffix(".dbf"))
        assert all(len(n) <= 10 and n.isascii() for n in names) and len(set(names)) == len(names)
        assert set(SHAPEFILE_FIELDS[layer].values()) <= set(names), names
        assert not [n for n in names if n[-2:-1] == "_" and n[-1].isdigit()], names  # no communit_1
        assert path.with_suffix(".cpg").read_text() == cpg
        listed = (tmp_path / f"{layer}.fields.txt").read_text(encoding="utf-8")
        for full, short in SHAPEFILE_FIELDS[layer].items():
            assert re.search(rf"^{short} +{full}$", listed, re.M), (short, listed)
        info = ogrinfo("-al", str(path))
        assert gdal_complaints(info.stderr) == [], info.stderr
    assert "comm_name (String) = 春安新区" in ogrinfo("-al", str(tmp_path / "grids.shp")).stdout
    # the short names read back as the full ones: an import of the exported cameras finds azimuth_deg,
    # resolution_px and building_code (a file with another name for azimuth fails the camera rules) and only
    # says that the cameras exist already
    result = CliRunner().invoke(app, ["import", str(tmp_path / "cameras.shp"), "--layer", "cameras"], env=runner_env)
    problems = [line for line in result.output.splitlines() if line.startswith("feature ")]
    assert result.exit_code == 1 and len(problems) > 700
    assert all(line.endswith("already exists in the database") and line.count(";") == 0 for line in problems), \
        [p for p in problems if ";" in p][:3]


def test_export_refuses_gbk_for_other_formats(runner_env, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["export", "grids", str(tmp_path / "g.gpkg"), "--encoding", "gbk"],
                                env=runner_env)
    assert result.exit_code == 1 and "encoding=gbk is for Shapefiles only: .gpkg files are always UTF-8" in result.output
    result = CliRunner().invoke(app, ["export", "grids", str(tmp_path / "g.shp"), "--encoding", "big5"],
                                env=runner_env)
    assert result.exit_code == 1 and "unknown encoding 'big5': use utf-8 or gbk" in result.output
    assert not list(tmp_path.iterdir())


def test_import_cameras_from_gcj02_csv(runner_env, engine: Engine, tmp_path: Path) -> None:
    from geo.crs import from_wgs84

    lon, lat = from_wgs84(113.21, 40.06, crs="gcj02")
    path = tmp_path / "cams.csv"
    path.write_text(
        "code,name,kind,status,mount,height_m,azimuth_deg,hfov_deg,range_m,lon,lat\n"
        f"14021410001320999001,测试杆,bullet,online,pole,5,90,70,40,{lon},{lat}\n"
        f"14021410001320999002,坏方位,bullet,online,pole,5,400,70,40,{lon},{lat}\n", encoding="utf-8")
    bad = CliRunner().invoke(app, ["import", str(path), "--layer", "cameras", "--crs", "gcj02"], env=runner_env)
    assert bad.exit_code == 1 and "feature 1:" in bad.output and "azimuth_deg: must be in [0, 360)" in bad.output and "not 400" in bad.output
    ok = CliRunner().invoke(app, ["import", str(path), "--layer", "cameras", "--crs", "gcj02", "--skip-invalid"],
                            env=runner_env)
    assert ok.exit_code == 0, ok.output
    with engine.connect() as conn:
        d = conn.execute(text(
            "SELECT ST_Distance(ST_Transform(geom, 4547), ST_Transform(ST_SetSRID(ST_MakePoint(113.21, 40.06), 4326), 4547)) "
            "FROM camera WHERE code = '14021410001320999001'")).scalar_one()
        assert d < 0.5
        conn.execute(text("DELETE FROM camera WHERE code LIKE '14021410001320999%'"))
        conn.commit()


def test_plans_validate_and_publish(private_db: str, tmp_path: Path) -> None:
    from geo.plans import copy_plan
    from geo.store.db import make_engine

    env = {"GRIDMAP_DATABASE_URL": private_db, "GRIDMAP_VAR_DIR": str(tmp_path / "var")}
    engine = make_engine(private_db)
    with engine.connect() as conn:
        old = conn.execute(text("SELECT id FROM grid_plan WHERE status = 'published'")).scalar_one()
    draft = copy_plan(engine, source_id=old, name="cli draft", actor="test")
    with engine.begin() as conn:  # a gap: a 15 m hole in one grid
        conn.execute(text(
            "UPDATE grid SET geom = ST_Multi(ST_Difference(geom, ST_Buffer(ST_PointOnSurface(geom)::geography, 15)"
            "::geometry)) WHERE plan_id = :p AND code = (SELECT min(code) FROM grid WHERE plan_id = :p)"), {"p": draft})
    runner = CliRunner()
    listed = runner.invoke(app, ["plans", "list"], env=env)
    assert listed.exit_code == 0 and "cli draft" in listed.output and "published" in listed.output
    bad = runner.invoke(app, ["plans", "validate", str(draft)], env=env)
    assert bad.exit_code == 1 and "gap" in bad.output and "1 errors" in bad.output
    refused = runner.invoke(app, ["plans", "publish", str(draft), "--acknowledge-warnings"], env=env)
    assert refused.exit_code == 1 and "problem(s) to fix" in refused.output
    good = copy_plan(engine, source_id=old, name="clean draft", actor="test")
    ok = runner.invoke(app, ["plans", "publish", str(good)], env=env)
    assert ok.exit_code == 0, ok.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM grid_plan WHERE status = 'published'")).scalar_one() == good
    engine.dispose()
