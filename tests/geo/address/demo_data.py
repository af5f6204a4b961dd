"""The committed demo data the tests of geo.address run on, read as the lead's loader would feed it rows.

No database: the communities and buildings come from data/boundaries/*.geojson read with json.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from geo.address import Building, Community

DEMO = Path(__file__).resolve().parents[3] / "data" / "boundaries"


def _features(name: str) -> list[dict]:
    with open(DEMO / name, encoding="utf-8") as fh:
        return [f["properties"] for f in json.load(fh)["features"]]


COMMUNITIES = [Community.from_record(p) for p in _features("communities.geojson")]
BUILDINGS = [Building.from_record(p) for p in _features("buildings.geojson")]
COMMUNITY_CODE = {c.name: c.code for c in COMMUNITIES}
BY_KEY = {(b.community_code, b.number): b for b in BUILDINGS}
NUMBERS = Counter(b.number for b in BUILDINGS)


def code(community: str, number: int) -> str:
    """The demo building code of ``community`` (standard name) + number."""
    return BY_KEY[(COMMUNITY_CODE[community], number)].code
