"""Shared by the tests of geo.address: the gazetteer of the committed demo data."""

from __future__ import annotations

import pytest

from geo.address import Gazetteer
from tests.geo.address.demo_data import BUILDINGS, COMMUNITIES


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer(communities=COMMUNITIES, buildings=BUILDINGS)
