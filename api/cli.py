"""The ``gridmap`` command line (Typer): serve, db, demo, import/export, keys."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from geo.config import Settings, get_settings
from geo.errors import GridmapError

app = typer.Typer(help="gridmap: grid management for township governance on PostGIS.", no_args_is_help=True)
db_app = typer.Typer(help="The database: the embedded PostGIS cluster (or GRIDMAP_DATABASE_URL) and its schema.",
                     no_args_is_help=True)
demo_app = typer.Typer(help="The deterministic Gaoshan demo data.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys (stored hashed; shown once).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(keys_app, name="keys")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


class Progress:
    """Prints one line per stage and updates it in place on a terminal (plain lines in logs)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last: tuple[str, float] = ("", 0.0)
        self.started = time.monotonic()

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        final = done >= total
        if not final and stage == self.last[0] and now - self.last[1] < 0.5:
            return
        self.last = (stage, now)
        pct = 100.0 * done / total if total else 100.0
        line = f"{stage}: {done:,}/{total:,} ({pct:5.1f}%) {now - self.started:6.1f} s"
        sys.stderr.write(("\r" if self.tty else "") + line + ("\n" if final or not self.tty else ""))
        sys.stderr.flush()


def _settings() -> Settings:
    return get_settings()


# -- serve ---------------------------------------------------------------------------

#: How ``serve`` runs uvicorn, besides host, port and workers. uvicorn believes X-Forwarded-For from
#: 127.0.0.1 by default (``proxy_headers=True``, ``forwarded_allow_ips``), so anyone on the same host, or
#: a client whose request a local proxy passes on, could pick their address; the app decides instead,
#: from GRIDMAP_TRUSTED_PROXIES (api.ratelimit.proxy_trust). uvloop and httptools: the fast event loop
#: and HTTP parser (uvicorn[standard]), named so that a missing one fails at start instead of falling
#: back to asyncio/h11 unnoticed.
UVICORN_OPTIONS: dict[str, object] = {"proxy_headers": False, "loop": "uvloop", "http": "httptools"}

#: What every worker process imports and calls: it builds its settings from the GRIDMAP_* environment.
APP_FACTORY = "api.app:create_app"


def settings_environment(overrides: dict[str, object]) -> dict[str, str]:
    """The GRIDMAP_* variables that give worker processes the settings the command line chose.

    >>> settings_environment({"host": "0.0.0.0", "port": 8080, "workers": 2})
    {'GRIDMAP_HOST': '0.0.0.0', 'GRIDMAP_PORT': '8080', 'GRIDMAP_WORKERS': '2'}
    """
    return {f"GRIDMAP_{name.upper()}": str(value) for name, value in overrides.items()}


@app.command()
def serve(
    setup: Annotated[bool, typer.Option(help="start the cluster, migrate and load the demo data when empty")] = True,
    host: Annotated[Optional[str], typer.Option(help="default: GRIDMAP_HOST or 127.0.0.1")] = None,
    port: Annotated[Optional[int], typer.Option(help="default: GRIDMAP_PORT or 8000")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1, help="worker processes; default: GRIDMAP_WORKERS or "
                                                             "one per CPU core")] = None,
) -> None:
    """Serve the API and maps (http://127.0.0.1:8000 by default) with several worker processes."""
    overrides: dict[str, object] = {}
    if host:
        overrides["host"] = host
    if port:
        overrides["port"] = port
    if workers:
        overrides["workers"] = workers
    # The workers build their own settings from the environment (create_app() with none): the options
    # above reach them as GRIDMAP_* variables, set while uvicorn starts them (and put back after).
    environment = settings_environment(overrides)
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    try:
        _serve(setup)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _serve(setup: bool) -> None:
    import uvicorn

    from api.app import create_app
    from geo.coverage_service import recompute_all
    from geo.store.load import database_is_empty, load_dataset
    from geo.store.setup import prepare

    try:
        settings = get_settings()
        create_app(settings)  # nothing runs until served; checks the settings now, once, in this process
    except ValueError as exc:  # a setting the app cannot use (GRIDMAP_TRUSTED_PROXIES, GRIDMAP_WORKERS)
        raise _fail(str(exc)) from None
    try:
        if setup:  # once, here, before the workers start: they find the cluster up and the schema at head
            engine = prepare(settings)
            if database_is_empty(engine):
                typer.echo(f"loading the Gaoshan demo data from {settings.demo_dir} ...")
                counts = load_dataset(engine, settings.demo_dir, progress=Progress())
                typer.echo("loaded: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
                typer.echo("computing camera views and coverage ...")
                recompute_all(engine, progress=Progress(), metric_crs=settings.metric_crs)
            key = _local_admin_key(settings, engine)
            engine.dispose()
        else:
            key = None
    except GridmapError as exc:
        raise _fail(exc.message) from None
    base = f"http://{settings.host}:{settings.port}"
    typer.echo("")
    typer.echo(f"gridmap on {base} ({settings.workers} worker{'s' if settings.workers > 1 else ''})")
    typer.echo(f"  maps:   {base}/maps/   (sign in with the key below)")
    typer.echo(f"  API:    {base}/docs")
    typer.echo(f"  health: {base}/health")
    typer.echo("  X-Forwarded-For believed from: " + (settings.trusted_proxies.strip() or
                                                     "nobody (GRIDMAP_TRUSTED_PROXIES is empty)"))
    if key:
        typer.echo(f"  local admin key (also in {settings.var_dir / 'admin.key'}):")
        typer.echo(f"  {key}")
    uvicorn.run(APP_FACTORY, factory=True, host=settings.host, port=settings.port, workers=settings.workers,
                log_level="info", access_log=settings.access_log, **UVICORN_OPTIONS)


def _local_admin_key(settings: Settings, engine: object) -> str:
    """The local admin key kept in var/admin.key (mode 600), created when missing or revoked."""
    from geo.errors import Unauthorized
    from geo.keys import authenticate, create_key

    path = settings.var_dir / "admin.key"
    if path.exists():
        key = path.read_text().strip()
        try:
            authenticate(engine, key)  # type: ignore[arg-type]
            return key
        except Unauthorized:
            pass
    _, key = create_key(engine, role="admin", name="local admin (make run)")  # type: ignore[arg-type]
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


# -- db ----------------------------------------------------------------------------------


@db_app.command("start")
def db_start() -> None:
    """Start the embedded cluster (a running one is reused) and create the database."""
    from geo.store.db import cluster_for, uses_embedded

    settings = _settings()
    if not uses_embedded(settings):
        typer.echo("GRIDMAP_DATABASE_URL is set: nothing to start")
        return
    cluster = cluster_for(settings)
    try:
        started = cluster.start()
        created = cluster.ensure_database(settings.pg_database)
    except GridmapError as exc:
        raise _fail(exc.message) from None
    typer.echo(f"cluster {'started' if started else 'already running'} in {cluster.root} "
               f"(socket {cluster.socket_dir}, port {cluster.port}); database {settings.pg_database}"
               f"{' created' if created else ''}")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded cluster."""
    from geo.store.db import cluster_for

    cluster = cluster_for(_settings())
    try:
        stopped = cluster.stop()
    except GridmapError as exc:
        raise _fail(exc.message) from None
    typer.echo("cluster stopped" if stopped else "cluster was not running")


@db_app.command("status")
def db_status() -> None:
    """Say whether the database answers, its migration revision and what it holds."""
    from sqlalchemy.exc import DBAPIError

    from geo.store import migrate, queries
    from geo.store.db import cluster_for, database_url, make_engine, uses_embedded

    settings = _settings()
    if uses_embedded(settings):
        cluster = cluster_for(settings)
        typer.echo(f"embedded cluster {cluster.root}: {'running' if cluster.running() else 'stopped'}")
    engine = make_engine(database_url(settings))
    try:
        rev = migrate.current_revision(engine)
        typer.echo(f"schema revision: {rev or 'none'} (head {migrate.head_revision()})")
        if rev:
            with engine.connect() as conn:
                typer.echo("rows: " + ", ".join(f"{k} {v:,}" for k, v in queries.counts(conn).items()))
                plan = queries.published_plan(conn)
                typer.echo(f"published plan: {plan['id']} {plan['name']}" if plan else "no published plan")
    except DBAPIError as exc:
        raise _fail(f"the database does not answer: {exc.orig}") from None
    finally:
        engine.dispose()


@db_app.command("migrate")
def db_migrate(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Apply the migrations (Alembic) up to REVISION."""
    from geo.store import migrate
    from geo.store.setup import ensure_database

    try:
        url = ensure_database(_settings())
        migrate.upgrade(url, revision)
    except GridmapError as exc:
        raise _fail(exc.message) from None
    typer.echo(f"migrated to {revision}")


@db_app.command("reset")
def db_reset(yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False) -> None:
    """Drop every gridmap table and migrate again: an empty schema (the demo loads on the next serve)."""
    from geo.store import migrate
    from geo.store.setup import ensure_database

    if not yes:
        typer.confirm("this deletes all gridmap data in the database; continue?", abort=True)
    url = ensure_database(_settings())
    migrate.downgrade(url, "base")
    migrate.upgrade(url, "head")
    typer.echo("database reset: schema at head, no data")


# -- demo --------------------------------------------------------------------------------


@demo_app.command("generate")
def demo_generate(
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same files")] = 1,
    scale: Annotated[str, typer.Option(help="town (the committed Gaoshan data) or city (Datong-sized)")] = "town",
    out: Annotated[Optional[Path], typer.Option(help="output folder; default data/boundaries (town) "
                                                    "or var/city (city)")] = None,
) -> None:
    """Generate the demo data set (deterministic)."""
    from geo.demo import generate

    if scale not in ("town", "city"):
        raise _fail(f"--scale must be town or city, not {scale!r}")
    settings = _settings()
    out_dir = out or (settings.demo_dir if scale == "town" else settings.var_dir / "city")
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = generate(seed=seed, scale=scale, out_dir=out_dir, progress=Progress())  # type: ignore[arg-type]
    typer.echo(f"wrote {out_dir}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


@demo_app.command("load")
def demo_load(
    data_dir: Annotated[Optional[Path], typer.Option("--dir", help="default: data/boundaries")] = None,
    reset: Annotated[bool, typer.Option("--reset", help="empty the database first")] = False,
    coverage: Annotated[bool, typer.Option(help="compute camera views and coverage after loading")] = True,
) -> None:
    """Load a generated data set into the database (all or nothing), then compute coverage."""
    from geo.coverage_service import recompute_all
    from geo.store import migrate
    from geo.store.load import load_dataset
    from geo.store.setup import prepare

    settings = _settings()
    try:
        engine = prepare(settings)
        if reset:
            url = str(engine.url.render_as_string(hide_password=False))
            engine.dispose()
            migrate.downgrade(url, "base")
            migrate.upgrade(url, "head")
        t0 = time.monotonic()
        counts = load_dataset(engine, data_dir or settings.demo_dir, progress=Progress())
        typer.echo(f"loaded in {time.monotonic() - t0:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        if coverage:
            t0 = time.monotonic()
            recompute_all(engine, progress=Progress(), metric_crs=settings.metric_crs)
            typer.echo(f"camera views and coverage computed in {time.monotonic() - t0:.1f} s")
    except GridmapError as exc:
        raise _fail(exc.message) from None


# -- import / export ---------------------------------------------------------------------


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help=".geojson, .gpkg, .shp or .csv (lon/lat columns)", exists=True)],
    layer: Annotated[str, typer.Option(help="communities | buildings | cameras | key_places")],
    crs: Annotated[Optional[str], typer.Option(help="source CRS: wgs84 | cgcs2000 | gcj02 | bd09 | EPSG:n "
                                                    "(default: the file's)")] = None,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="import the valid features, "
                                                                      "report the others")] = False,
) -> None:
    """Import a layer from a file: every invalid feature is reported; nothing is imported unless all are valid."""
    from geo.exchange import import_file

    try:
        result = import_file(_engine(), path, layer=layer, crs=crs, skip_invalid=skip_invalid)
    except GridmapError as exc:
        details = exc.details if isinstance(exc.details, list) else []
        for p in details:
            typer.secho(f"feature {p['index']}: {p['reason']}", fg=typer.colors.YELLOW, err=True)
        message = exc.message.split(": feature ")[0] if details else exc.message
        raise _fail(message) from None
    for p in result.skipped:
        typer.secho(f"skipped feature {p.index}: {p.reason}", fg=typer.colors.YELLOW, err=True)
    typer.echo(f"imported {result.imported} {layer}" + (f", skipped {len(result.skipped)}" if result.skipped else ""))


@app.command("export")
def export(
    layer: Annotated[str, typer.Argument(help="communities | grids | buildings | cameras | key_places")],
    path: Annotated[Path, typer.Argument(help=".geojson, .gpkg, .shp or .csv")],
    crs: Annotated[str, typer.Option(help="wgs84 | cgcs2000 | gcj02 | bd09 | EPSG:n")] = "wgs84",
    plan: Annotated[Optional[int], typer.Option(help="plan id (default: the published plan)")] = None,
    encoding: Annotated[str, typer.Option(help="Shapefile attributes: utf-8 (.cpg UTF-8) or gbk (.cpg CP936); "
                                               "other formats are UTF-8")] = "utf-8",
) -> None:
    """Export a layer to a file (a .shp gets 10-character field names, listed in <name>.fields.txt beside it)."""
    from geo.exchange import export_file, fields_file

    try:
        n = export_file(_engine(), path, layer=layer, crs=crs, plan_id=plan, encoding=encoding)
    except GridmapError as exc:
        raise _fail(exc.message) from None
    typer.echo(f"exported {n} {layer} to {path}")
    if path.suffix.lower() == ".shp":
        typer.echo(f"field names: {fields_file(path)}")


# -- coverage --------------------------------------------------------------------------------

coverage_app = typer.Typer(help="Camera views and coverage (stored; recomputed when cameras or buildings change).",
                           no_args_is_help=True)
app.add_typer(coverage_app, name="coverage")


@coverage_app.command("recompute")
def coverage_recompute(force: Annotated[bool, typer.Option("--force", help="recompute every view, "
                                                                         "not only stale ones")] = False) -> None:
    """Recompute stale camera views, then every grid's coverage and gaps (with progress)."""
    from geo.coverage_service import recompute_all

    t0 = time.monotonic()
    try:
        counts = recompute_all(_engine(), force=force, progress=Progress(), metric_crs=_settings().metric_crs)
    except GridmapError as exc:
        raise _fail(exc.message) from None
    typer.echo(f"coverage recomputed in {time.monotonic() - t0:.1f} s: views computed {counts['computed']:,}, "
               f"unchanged {counts['unchanged']:,}; grids {counts['grids']:,}")


# -- plans -------------------------------------------------------------------------------

plans_app = typer.Typer(help="Grid plans: list, validate, publish (the editor is /maps/editor).", no_args_is_help=True)
app.add_typer(plans_app, name="plans")


@plans_app.command("list")
def plans_list() -> None:
    """Every plan: id, status, version, published/retired, name."""
    from geo.store import queries

    with _engine().connect() as conn:
        for p in queries.list_plans(conn):
            when = p["retired_at"] or p["published_at"] or ""
            typer.echo(f"{p['id']:>5}  {p['status']:<9}  v{p['version']:<4}  {when[:16]:<16}  {p['name']}")


@plans_app.command("validate")
def plans_validate(plan: Annotated[int, typer.Argument(help="plan id (plans list)")]) -> None:
    """Validate a plan: every problem (errors, then band warnings); exit status 1 when there are errors."""
    from geo.plans import Bands, validate_plan

    settings = _settings()
    t0 = time.monotonic()
    try:
        with _engine().connect() as conn:
            report = validate_plan(conn, plan_id=plan, bands=Bands.of(settings), metric_crs=settings.metric_crs)
    except GridmapError as exc:
        raise _fail(exc.message) from None
    for p in report.errors + report.warnings:
        typer.echo(f"{p.severity:<7}  {p.kind:<18}  {p.detail}")
    typer.echo(f"plan {plan}: {len(report.metrics):,} grids, {len(report.errors)} errors, "
               f"{len(report.warnings)} warnings ({time.monotonic() - t0:.1f} s)")
    if report.errors:
        raise typer.Exit(1)


@plans_app.command("publish")
def plans_publish(
    plan: Annotated[int, typer.Argument(help="plan id of a draft")],
    acknowledge_warnings: Annotated[bool, typer.Option("--acknowledge-warnings",
                                                       help="publish despite band warnings")] = False,
) -> None:
    """Validate and publish a draft atomically (the published plan is retired)."""
    from functools import partial

    from geo.coverage_service import on_plan_published
    from geo.plans import Bands, publish

    settings = _settings()
    t0 = time.monotonic()
    try:
        publish(_engine(), plan_id=plan, actor="cli", acknowledge_warnings=acknowledge_warnings,
                bands=Bands.of(settings), metric_crs=settings.metric_crs,
                on_published=partial(on_plan_published, metric_crs=settings.metric_crs))
    except GridmapError as exc:
        problems = (exc.details or {}).get("problems", []) if isinstance(exc.details, dict) else []
        for p in problems:
            typer.echo(f"{p['severity']:<7}  {p['kind']:<18}  {p['detail']}", err=True)
        raise _fail(exc.message) from None
    typer.echo(f"published plan {plan} in {time.monotonic() - t0:.1f} s")


# -- keys --------------------------------------------------------------------------------


def _engine():  # type: ignore[no-untyped-def]
    from geo.store.setup import prepare

    return prepare(_settings())


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="client | viewer | operator | planner | admin")],
    name: Annotated[str, typer.Option(help="who or what the key is for")] = "",
) -> None:
    """Create a key; prints it as the last line (it is not stored, only its hash)."""
    from geo.keys import create_key

    try:
        info, key = create_key(_engine(), role=role, name=name)
    except GridmapError as exc:
        raise _fail(exc.message) from None
    typer.echo(f"created {info.role} key {info.prefix} ({info.name}); keep it now, it is not shown again:")
    typer.echo(key)


@keys_app.command("list")
def keys_list() -> None:
    """List keys (prefix, role, name, created, revoked)."""
    from geo.keys import list_keys

    for k in list_keys(_engine()):
        state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active"
        typer.echo(f"{k.prefix}  {k.role:<8}  {k.created_at:%Y-%m-%d %H:%M}  {state:<24}  {k.name}")


@keys_app.command("revoke")
def keys_revoke(prefix: Annotated[str, typer.Argument(help="the key's prefix (keys list)")]) -> None:
    """Revoke a key by its prefix."""
    from geo.keys import revoke_key

    try:
        info = revoke_key(_engine(), prefix=prefix)
    except GridmapError as exc:
        raise _fail(exc.message) from None
    typer.echo(f"revoked {info.prefix} ({info.role}, {info.name})")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
