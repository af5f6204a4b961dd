"""Import and export of layers between vector files and the database.

Import is all or nothing: every feature is checked first (geometry, required
properties, value ranges, references, duplicates) and every problem is reported
with the feature's index and the reason; nothing is written unless all features
are valid, or ``skip_invalid`` is given (then the valid ones are written and the
others reported). The write is one transaction with an audit row. The statements that write the
rows are geo/store/exchange.py's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from sqlalchemy import Connection, Engine

from geo.errors import BadInput, excerpt
from geo.messages import Msg, Said
from geo.file_safety import extract_shapefile
from geo.io import FeatureProblem, read_features, validate_features, write_features
from geo.io.formats import encoding_for, shapefile_encoding
from geo.io.shapefile_names import describe, full_names, short_names
from geo.store.db import reading
from geo.validation import MAX_VERTICES
from geo.store import audit, queries
from geo.store import exchange as stored
from geo import camera_rules
from geo.vocabulary import KEY_PLACE_KINDS

Check = Callable[[dict[str, Any]], str | None]


def _digits(name: str, n: int) -> Check:
    def check(p: dict[str, Any]) -> str | None:
        v = str(p.get(name) or "")
        return None if len(v) == n and v.isdigit() else f"{name} must be {n} digits, not {excerpt(v, chars=n + 2)}"
    return check


def _one_of(name: str, values: tuple[str, ...]) -> Check:
    def check(p: dict[str, Any]) -> str | None:
        return None if p.get(name) in values else \
            f"{name} must be one of {', '.join(values)}, not {excerpt(p.get(name))}"
    return check


def _number(name: str, lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False,
            optional: bool = False) -> Check:
    def check(p: dict[str, Any]) -> str | None:
        v = p.get(name)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None if optional else f"{name} is required"
        try:
            x = float(v)
        except (TypeError, ValueError):
            return f"{name} must be a number, not {excerpt(v)}"
        ok = (lo < x if lo_open else lo <= x) and (x < hi if hi_open else x <= hi)
        if not ok:
            return f"{name}={x:g} is outside {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
        return None
    return check


def _present(*names: str) -> Check:
    def check(p: dict[str, Any]) -> str | None:
        missing = [n for n in names if p.get(n) in (None, "") or (isinstance(p.get(n), float) and math.isnan(p[n]))]
        return f"missing required {', '.join(missing)}" if missing else None
    return check


def _camera(p: dict[str, Any]) -> str | None:
    """The camera rules of the API (geo.camera_rules), on a file's properties; the position is the
    feature's geometry, which validate_features checks."""
    record = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in p.items()
              if k in camera_rules.FIELDS and k not in ("lon", "lat")}
    for k in ("resolution_px",):
        if isinstance(record.get(k), float) and record[k].is_integer():
            record[k] = int(record[k])  # a file's integer column with gaps reads as float
    record["code"] = str(record.get("code") or "")
    try:
        camera_rules.validate({**record, "lon": 0.0, "lat": 0.0})
    except BadInput as e:
        return e.message
    return None


@dataclass(frozen=True)
class Layer:
    name: str
    table: str
    geometry_types: frozenset[str]
    key: str | None
    checks: tuple[Check, ...] = field(default_factory=tuple)


LAYERS: dict[str, Layer] = {
    "communities": Layer("communities", "community", frozenset({"Polygon", "MultiPolygon"}), "code",
                         (_present("code", "name"), _digits("code", 12))),
    "buildings": Layer("buildings", "building", frozenset({"Polygon"}), "code", (
        _present("code", "community_code", "number", "floors", "height_m"),
        _number("number", 1, 10_000), _number("floors", 1, 200), _number("height_m", 0, 700, lo_open=True),
        _number("units", 0, 50, optional=True),
    )),
    "cameras": Layer("cameras", "camera", frozenset({"Point"}), "code", (_camera,)),
    "key_places": Layer("key_places", "key_place", frozenset({"Point", "Polygon", "MultiPolygon"}), None, (
        _present("kind", "name"), _one_of("kind", KEY_PLACE_KINDS),
    )),
}


@dataclass
class ImportResult:
    layer: str
    imported: int
    skipped: list[FeatureProblem]


def _props(gdf: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    records = gdf[cols].to_dict("records")
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in records]


def check_layer(conn: Connection, layer: Layer, gdf: gpd.GeoDataFrame) -> list[FeatureProblem]:
    """Every problem of every feature: geometry first, then properties and references."""
    problems = {p.index: p.reason for p in validate_features(gdf, geometry_types=layer.geometry_types)}
    props = _props(gdf)
    communities = stored.community_ids(conn)
    existing = stored.existing_keys(conn, table=layer.table, key=layer.key) if layer.key else set()
    seen: dict[str, int] = {}
    for p in props:
        idx = int(p["feature_index"])
        reasons = [r for r in (check(p) for check in layer.checks) if r]
        if layer.key and p.get(layer.key) not in (None, ""):
            k = str(p[layer.key])
            if k in existing:
                reasons.append(f"{layer.key} {excerpt(k, chars=24)} already exists in the database")
            elif k in seen:
                reasons.append(f"{layer.key} {excerpt(k, chars=24)} repeats feature {seen[k]}")
            seen.setdefault(k, idx)
        cc = p.get("community_code")
        if layer.name == "buildings" and cc and str(cc) not in communities:
            reasons.append(f"community_code {excerpt(cc, chars=14)} is not a known community")
        if reasons:
            problems[idx] = "; ".join(([problems[idx]] if idx in problems else []) + reasons)
    return [FeatureProblem(i, r) for i, r in sorted(problems.items())]


def import_file(engine: Engine, path: Path, *, layer: str, crs: str | None = None,
                skip_invalid: bool = False, actor: str = "cli") -> ImportResult:
    """Import a vector file into a layer; see the module docstring for the all-or-nothing rule."""
    if layer not in LAYERS:
        raise BadInput(f"unknown layer {layer!r}: use one of {', '.join(LAYERS)}")
    spec = LAYERS[layer]
    gdf = _full_names(read_features(Path(path), crs=crs), Path(path), layer=layer)
    with engine.begin() as conn:
        problems = check_layer(conn, spec, gdf)
        if problems and not skip_invalid:
            listing = "; ".join(f"feature {p.index}: {p.reason}" for p in problems[:20])
            more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
            raise BadInput(
                f"{len(problems)} of {len(gdf)} features are invalid, nothing was imported: {listing}{more}. "
                "Fix them, or pass --skip-invalid to import the valid ones only.",
                details=[p.as_dict() for p in problems],
            )
        bad = {p.index for p in problems}
        rows = [(p, g) for p, g in zip(_props(gdf), gdf.geometry.values) if int(p["feature_index"]) not in bad]
        stored.INSERT[layer](conn, rows)
        audit.record(conn, actor=actor, action="import", entity=spec.table,
                     after={"file": Path(path).name, "imported": len(rows),
                            "skipped": [p.as_dict() for p in problems]})
    return ImportResult(layer, len(rows), problems)


EXPORTS: dict[str, Callable[..., str]] = {
    "communities": lambda conn, plan_id: queries.communities_geojson(conn),
    "grids": lambda conn, plan_id: queries.grids_geojson(conn, plan_id=plan_id),
    "buildings": lambda conn, plan_id: queries.buildings_geojson(conn, plan_id=plan_id),
    "cameras": lambda conn, plan_id: queries.cameras_geojson(conn),
    "key_places": lambda conn, plan_id: queries.key_places_geojson(conn),
}


def _full_names(gdf: gpd.GeoDataFrame, path: Path, *, layer: str) -> gpd.GeoDataFrame:
    """A Shapefile's short field names (geo.io.shapefile_names) back to the layer's column names."""
    if path.suffix.lower() != ".shp":
        return gdf
    return gdf.rename(columns=full_names(gdf.columns, layer=layer))


def fields_file(shp: Path) -> Path:
    """The text file written beside an exported Shapefile: its field names and the full names."""
    return shp.with_name(f"{shp.stem}.fields.txt")


def export_file(engine: Engine, path: Path, *, layer: str, crs: str = "wgs84", plan_id: int | None = None,
                encoding: str = "utf-8") -> int:
    """Write a layer (of the published plan, or ``plan_id``) to a file; returns the feature count.

    A Shapefile (``.shp``) gets the short field names of :mod:`geo.io.shapefile_names`, its attributes in
    ``encoding`` (``utf-8`` or ``gbk``, with the matching ``.cpg``) and, beside it, ``<stem>.fields.txt``
    listing every field and its full name. Other formats are UTF-8 and keep the full names.
    """
    if layer not in EXPORTS:
        raise BadInput(f"unknown layer {layer!r}: use one of {', '.join(EXPORTS)}")
    enc = encoding_for(path, encoding)  # refused before the database is read
    with reading(engine) as conn:
        plan = queries.resolve_plan(conn, plan_id=plan_id)
        fc = json.loads(EXPORTS[layer](conn, plan["id"]))
    gdf = gpd.GeoDataFrame.from_features(fc["features"], crs="EPSG:4326")
    for col in gdf.columns:  # lists/dicts (aliases) do not fit every format: store them as JSON text
        if gdf[col].map(lambda v: isinstance(v, (list, dict))).any():
            gdf[col] = gdf[col].map(lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v)
    path = Path(path)
    write_features(gdf, path, crs=crs, layer=layer, encoding=enc.name)
    if path.suffix.lower() == ".shp":
        renames = short_names([c for c in gdf.columns if c != gdf.geometry.name], layer=layer)
        fields_file(path).write_text(describe(renames, layer=layer, encoding=enc.cpg), encoding="utf-8")
    return len(gdf)


#: File formats a plan is exported to: the extension and the media type.
PLAN_FORMATS = {"geojson": (".geojson", "application/geo+json"), "gpkg": (".gpkg", "application/geopackage+sqlite3"),
                "shp": (".zip", "application/zip")}


def export_plan(engine: Engine, directory: Path, *, plan_id: int, fmt: str, crs: str = "wgs84",
                encoding: str = "utf-8") -> Path:
    """Write a plan's grids (code, name, community_code, households, population, ...) to a file in ``directory``.

    ``fmt``: ``geojson``, ``gpkg`` or ``shp`` (a zip of the shapefile's parts, named ``plan-<id>``, with a
    ``README.txt`` listing the short field names and the full ones). ``encoding`` (``utf-8`` or ``gbk``) is
    the Shapefile's; GeoJSON and GeoPackage are always UTF-8.
    """
    if fmt not in PLAN_FORMATS:
        raise BadInput.say("export.unknown_format", fmt=fmt, formats=", ".join(PLAN_FORMATS))
    if fmt != "shp" and shapefile_encoding(encoding).name != "utf-8":
        raise BadInput.say("export.encoding_for_shp", encoding=encoding, fmt=fmt,
                           details={"encoding": encoding, "format": fmt})
    with reading(engine) as conn:
        queries.get_plan(conn, plan_id=plan_id)
    stem = f"plan-{plan_id}"
    if fmt == "shp":
        import zipfile

        folder = Path(directory) / stem
        folder.mkdir(parents=True, exist_ok=True)
        shp = folder / f"{stem}.shp"
        export_file(engine, shp, layer="grids", crs=crs, plan_id=plan_id, encoding=encoding)
        out = Path(directory) / f"{stem}.zip"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for part in sorted(folder.iterdir()):
                z.write(part, "README.txt" if part == fields_file(shp) else part.name)
        return out
    out = Path(directory) / f"{stem}{PLAN_FORMATS[fmt][0]}"
    export_file(engine, out, layer="grids", crs=crs, plan_id=plan_id)
    return out


def read_plan_file(path: Path, *, crs: str | None = None, layer: str | None = None, name: str | None = None,
                   max_unzipped_bytes: int, max_archive_members: int) -> list[dict[str, Any]]:
    """The grids of a plan file (GeoPackage, GeoJSON, or a zipped Shapefile), checked feature by feature.

    Every feature needs a valid Polygon/MultiPolygon, a 15-digit ``code`` (unique in
    the file) and a ``community_code``; all problems are reported together
    (:class:`geo.errors.BadInput` with ``details.problems`` = [{index, reason}]).
    The file is opened as :mod:`geo.file_safety` says (a zip is bounded by
    ``max_unzipped_bytes`` and ``max_archive_members`` before anything is extracted);
    ``name`` is the file's name as the user knows it, for messages.
    """
    path = Path(path)
    name = name or path.name
    if path.suffix.lower() == ".zip":
        path = extract_shapefile(path, path.with_suffix(""), name=name, max_total_bytes=max_unzipped_bytes,
                                 max_members=max_archive_members)
    gdf = read_features(path, crs=crs, layer=layer, name=name)
    kind = str(gdf.attrs.get("source_geometry_type") or "")
    if kind.endswith("Z") or kind.endswith("ZM"):
        raise BadInput.say("import.three_d", kind=kind)
    gdf = _full_names(gdf, path, layer="grids")  # a Shapefile's 10-character field names
    # each feature's reasons, in English and in Chinese: the geometry's first, then the properties'
    problems: dict[int, list[tuple[str, str]]] = {
        p.index: [(p.reason, p.reason_zh or p.reason)]
        for p in validate_features(gdf, geometry_types={"Polygon", "MultiPolygon"})}
    seen: dict[str, int] = {}
    grids = []
    for p, geom in zip(_props(gdf), gdf.geometry, strict=True):
        idx = int(p["feature_index"])
        code = str(p.get("code") or "")
        reasons: list[Msg] = []
        if not (len(code) == 15 and code.isdigit()):
            reasons.append(Msg("import.code_digits", code=excerpt(code, chars=17)))
        if _present("community_code")(p):
            reasons.append(Msg("import.missing", names="community_code"))
        if geom is not None and shapely.get_num_coordinates(geom) > MAX_VERTICES:
            reasons.append(Msg("import.too_many_vertices", n=int(shapely.get_num_coordinates(geom)),
                               limit=MAX_VERTICES))
        if code in seen:
            reasons.append(Msg("import.code_repeats", code=excerpt(code, chars=17), index=seen[code]))
        seen.setdefault(code, idx)
        if reasons:
            problems.setdefault(idx, []).extend((m.render(1), m.render(0)) for m in reasons)
        grids.append({"code": code, "name": p.get("name"), "community_code": str(p.get("community_code") or ""),
                      "geometry": geom})
    if problems:
        listed = [FeatureProblem(i, "; ".join(r[0] for r in rs), "；".join(r[1] for r in rs))
                  for i, rs in sorted(problems.items())]
        first = listed[0]
        raise BadInput.say("import.refused", n=len(listed), total=len(gdf), index=first.index,
                           reason=Said(first.reason_zh or first.reason, first.reason),
                           details={"problems": [f.as_dict() for f in listed]})
    if not grids:
        raise BadInput.say("import.no_grids")
    return grids
