"""GeoAlchemy2 models of the gridmap schema.

The schema itself is created by the Alembic migrations in ``migrations/``; these
classes mirror it for queries. Geometries are stored in EPSG:4326; the database
checks their SRID, type and validity (see the migration), and GiST indexes them.

Hierarchy: town → community → grid (per plan) → building → unit. Households and
population are counts per unit: no personal data about residents is stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SRID = 4326

from geo.vocabulary import (  # noqa: E402 - the schema's words, defined once
    CAMERA_KINDS,
    CAMERA_MOUNTS,
    CAMERA_STATUSES,
    INCIDENT_STATUSES,
    KEY_PLACE_KINDS,
    PLAN_STATUSES,
    ROLES,
    STAFF_ROLES,
)

__all__ = ["CAMERA_KINDS", "CAMERA_MOUNTS", "CAMERA_STATUSES", "INCIDENT_STATUSES", "KEY_PLACE_KINDS",
           "PLAN_STATUSES", "ROLES", "SRID", "STAFF_ROLES", "Base"]


def _geom(kind: str) -> Any:
    # Indexes are created by the migration, not by GeoAlchemy2's table events.
    return Geometry(kind, srid=SRID, spatial_index=False)


class Base(DeclarativeBase):
    pass


class Town(Base):
    __tablename__ = "town"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    district_code: Mapped[str] = mapped_column(String(6))


class Community(Base):
    __tablename__ = "community"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("town.id"))
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    pinyin: Mapped[str | None] = mapped_column(Text)
    aliases: Mapped[list[str]] = mapped_column(JSONB, default=list)
    geom: Mapped[Any] = mapped_column(_geom("MULTIPOLYGON"))
    town: Mapped[Town] = relationship()


class GridPlan(Base):
    __tablename__ = "grid_plan"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("town.id"))
    name: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(9), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("grid_plan.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Grid(Base):
    __tablename__ = "grid"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("grid_plan.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    code: Mapped[str] = mapped_column(String(15))
    name: Mapped[str] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(_geom("MULTIPOLYGON"))
    #: The geometry's digest, kept by the database (migration 0010): stored coverage is keyed by it, so a
    #: grid a new plan takes over unchanged has its coverage already.
    geom_key: Mapped[bytes] = mapped_column(LargeBinary, Computed("sha256(ST_AsEWKB(geom))"))
    plan: Mapped[GridPlan] = relationship()
    community: Mapped[Community] = relationship()


class Building(Base):
    __tablename__ = "building"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(Text)
    floors: Mapped[int] = mapped_column(SmallInteger)
    height_m: Mapped[float] = mapped_column(Float)
    geom: Mapped[Any] = mapped_column(_geom("POLYGON"))
    community: Mapped[Community] = relationship()
    units: Mapped[list[Unit]] = relationship(back_populates="building", order_by="Unit.number")


class Unit(Base):
    __tablename__ = "unit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(SmallInteger)
    households: Mapped[int] = mapped_column(Integer)
    population: Mapped[int] = mapped_column(Integer)
    building: Mapped[Building] = relationship(back_populates="units")


class Road(Base):
    __tablename__ = "road"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"))
    name: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    width_m: Mapped[float] = mapped_column(Float)
    geom: Mapped[Any] = mapped_column(_geom("LINESTRING"))


class Camera(Base):
    __tablename__ = "camera"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8))
    mount: Mapped[str] = mapped_column(String(8))
    height_m: Mapped[float] = mapped_column(Float)
    azimuth_deg: Mapped[float] = mapped_column(Float)
    hfov_deg: Mapped[float] = mapped_column(Float)
    range_m: Mapped[float | None] = mapped_column(Float)
    resolution_px: Mapped[int | None] = mapped_column(Integer)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id"))
    geom: Mapped[Any] = mapped_column(_geom("POINT"))


class KeyPlace(Base):
    __tablename__ = "key_place"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(_geom("GEOMETRY"))


class Staff(Base):
    """A grid member, building chief, unit chief or cadre: a work contact, not a resident record."""

    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str] = mapped_column(Text)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"))
    #: Grid members answer for a grid code; codes outlive plans, so this is the code, not a grid row.
    grid_code: Mapped[str | None] = mapped_column(String(15))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))


class Incident(Base):
    __tablename__ = "incident"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ref: Mapped[str | None] = mapped_column(Text, unique=True)
    category: Mapped[str] = mapped_column(String(24))
    subcategory: Mapped[str | None] = mapped_column(String(24))
    source: Mapped[str] = mapped_column(String(16))
    severity: Mapped[int] = mapped_column(SmallInteger)
    description: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    status: Mapped[str] = mapped_column(String(10), default="reported")
    #: The grid at the time of report (code and plan), kept when boundaries change later.
    grid_code: Mapped[str | None] = mapped_column(String(15))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("grid_plan.id"))
    geom: Mapped[Any] = mapped_column(_geom("POINT"))


class IncidentEvent(Base):
    __tablename__ = "incident_event"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(SmallInteger)
    from_status: Mapped[str | None] = mapped_column(String(10))
    to_status: Mapped[str] = mapped_column(String(10))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(Text)


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    entity: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str | None] = mapped_column(Text)
    before: Mapped[Any | None] = mapped_column(JSONB)
    after: Mapped[Any | None] = mapped_column(JSONB)


class ApiKey(Base):
    """An API key: only its SHA-256 hash is stored; ``prefix`` identifies it in lists."""

    __tablename__ = "api_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(12), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
