"""Batch lookup: many points or addresses against one :class:`~geo.grid_index.PlanIndex`.

A bad row gets its own error and never fails the batch; results keep input order.
Points go through the same vectorised index as single lookups; a CSV comes back
as CSV (input columns plus the grid's), produced in chunks so a million rows
stream out while they are written.

Nothing here holds the interpreter for long at a time (the API runs it in a worker thread while
the event loop keeps answering other requests, and a thread holding the GIL in one C call stalls
them all): a JSON body is split into rows by a vectorised structural scan
(:func:`read_json_batch`) and parsed :data:`PARSE_CHUNK_ROWS` rows per ``orjson`` call — one
``orjson.loads`` of a million points holds the GIL ~1 s, most of it in the garbage collector
walking the million row lists; a CSV is decoded, read and converted in chunks of the same size.

The package's modules: :mod:`geo.batch.rows` (``[lon, lat]`` rows into arrays, the row limit),
:mod:`geo.batch.locate` (points and addresses to grids, :class:`Results`), :mod:`geo.batch.json_body`
(:func:`read_json_batch`, :class:`JsonBatch`) and :mod:`geo.batch.csv_body` (:func:`read_csv_table`,
:func:`csv_results`). Import from the package (``from geo import batch``): the names below are its API.
"""

from __future__ import annotations

from geo.batch.csv_body import (
    ADDRESS_NAMES,
    CSV_CHUNK,
    LAT_NAMES,
    LON_NAMES,
    csv_results,
    decode_csv,
    read_csv_table,
)
from geo.batch.json_body import MAX_OPTIONS_BYTES, JsonBatch, read_json_batch
from geo.batch.locate import (
    MAX_ADDRESS_CHARS,
    OUTSIDE,
    Results,
    locate_addresses,
    locate_arrays,
    locate_parsed,
    locate_points,
)
from geo.batch.rows import PARSE_CHUNK_ROWS, check_rows, json_repr, parse_rows

__all__ = [
    "ADDRESS_NAMES",
    "CSV_CHUNK",
    "LAT_NAMES",
    "LON_NAMES",
    "MAX_ADDRESS_CHARS",
    "MAX_OPTIONS_BYTES",
    "OUTSIDE",
    "PARSE_CHUNK_ROWS",
    "JsonBatch",
    "Results",
    "check_rows",
    "csv_results",
    "decode_csv",
    "json_repr",
    "locate_addresses",
    "locate_arrays",
    "locate_parsed",
    "locate_points",
    "parse_rows",
    "read_csv_table",
    "read_json_batch",
]
