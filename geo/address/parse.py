"""Reading a query: the community text, building, unit and room, administrative prefixes dropped.

:class:`AddressParser` works on :func:`~geo.address.normalise`'s canonical
text: the community part is what precedes the first number, then comes the run
of numbers with their markers (``3号楼2单元1203室``, ``3-2-1203``), then
whatever is left (the community part when nothing preceded the numbers,
otherwise leftover text that costs a few points). The province / city /
district / town names of :data:`ADMIN_PREFIXES`, and any ``XX省`` / ``XX市`` at
the start, are dropped from the community part, but never a community's own
name or alias.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from geo.address.normalise import name_key, normalise
from geo.address.records import ParsedAddress

__all__ = ["ADMIN_PREFIXES", "AddressParser"]

ADMIN_PREFIXES: tuple[str, ...] = (
    "中华人民共和国", "中国", "山西省", "山西", "大同市", "大同", "云冈区", "云岗区", "云冈",
    "南郊区", "高山镇", "高山乡",
    "china", "shanxiprovince", "shanxisheng", "shanxi", "datongcity", "datongshi", "datong",
    "yungangdistrict", "yungangqu", "yungang", "gaoshantown", "gaoshanzhen",
)
"""Administrative names dropped from the community part (this deployment's
province, city, district and town, in Chinese, pinyin and English). A
community's own name or alias is never dropped (``高山`` is an alias of
``高山佳苑``, so only ``高山镇`` is listed)."""

# Any "XX省" / "XX市" at the start is dropped too (a query from elsewhere in China).
_GENERIC_ADMIN = re.compile(r"^(?:[\u4e00-\u9fff]{2,3}省|[\u4e00-\u9fff]{2,7}自治区|[\u4e00-\u9fff]{2,4}市)")

# community part, then the run of numbers with markers, then whatever is left
_ADDRESS = re.compile(r"(\D*)((?:\d+(?:号楼|单元|层|室)?-?)+)(.*)", re.S)
_TOKEN = re.compile(r"(\d+)(号楼|单元|层|室)?")


class AddressParser:
    """Reads addresses for one gazetteer (whose own names are never taken for administrative ones).

    Parameters
    ----------
    own_names : collection of str
        The name keys (:func:`~geo.address.normalise.name_key`) of the
        communities' names, aliases, English names and pinyin: never dropped as
        an administrative prefix (``高山`` is an alias, so only ``高山镇`` goes).
    admin_prefixes : sequence of str, optional
        Administrative names to drop (default :data:`ADMIN_PREFIXES`).
    cache_size : int, optional
        Distinct community parts whose prefixes are kept stripped in the cache
        (cleared when full).

    Examples
    --------
    >>> p = AddressParser(own_names=set()).parse("大同市春安新区3栋2单元1203")
    >>> p.community_text, p.building, p.unit, p.room
    ('春安新区', 3, 2, '1203')
    """

    def __init__(
        self,
        *,
        own_names: Collection[str],
        admin_prefixes: Sequence[str] = ADMIN_PREFIXES,
        cache_size: int = 200_000,
    ) -> None:
        # A name/alias never counts as an administrative prefix.
        self._admin = tuple(
            p for p in sorted({name_key(p) for p in admin_prefixes}, key=len, reverse=True)
            if p and p not in own_names
        )
        self._own_starts = tuple(sorted(own_names, key=len, reverse=True))
        self._cache_size = cache_size
        self._prefixes: dict[str, str] = {}  # raw community part -> admin names dropped

    def _strip_admin(self, text: str, *, generic: bool = True) -> str:
        changed = True
        while text and changed:
            changed = False
            # The longest community name/alias starting the text wins over a
            # shorter admin name (高山镇 is dropped, 高山佳苑 is kept).
            own = next((len(k) for k in self._own_starts if text.startswith(k)), 0)
            for p in self._admin:
                if len(p) > own and text.startswith(p):
                    text, changed = text[len(p):], True
                    break
            else:
                m = _GENERIC_ADMIN.match(text) if generic else None
                if m and m.end() > own:
                    text, changed = text[m.end():], True
        for p in self._admin:  # full administrative names anywhere (春安新区,高山镇)
            if len(p) >= 3 and p in text and p not in self._own_starts:
                text = text.replace(p, "")
        return text

    def parse(self, q: str) -> ParsedAddress:
        """Read the community text, building, unit and room from a query (see :meth:`geo.address.Gazetteer.parse`)."""
        s = normalise(q)
        m = _ADDRESS.match(s)
        if m is None:
            text = self._strip_admin(s)
            return ParsedAddress(text or None, None, None, None, s, leftover="")
        prefix, run, tail = m.groups()
        building = unit = floor = None
        room: str | None = None
        for digits, marker in _TOKEN.findall(run):
            if marker == "号楼":
                if building is None:
                    building = int(digits)
            elif marker == "单元":
                if unit is None:
                    unit = int(digits)
            elif marker == "层":
                floor = int(digits)
            elif marker == "室":
                room = digits
            elif building is None:
                building = int(digits)
            elif unit is None and room is None and len(digits) <= 2:
                unit = int(digits)
            elif room is None:
                room = digits
        if floor is not None and room is not None and len(room.lstrip("0")) <= 2:
            room = f"{floor}{int(room):02d}"
        if room is not None:
            room = str(int(room)) if int(room) else None
        text = self._prefixes.get(prefix)
        if text is None:
            text = self._strip_admin(prefix)
            if len(self._prefixes) >= self._cache_size:
                self._prefixes.clear()
            self._prefixes[prefix] = text
        tail = self._strip_admin(tail, generic=False) if tail else ""
        if not text and tail and not re.search(r"\d", tail):
            text, tail = tail, ""
        return ParsedAddress(text or None, building, unit, room, s, leftover=tail)
