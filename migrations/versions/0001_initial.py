"""Initial schema: town, communities, grid plans and grids, buildings and units,
roads, cameras, key places, staff, incidents and their events, audit log, API keys.

Every geometry column is typed (PostGIS typmod) and also carries explicit CHECKs on
SRID, geometry type and validity, so a bad geometry is refused by the database
itself whichever client writes it. GiST indexes on every geometry. The database
also enforces that a town has at most one published plan at any moment (a partial
unique index) and, once any plan has been published, exactly one (a deferred
constraint trigger, so retire + publish in one transaction is allowed).

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _geom_checks(table: str, column: str, types: tuple[str, ...]) -> str:
    kinds = ", ".join(f"'{t}'" for t in types)
    return f"""
    ALTER TABLE {table}
      ADD CONSTRAINT {table}_{column}_srid CHECK (ST_SRID({column}) = 4326),
      ADD CONSTRAINT {table}_{column}_type CHECK (GeometryType({column}) IN ({kinds})),
      ADD CONSTRAINT {table}_{column}_valid CHECK (ST_IsValid({column}) AND NOT ST_IsEmpty({column}));
    CREATE INDEX {table}_{column}_gist ON {table} USING gist ({column});
    """


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


# Migrations are snapshots: they repeat these lists rather than import the models, which move on.
PLAN_STATUSES = ("draft", "published", "retired")
CAMERA_KINDS = ("bullet", "dome", "ptz", "fisheye")
CAMERA_STATUSES = ("online", "offline", "fault")
CAMERA_MOUNTS = ("pole", "wall", "ceiling")
KEY_PLACE_KINDS = ("gate", "square", "parking", "kindergarten", "school", "market", "clinic", "other")
STAFF_ROLES = ("cadre", "grid_member", "building_chief", "unit_chief")
INCIDENT_STATUSES = ("reported", "accepted", "assigned", "assisting", "closed", "rejected", "duplicate")
ROLES = ("client", "viewer", "operator", "planner", "admin")


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute(f"""
    CREATE TABLE town (
      id serial PRIMARY KEY,
      code varchar(9) NOT NULL UNIQUE CHECK (code ~ '^[0-9]{{9}}$'),
      name text NOT NULL,
      name_en text,
      district_code varchar(6) NOT NULL CHECK (district_code ~ '^[0-9]{{6}}$')
    );

    CREATE TABLE community (
      id serial PRIMARY KEY,
      town_id integer NOT NULL REFERENCES town(id),
      code varchar(12) NOT NULL UNIQUE CHECK (code ~ '^[0-9]{{12}}$'),
      name text NOT NULL,
      name_en text,
      pinyin text,
      aliases jsonb NOT NULL DEFAULT '[]',
      geom geometry(MultiPolygon, 4326) NOT NULL
    );
    {_geom_checks("community", "geom", ("MULTIPOLYGON",))}

    CREATE TABLE grid_plan (
      id serial PRIMARY KEY,
      town_id integer NOT NULL REFERENCES town(id),
      name text NOT NULL,
      status varchar(9) NOT NULL DEFAULT 'draft' CHECK (status IN {_in(PLAN_STATUSES)}),
      version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
      parent_id integer REFERENCES grid_plan(id),
      created_at timestamptz NOT NULL DEFAULT now(),
      created_by text,
      published_at timestamptz,
      retired_at timestamptz,
      CHECK ((status = 'draft') = (published_at IS NULL)),
      CHECK ((status = 'retired') = (retired_at IS NOT NULL)),
      CHECK (retired_at IS NULL OR retired_at >= published_at)
    );
    CREATE UNIQUE INDEX grid_plan_one_published ON grid_plan (town_id) WHERE status = 'published';

    CREATE FUNCTION grid_plan_check_published() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM grid_plan p WHERE p.status <> 'draft'
                 AND NOT EXISTS (SELECT 1 FROM grid_plan q
                                 WHERE q.town_id = p.town_id AND q.status = 'published')) THEN
        RAISE EXCEPTION 'a town whose plans have been published must have exactly one published plan'
          USING ERRCODE = 'check_violation';
      END IF;
      RETURN NULL;
    END $$;
    CREATE CONSTRAINT TRIGGER grid_plan_exactly_one_published
      AFTER INSERT OR UPDATE OR DELETE ON grid_plan
      DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW EXECUTE FUNCTION grid_plan_check_published();

    CREATE TABLE grid (
      id serial PRIMARY KEY,
      plan_id integer NOT NULL REFERENCES grid_plan(id) ON DELETE CASCADE,
      community_id integer NOT NULL REFERENCES community(id),
      code varchar(15) NOT NULL CHECK (code ~ '^[0-9]{{15}}$'),
      name text NOT NULL,
      geom geometry(MultiPolygon, 4326) NOT NULL,
      UNIQUE (plan_id, code)
    );
    {_geom_checks("grid", "geom", ("MULTIPOLYGON",))}
    CREATE INDEX grid_code ON grid (code);

    CREATE TABLE building (
      id serial PRIMARY KEY,
      community_id integer NOT NULL REFERENCES community(id),
      code varchar(32) NOT NULL UNIQUE,
      number integer NOT NULL CHECK (number > 0),
      name text NOT NULL,
      address text NOT NULL,
      floors smallint NOT NULL CHECK (floors BETWEEN 1 AND 200),
      height_m double precision NOT NULL CHECK (height_m > 0 AND height_m < 700),
      geom geometry(Polygon, 4326) NOT NULL,
      UNIQUE (community_id, number)
    );
    {_geom_checks("building", "geom", ("POLYGON",))}

    CREATE TABLE unit (
      id serial PRIMARY KEY,
      building_id integer NOT NULL REFERENCES building(id) ON DELETE CASCADE,
      number smallint NOT NULL CHECK (number > 0),
      households integer NOT NULL CHECK (households >= 0),
      population integer NOT NULL CHECK (population >= 0),
      UNIQUE (building_id, number)
    );

    CREATE TABLE road (
      id serial PRIMARY KEY,
      community_id integer REFERENCES community(id),
      name text,
      kind varchar(16) NOT NULL,
      width_m double precision NOT NULL CHECK (width_m > 0),
      geom geometry(LineString, 4326) NOT NULL
    );
    {_geom_checks("road", "geom", ("LINESTRING",))}

    CREATE TABLE camera (
      id serial PRIMARY KEY,
      code varchar(20) NOT NULL UNIQUE CHECK (code ~ '^[0-9]{{20}}$'),
      name text NOT NULL,
      kind varchar(8) NOT NULL CHECK (kind IN {_in(CAMERA_KINDS)}),
      status varchar(8) NOT NULL CHECK (status IN {_in(CAMERA_STATUSES)}),
      mount varchar(8) NOT NULL CHECK (mount IN {_in(CAMERA_MOUNTS)}),
      height_m double precision NOT NULL CHECK (height_m >= 0 AND height_m <= 300),
      azimuth_deg double precision NOT NULL CHECK (azimuth_deg >= 0 AND azimuth_deg < 360),
      hfov_deg double precision NOT NULL CHECK (hfov_deg > 0 AND hfov_deg <= 360),
      range_m double precision CHECK (range_m > 0 AND range_m <= 2000),
      resolution_px integer CHECK (resolution_px > 0),
      community_id integer REFERENCES community(id),
      building_id integer REFERENCES building(id),
      geom geometry(Point, 4326) NOT NULL,
      CHECK (range_m IS NOT NULL OR resolution_px IS NOT NULL)
    );
    {_geom_checks("camera", "geom", ("POINT",))}

    CREATE TABLE key_place (
      id serial PRIMARY KEY,
      community_id integer REFERENCES community(id),
      kind varchar(16) NOT NULL CHECK (kind IN {_in(KEY_PLACE_KINDS)}),
      name text NOT NULL,
      geom geometry(Geometry, 4326) NOT NULL
    );
    {_geom_checks("key_place", "geom", ("POINT", "POLYGON", "MULTIPOLYGON"))}

    CREATE TABLE staff (
      id serial PRIMARY KEY,
      role varchar(16) NOT NULL CHECK (role IN {_in(STAFF_ROLES)}),
      name text NOT NULL,
      phone text NOT NULL,
      community_id integer REFERENCES community(id),
      grid_code varchar(15),
      building_id integer REFERENCES building(id),
      unit_id integer REFERENCES unit(id),
      CHECK (role <> 'grid_member' OR grid_code IS NOT NULL),
      CHECK (role <> 'building_chief' OR building_id IS NOT NULL),
      CHECK (role <> 'unit_chief' OR unit_id IS NOT NULL)
    );
    CREATE INDEX staff_grid_code ON staff (grid_code);

    CREATE TABLE incident (
      id bigserial PRIMARY KEY,
      ref text UNIQUE,
      category varchar(24) NOT NULL,
      subcategory varchar(24),
      source varchar(16) NOT NULL,
      severity smallint NOT NULL CHECK (severity BETWEEN 1 AND 4),
      description text,
      occurred_at timestamptz NOT NULL,
      reported_at timestamptz NOT NULL DEFAULT now(),
      status varchar(10) NOT NULL DEFAULT 'reported' CHECK (status IN {_in(INCIDENT_STATUSES)}),
      grid_code varchar(15),
      plan_id integer REFERENCES grid_plan(id),
      geom geometry(Point, 4326) NOT NULL
    );
    {_geom_checks("incident", "geom", ("POINT",))}
    CREATE INDEX incident_occurred_at ON incident (occurred_at);
    CREATE INDEX incident_grid_code ON incident (grid_code);

    CREATE TABLE incident_event (
      id bigserial PRIMARY KEY,
      incident_id bigint NOT NULL REFERENCES incident(id) ON DELETE CASCADE,
      seq smallint NOT NULL,
      from_status varchar(10) CHECK (from_status IN {_in(INCIDENT_STATUSES)}),
      to_status varchar(10) NOT NULL CHECK (to_status IN {_in(INCIDENT_STATUSES)}),
      at timestamptz NOT NULL,
      actor text NOT NULL,
      note text,
      assignee text,
      UNIQUE (incident_id, seq)
    );

    CREATE TABLE audit_log (
      id bigserial PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      actor text NOT NULL,
      action text NOT NULL,
      entity text NOT NULL,
      entity_id text,
      before jsonb,
      after jsonb
    );
    CREATE INDEX audit_log_at ON audit_log (at);

    CREATE TABLE api_key (
      id serial PRIMARY KEY,
      prefix varchar(12) NOT NULL UNIQUE,
      key_hash varchar(64) NOT NULL UNIQUE,
      role varchar(8) NOT NULL CHECK (role IN {_in(ROLES)}),
      name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      revoked_at timestamptz
    );
    """)


def downgrade() -> None:
    # The postgis extension stays: other schemas in a shared database may use it.
    op.execute("""
    DROP TABLE IF EXISTS api_key, audit_log, incident_event, incident, staff, key_place,
      camera, road, unit, building, grid, grid_plan, community, town CASCADE;
    DROP FUNCTION IF EXISTS grid_plan_check_published();
    """)
