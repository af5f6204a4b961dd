"""The records of the gazetteer: communities and buildings in, parsed queries and matches out.

:meth:`Community.from_record` and :meth:`Building.from_record` read GeoJSON
properties or database rows (the lead feeds them; nothing here reads the
database).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Building", "Community", "Match", "ParsedAddress"]


def _aliases(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        v = value.strip()
        if v.startswith("["):
            return tuple(str(a) for a in json.loads(v))
        return tuple(a for a in re.split(r"[,，、;；|\s]+", v) if a)
    return tuple(str(a) for a in value)  # type: ignore[union-attr]


@dataclass(frozen=True)
class Community:
    """A community (社区/小区) and the names people call it.

    Parameters
    ----------
    code : str
        12-digit community code.
    name : str
        Standard name, e.g. ``春安新区``.
    name_en : str or None
        English name, e.g. ``Chun'an New District``.
    pinyin : str or None
        Pinyin of the name (generated from ``name`` when None).
    aliases : tuple of str
        Abbreviations, e.g. ``("春安",)``.
    """

    code: str
    name: str
    name_en: str | None = None
    pinyin: str | None = None
    aliases: tuple[str, ...] = ()

    @classmethod
    def from_record(cls, row: Mapping[str, object]) -> Community:
        """Build from a mapping (GeoJSON properties or a database row).

        ``aliases`` may be a list, a JSON array string or a comma-separated string.
        """
        return cls(
            code=str(row["code"]),
            name=str(row["name"]),
            name_en=(str(row["name_en"]) if row.get("name_en") else None),
            pinyin=(str(row["pinyin"]) if row.get("pinyin") else None),
            aliases=_aliases(row.get("aliases")),
        )


@dataclass(frozen=True)
class Building:
    """A building (号楼) of a community.

    Parameters
    ----------
    code : str
        Building code, e.g. ``140214101001-03``.
    community_code : str
        Its community.
    number : int
        The building number within the community (``3`` in ``3号楼``).
    units : int
        How many units (单元, stairwells) it has, numbered 1..units.
    floors : int or None
        Floors, when known: a room on a higher floor is dropped (``-5``).
    """

    code: str
    community_code: str
    number: int
    units: int
    floors: int | None = None

    @classmethod
    def from_record(cls, row: Mapping[str, object]) -> Building:
        """Build from a mapping (GeoJSON properties or a database row)."""
        floors = row.get("floors")
        return cls(
            code=str(row["code"]),
            community_code=str(row["community_code"]),
            number=int(row["number"]),  # type: ignore[call-overload]
            units=int(row["units"]),  # type: ignore[call-overload]
            floors=int(floors) if floors is not None else None,  # type: ignore[call-overload]
        )


@dataclass(frozen=True)
class ParsedAddress:
    """What :meth:`geo.address.Gazetteer.parse` read from a query.

    Attributes
    ----------
    community_text : str or None
        The community part, normalised, administrative prefixes dropped; None if absent.
    building, unit : int or None
    room : str or None
        E.g. ``"1203"`` (floor 12, door 03).
    normalised : str
        :func:`geo.address.normalise` of the whole query.
    leftover : str
        Unrecognised text after the address (costs 5 points), e.g. ``旁边的超市``.
        Text *after* the numbers is the community part when nothing precedes
        them (``Building 3, Chun'an New District``).
    """

    community_text: str | None
    building: int | None
    unit: int | None
    room: str | None
    normalised: str
    leftover: str = field(default="", compare=False)


@dataclass(frozen=True)
class Match:
    """A gazetteer match.

    Attributes
    ----------
    address : str
        The standard address, e.g. ``春安新区3号楼2单元`` (``...1203室`` with a room).
    community_code, building_code : str
    building : int
        Building number.
    unit : int or None
        None when not given or not in the building.
    room : str or None
    score : float
        0-100, see :mod:`geo.address`; compare with :data:`geo.address.THRESHOLD`.
    """

    address: str
    community_code: str
    building_code: str
    building: int
    unit: int | None
    room: str | None
    score: float

