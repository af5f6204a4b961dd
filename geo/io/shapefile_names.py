"""Shapefile field names: at most 10 characters, chosen on purpose for every exported layer.

A dBASE (.dbf) field name holds 10 ASCII characters. Left to itself GDAL *launders* longer names
by cutting them and numbering the clashes (``community_code`` → ``community_``,
``community_name`` → ``communit_1``), which says nothing to the reader and changes when a column
is added. gridmap writes the short names below instead (:data:`SHAPEFILE_FIELDS`, the one table;
the README shows it), applies them on write (:func:`short_names`) and turns them back into the
full names on read (:func:`full_names`), so a Shapefile exported by gridmap imports again. Columns
not listed keep their names, which are 10 characters or fewer.

:data:`LEGACY_FIELDS` are the laundered names of Shapefiles written before this table existed;
they are read, never written.

Examples
--------
>>> short_names(["code", "community_code", "grid_member_phone"], layer="grids")
{'code': 'code', 'community_code': 'comm_code', 'grid_member_phone': 'gm_phone'}
>>> full_names(["code", "comm_code", "households"], layer="grids")
{'comm_code': 'community_code'}
>>> full_names(["code", "community_"], layer="grids")  # a Shapefile gridmap wrote before
{'community_': 'community_code'}
"""

from __future__ import annotations

from collections.abc import Iterable

#: The longest dBASE field name.
MAX_FIELD_NAME = 10

#: Per exported layer: full column name → its Shapefile field name. Columns not listed keep their
#: names (all 10 characters or fewer: id, code, name, households, population, ...).
SHAPEFILE_FIELDS: dict[str, dict[str, str]] = {
    "grids": {
        "community_code": "comm_code",
        "community_name": "comm_name",
        "grid_member": "gm_name",
        "grid_member_phone": "gm_phone",
    },
    "buildings": {
        "community_code": "comm_code",
    },
    "cameras": {
        "azimuth_deg": "azimuth",
        "resolution_px": "res_px",
        "building_code": "bldg_code",
    },
    "communities": {},
    "key_places": {},
}

#: Per layer: GDAL's laundered names in Shapefiles gridmap wrote before :data:`SHAPEFILE_FIELDS`
#: (read only).
LEGACY_FIELDS: dict[str, dict[str, str]] = {
    "grids": {"community_": "community_code", "communit_1": "community_name", "grid_membe": "grid_member",
              "grid_mem_1": "grid_member_phone"},
    "buildings": {"community_": "community_code"},
    "cameras": {"azimuth_de": "azimuth_deg", "resolution": "resolution_px", "building_c": "building_code"},
}


def short_names(columns: Iterable[str], *, layer: str | None) -> dict[str, str]:
    """Every column → the field name it gets in a Shapefile of *layer* (None: no table, names as they are).

    Raises
    ------
    ValueError
        A name that would still be longer than 10 characters, not ASCII, or the same as another
        field's (dBASE compares names without case): the table above lacks an entry, a defect of
        the exporter, not of the data.
    """
    table = SHAPEFILE_FIELDS.get(layer or "", {})
    out = {c: table.get(c, c) for c in columns}
    seen: dict[str, str] = {}
    for full, short in out.items():
        if len(short) > MAX_FIELD_NAME or not short.isascii():
            raise ValueError(f"Shapefile field {short!r} (column {full!r} of {layer or 'the layer'}) is not 10 ASCII "
                             "characters or fewer: give it a short name in geo/io/shapefile_names.SHAPEFILE_FIELDS")
        if short.lower() in seen:
            raise ValueError(f"columns {seen[short.lower()]!r} and {full!r} of {layer or 'the layer'} would both be "
                             f"the Shapefile field {short!r}: fix geo/io/shapefile_names.SHAPEFILE_FIELDS")
        seen[short.lower()] = full
    return out


def full_names(columns: Iterable[str], *, layer: str) -> dict[str, str]:
    """The renames that turn a Shapefile's field names of *layer* back into the full column names.

    A short name is renamed only when the file does not also hold the full name.
    """
    columns = list(columns)
    present = set(columns)
    reverse = {**LEGACY_FIELDS.get(layer, {}), **{s: f for f, s in SHAPEFILE_FIELDS.get(layer, {}).items()}}
    return {c: reverse[c] for c in columns if c in reverse and reverse[c] not in present}


def describe(renames: dict[str, str], *, layer: str | None, encoding: str) -> str:
    """A README.txt for an exported Shapefile: every field and the full column name it stands for."""
    width = max([len("field")] + [len(s) for s in renames.values()])
    lines = [f"gridmap export: {layer or 'layer'} (Shapefile, attributes in {encoding})",
             "",
             "dBASE field names hold at most 10 characters; gridmap shortens these on purpose",
             "(the same table is in gridmap's README, and gridmap's import reads both names).",
             "",
             f"{'field'.ljust(width)}  full name",
             f"{'-' * width}  ---------"]
    lines += [f"{short.ljust(width)}  {full}" for full, short in renames.items()]
    return "\n".join(lines) + "\n"
