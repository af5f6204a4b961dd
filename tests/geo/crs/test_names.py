"""geo.crs.names: parsing CRS names, refusing the unusable ones with the accepted list; geo imports no web stack."""

from __future__ import annotations

import pytest

from geo import crs as gc
from geo.errors import BadCRS, BadInput, GridmapError


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (None, "EPSG:4326"),
        ("", "EPSG:4326"),
        ("wgs84", "EPSG:4326"),
        ("WGS-84", "EPSG:4326"),
        ("EPSG:4326", "EPSG:4326"),
        ("cgcs2000", "EPSG:4490"),
        ("CGCS2000", "EPSG:4490"),
        ("gcj02", "gcj02"),
        ("GCJ-02", "gcj02"),
        ("bd09", "bd09"),
        ("BD-09", "bd09"),
        ("EPSG:4547", "EPSG:4547"),
        ("epsg:32649", "EPSG:32649"),
        ("EPSG:4214", "EPSG:4214"),  # Beijing 1954, geographic
    ],
)
def test_parse_crs_accepts(name, expected):
    assert gc.parse_crs(name) == expected


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("mercator", "unknown CRS"),
        ("EPSG:99999", "not in the EPSG database"),
        ("EPSG:2263", "not metres"),  # NY state plane, US feet
        ("EPSG:4978", "not a 2-D"),  # geocentric
        ("4326", "unknown CRS"),  # bare numbers are ambiguous: ask for EPSG:n
    ],
)
def test_parse_crs_rejects_with_accepted_list(name, fragment):
    with pytest.raises(BadCRS) as exc:
        gc.parse_crs(name)
    msg = exc.value.message
    assert fragment in msg
    for accepted in ("wgs84", "cgcs2000", "gcj02", "bd09", "EPSG:"):
        assert accepted in msg
    assert exc.value.code == "bad_crs"
    assert isinstance(exc.value, BadInput) and isinstance(exc.value, GridmapError)


def test_geo_does_not_import_web_stack():
    import subprocess
    import sys

    code = (
        "import sys, geo.crs, geo.errors, geo.validation, geo.io; "
        "bad = [m for m in ('fastapi', 'folium', 'starlette') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
