"""Settings, built on demand from the environment (prefix ``GRIDMAP_``).

Nothing here runs at import time: call :func:`get_settings` where a value is
needed, so tests and the CLI can build settings explicitly.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from geo.vocabulary import HOUSEHOLDS_BAND, POPULATION_BAND

#: The repository (or installed source tree) root: geo/ lives directly below it.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: The town's time zone: dates without a time mean midnight here, and the database answers in it.
TOWN_TIMEZONE = "Asia/Shanghai"


class Settings(BaseSettings):
    """Everything a deployment may change. Environment variables win over defaults."""

    model_config = SettingsConfigDict(env_prefix="GRIDMAP_", extra="ignore")

    #: SQLAlchemy URL of the database. Empty: use the embedded cluster under ``var_dir``.
    database_url: str = ""
    #: URL of a read replica (streaming replication of ``database_url``) for the reads that may lag the
    #: primary by the replica's delay: tiles, OGC items pages and the lookup indexes' loads. Empty: the
    #: primary serves them. Writes, rate-limit leases, keys and sessions always go to the primary.
    read_database_url: str = ""
    #: Connections each worker keeps open in its pool (SQLAlchemy ``pool_size``) and the extra ones it may
    #: open under load (``max_overflow``, closed again when returned): one worker holds at most the sum,
    #: its lookup watcher included; with a read replica, the replica's pool is as big again.
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=20, ge=0)
    #: Where the embedded PostGIS cluster and other run-time state live (git-ignored).
    var_dir: Path = PROJECT_ROOT / "var"
    #: Port of the embedded cluster (it also listens on a Unix socket in var/).
    pg_port: int = 54329
    #: Database name inside the embedded cluster.
    pg_database: str = "gridmap"

    host: str = "127.0.0.1"
    port: int = 8000
    #: Worker processes of ``gridmap serve`` (uvicorn, uvloop + httptools); default: one per CPU core.
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    #: uvicorn's access log (a line per request) in ``gridmap serve``; off costs a worker less per request.
    access_log: bool = True

    #: Projected CRS for lengths and areas: CGCS2000 / 3-degree Gauss-Kruger CM 114E.
    metric_crs: str = "EPSG:4547"
    #: Where the committed demo data lives.
    demo_dir: Path = PROJECT_ROOT / "data" / "boundaries"

    #: Household and population band of a grid (the source: 200-300 households, 400-500 people).
    grid_households_min: int = HOUSEHOLDS_BAND[0]
    grid_households_max: int = HOUSEHOLDS_BAND[1]
    grid_population_min: int = POPULATION_BAND[0]
    grid_population_max: int = POPULATION_BAND[1]

    #: Largest request body accepted (bytes); a million-point batch as JSON is about 30 MB.
    max_body_bytes: int = 64 * 1024 * 1024
    #: An uploaded archive (a zipped Shapefile): most bytes it may unpack to, and most members it may hold;
    #: both are checked before anything is extracted.
    upload_max_unzipped_bytes: int = 256 * 1024 * 1024
    upload_max_archive_members: int = 64
    #: Most vertices of one geometry a plan edit takes (a drawn boundary, a split line, one imported grid);
    #: the edit's geometry work runs while the plan is locked and grows with it.
    edit_max_vertices: int = 5_000
    #: Most rows one batch lookup request may carry.
    batch_max_rows: int = 1_000_000
    #: CPU-heavy requests (batch lookups, heatmaps, hot spots, camera suggestions, report pages) that run
    #: at once in one worker; more wait their turn without holding a thread, so light requests keep answering.
    heavy_workers: int = Field(default=2, ge=1)
    #: Work budgets of the analysis requests, checked before the work (geo/budgets.py says what each counts).
    budget_gi_weights: int = Field(default=1_000_000, ge=1)
    budget_emerging_cells: int = Field(default=500_000, ge=1)
    budget_kde_cells: int = Field(default=1_000_000, ge=1)
    budget_weekly_cells: int = Field(default=500_000, ge=1)
    budget_suggest: int = Field(default=500_000, ge=1)
    #: How long a worker trusts a verified API key before checking it again (seconds);
    #: a revoked key stops working within this time.
    key_cache_s: float = 5.0
    #: Rate limits: requests a second and burst size, per API key and per client address, one budget
    #: across all workers and machines (buckets in PostgreSQL); 0 requests a second turns a limit off.
    rate_limit_key_per_s: float = 100.0
    rate_limit_key_burst: int = 1000
    rate_limit_address_per_s: float = 200.0
    rate_limit_address_burst: int = 2000
    #: Tokens a worker takes from a shared bucket at once and spends from memory: one database round trip
    #: per this many requests of a key (or address) per worker; a client may exceed its limit by at most
    #: workers × this (1: exact, a round trip per request).
    rate_limit_lease: int = Field(default=20, ge=1)
    #: Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed: comma-separated addresses or
    #: CIDRs (``10.0.0.5, 192.168.0.0/24``; ``*`` trusts every peer). Empty: none, and the client address
    #: (the per-address limit, the sign-in's origin check) is the connection's peer.
    trusted_proxies: str = ""
    #: Origins (``https://wall.example.org``, comma-separated; ``*`` for any) whose pages may call the API
    #: from a browser (CORS: Authorization and If-None-Match admitted, ETag exposed, no cookies). Empty: no
    #: CORS headers at all, and browsers keep other sites' pages out.
    cors_origins: str = ""
    #: Public deployments: lookups (GET /v1/lookup, /v1/lookup/address, POST /v1/lookup/batch) without a key,
    #: limited per address. Everything else still needs a key.
    anonymous_lookups: bool = False
    #: How long a map sign-in lasts (hours).
    session_hours: float = 12.0
    #: How often each worker checks for a newly published plan (seconds).
    lookup_poll_s: float = 0.25

    #: Earliest incident time accepted (ISO date-time with offset); later ones up to 5 minutes past the clock.
    incident_earliest: dt.datetime = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    #: Per-step time limits of the incident workflow (hours in the state before the next step is due).
    incident_limit_reported_h: float = 2
    incident_limit_accepted_h: float = 4
    incident_limit_assigned_h: float = 24
    incident_limit_assisting_h: float = 72

    #: Basemap of the map pages: osm | tianditu | amap | none. None draws no tiles (offline).
    basemap: str = Field(default="none", pattern="^(osm|tianditu|amap|none)$")
    tianditu_key: str = ""
    #: Map pages embed a layer in the page when it has at most this many features; a bigger one (a city's
    #: grids, buildings, cameras) is loaded by view as the map moves, from /ogc items with a bbox.
    #: 0: every such layer by view.
    map_inline_max: int = Field(default=3_000, ge=0)


def get_settings(**overrides: object) -> Settings:
    """Build settings now, from the environment plus explicit ``overrides``."""
    return Settings(**overrides)  # type: ignore[arg-type]
