"""CRS names: what a client may call a CRS, the canonical name, and which kind of CRS it is.

:func:`parse_crs` turns ``wgs84``/``cgcs2000``/``gcj02``/``bd09``/``EPSG:n`` (any case, spaces,
``-`` and ``_`` ignored) into one canonical name; :func:`is_geographic` and :func:`require_metric`
say what an accepted CRS measures in (the EPSG database through pyproj, cached per code).
"""

from __future__ import annotations

import re
from functools import lru_cache

from pyproj import CRS
from pyproj.exceptions import CRSError

from geo.errors import BadCRS, excerpt

#: Projected CRS for lengths and areas: CGCS2000 / 3-degree Gauss-Kruger CM 114E.
METRIC_CRS_DEFAULT = "EPSG:4547"

#: Canonical names returned by :func:`parse_crs`.
WGS84 = "EPSG:4326"
CGCS2000 = "EPSG:4490"
GCJ02 = "gcj02"
BD09 = "bd09"

#: Human list of what :func:`parse_crs` accepts (used in error messages).
ACCEPTED_CRS = (
    "wgs84 (default), cgcs2000, gcj02, bd09, or EPSG:<code> "
    "(a geographic CRS in degrees or a projected CRS in metres, e.g. EPSG:4547)"
)

# Names are matched after lower-casing and removing spaces, '-' and '_'.
_ALIASES = {
    "wgs84": WGS84,
    "gps": WGS84,
    "epsg4326": WGS84,
    "crs84": WGS84,
    "cgcs2000": CGCS2000,
    "cgcs": CGCS2000,
    "epsg4490": CGCS2000,
    "gcj02": GCJ02,
    "gcj": GCJ02,
    "mars": GCJ02,
    "bd09": BD09,
    "bd09ll": BD09,
    "baidu": BD09,
}
_EPSG_RE = re.compile(r"^epsg:?(\d{4,6})$")


def parse_crs(name: str | None = None) -> str:
    """Parse a client's CRS name into a canonical one.

    Parameters
    ----------
    name : str or None
        ``wgs84`` (the default, also for None or ""), ``cgcs2000``,
        ``gcj02``, ``bd09`` or ``EPSG:n``. Case, spaces, ``-`` and ``_`` are
        ignored (``WGS-84``, ``GCJ-02``, ``BD-09`` work).

    Returns
    -------
    str
        ``"EPSG:4326"`` (wgs84), ``"EPSG:4490"`` (cgcs2000), ``"gcj02"``,
        ``"bd09"`` or ``"EPSG:n"``. Every EPSG result is usable by pyproj.

    Raises
    ------
    geo.errors.BadCRS
        Unknown name, unknown EPSG code, or an EPSG CRS that is neither
        geographic in degrees nor projected in metres.

    Examples
    --------
    >>> parse_crs("wgs84"), parse_crs(None), parse_crs("GCJ-02"), parse_crs("bd09")
    ('EPSG:4326', 'EPSG:4326', 'gcj02', 'bd09')
    >>> parse_crs("cgcs2000"), parse_crs("epsg:4547")
    ('EPSG:4490', 'EPSG:4547')
    >>> parse_crs("mercator")
    Traceback (most recent call last):
    ...
    geo.errors.BadCRS: unknown CRS 'mercator'; use one of: wgs84 (default), cgcs2000, gcj02, bd09, or EPSG:<code> (a geographic CRS in degrees or a projected CRS in metres, e.g. EPSG:4547)
    """
    if name is None:
        return WGS84
    if not isinstance(name, str):
        raise BadCRS(
            f"CRS must be a string, got {type(name).__name__}; use one of: {ACCEPTED_CRS}",
            details={"accepted": _accepted_list()},
        )
    key = re.sub(r"[\s\-_]", "", name).lower()
    if key == "":
        return WGS84
    if key in _ALIASES:
        return _ALIASES[key]
    m = _EPSG_RE.match(key)
    if m:
        return _check_epsg(int(m.group(1)), name)
    raise BadCRS(
        f"unknown CRS {excerpt(name, chars=24)}; use one of: {ACCEPTED_CRS}",
        details={"crs": str(name)[:24], "accepted": _accepted_list()},
    )


def _accepted_list() -> list[str]:
    return ["wgs84", "cgcs2000", "gcj02", "bd09", "EPSG:<code>"]


@lru_cache(maxsize=256)
def _epsg_kind(code: int) -> str:
    """'geographic', 'projected', or a reason the code is unusable."""
    try:
        crs = CRS.from_epsg(code)
    except CRSError:
        return "unknown"
    if crs.is_geographic and len(crs.axis_info) == 2:
        if all(a.unit_name == "degree" for a in crs.axis_info):
            return "geographic"
        return "a geographic CRS not in degrees"
    if crs.is_projected and not crs.is_compound:
        units = {a.unit_name for a in crs.axis_info}
        if units == {"metre"}:
            return "projected"
        return f"a projected CRS in {', '.join(sorted(units))}, not metres"
    return f"not a 2-D geographic or projected CRS ({crs.type_name})"


def _check_epsg(code: int, original: str) -> str:
    kind = _epsg_kind(code)
    if kind in ("geographic", "projected"):
        return f"EPSG:{code}"
    if kind == "unknown":
        msg = f"unknown CRS {excerpt(original, chars=24)}: EPSG:{code} is not in the EPSG database"
    else:
        msg = f"unsupported CRS {excerpt(original, chars=24)}: EPSG:{code} is {kind}"
    raise BadCRS(
        f"{msg}; use one of: {ACCEPTED_CRS}",
        details={"crs": str(original)[:24], "accepted": _accepted_list()},
    )


def is_geographic(crs: str) -> bool:
    """True when *crs* (any accepted name) has lon/lat coordinates in degrees.

    Examples
    --------
    >>> is_geographic("gcj02"), is_geographic("EPSG:4547")
    (True, False)
    """
    c = parse_crs(crs)
    if c in (GCJ02, BD09):
        return True
    return _epsg_kind(int(c.split(":")[1])) == "geographic"


def crs_label(crs: str) -> str:
    """Short, human name of a CRS for messages and metadata.

    Examples
    --------
    >>> crs_label("EPSG:4326"), crs_label("gcj02"), crs_label("EPSG:4547")
    ('wgs84', 'gcj02', 'EPSG:4547')
    """
    c = parse_crs(crs)
    return {WGS84: "wgs84", CGCS2000: "cgcs2000"}.get(c, c)



def require_metric(crs: str) -> str:
    """The canonical name of ``crs`` if it is a projected CRS in metres, else :class:`BadCRS`.

    The one rule for every length, area, density and lattice in gridmap: a geographic CRS
    (degrees), GCJ-02/BD-09 (offset degrees) or anything that is not a projected CRS is refused,
    with a message that names one to use.

    >>> require_metric("epsg:32649")
    'EPSG:32649'
    >>> require_metric("wgs84")
    Traceback (most recent call last):
    ...
    geo.errors.BadCRS: crs='wgs84' is not a projected CRS in metres (it is in degrees); lengths, areas and densities need one such as EPSG:4547
    """
    c = parse_crs(crs)
    if c in (GCJ02, BD09) or _epsg_kind(int(c.split(":")[1])) != "projected":
        what = " (it is in degrees)" if c in (GCJ02, BD09) or is_geographic(c) else ""
        raise BadCRS(
            f"crs={crs!r} is not a projected CRS in metres{what}; lengths, areas and densities need one "
            f"such as {METRIC_CRS_DEFAULT}",
            details={"crs": crs},
        )
    return c
