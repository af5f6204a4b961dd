"""Standard addresses: normalisation, parsing and a gazetteer of buildings and units.

A *standard address* in a resettlement community is

    community + building (``号楼``) + optional unit (``单元``) + optional room (``室``)

for example ``春安新区3号楼2单元1203室`` (room 1203 = floor 12, door 03). The
gazetteer is built once from the communities and buildings (the lead feeds it
rows; this module never touches the database) and answers free-text queries
from the 12345 hotline, dispatch and mini-programs.

What a query may look like
--------------------------
- full-width characters (``春安新区３号楼２单元``), folded by NFKC;
- Chinese numerals (``三号楼``, ``十二栋二单元``, ``一二零三室``);
- any building marker ``号楼`` / ``号`` / ``栋`` / ``幢`` / ``座`` / ``#`` / ``#楼``,
  any unit marker ``单元`` / ``单`` / ``门``, rooms as ``室`` / ``户`` / ``号`` after
  a unit, the dashed form ``3-2-1203`` (building-unit-room) and bare numbers
  (``3栋2单元1203``: a bare number after the unit is the room);
- spacing and punctuation noise (``春安 新区，3 号楼-2单元``, ``【春安新区】3号楼``);
- province / city / district / town prefixes (``山西省大同市云冈区高山镇``), dropped;
- the community missing (``3号楼2单元``), abbreviated (an alias: ``春安``),
  misspelt (``春按新区``, ``宏胜家园``) or in English or pinyin
  (``Chun'an New District Building 3 Unit 2``, ``chunan xinqu 3 hao lou``).

Scoring (0-100)
---------------
A match's score is the score of its community part minus penalties.

======================================================  =====
community part                                          score
======================================================  =====
exact standard name                                     100
standard name inside longer text (unknown prefix)        97
exact English name or pinyin (``Chun'an New District``)   95
exact alias (``春安``)                                    92
exact pinyin of an alias (``chunan``)                     90
homophone of the name (same toneless pinyin, other        88
characters: the typical input-method typo ``春按新区``)
homophone of an alias                                     85
fuzzy (rapidfuzz, best of characters and pinyin)        75-87
community missing, building number in one community       70
community missing, number in several (ambiguous)          55
community text given but unrecognised                  50 / 35
named community has no such building: the same           40
number in the other communities
======================================================  =====

Penalties: unit larger than the building's unit count (or 0): the match keeps
the building with ``unit=None`` (and drops the room), **-15**; room on a floor
the building does not have (when floors are known): ``room=None``, **-5**;
unrecognised text left after the address, **-5**. A name or alias shared by
several communities counts as ambiguous (55). So among the candidates of an
ambiguous ``3号楼4单元``, the buildings that have a unit 4 rank first (55 against
40). Homophone and pinyin-fuzzy matching apply only to community texts of 3 or
more characters: two-character texts are too often generic (``家园`` sounds
like the alias ``佳苑`` and ends ``宏盛家园``), so ``春按3号楼`` is not matched
(35); ``春按新区3号楼`` is (88).

:data:`THRESHOLD` is 60: a best match below it is not an answer, and
``GET /v1/lookup/address`` replies 404 ``no_match`` (listing the candidates).
So an exact name with a bad unit (85), an alias (92) or a typo (75-88) answer;
a missing community answers only when exactly one community has that building
number (70); an ambiguous one (55), an unrecognised community or a building
that does not exist in the named community (40) do not.

:meth:`Gazetteer.lookup` returns the ranked candidates, including ones below
the threshold; it is empty only when nothing is plausible (no building number
in the query, or no building anywhere with that number). A building number
that does not exist in the named community therefore gives the same-numbered
buildings of the other communities at 40, or ``[]`` when none has it.
:meth:`Gazetteer.lookup_many` returns the best match or ``None`` below the
threshold.

Why hand-written
----------------
Fuzzy matching of the community part is rapidfuzz's (and pypinyin's for the
homophones). Chinese numeral parsing and this small address grammar
(building/unit/room markers, dashed forms, admin prefixes) are hand-written:
no maintained library fits. cn2an and similar convert numerals but not inside
an address with markers, and address parsers (cpca, jionlp) stop at the
district/street level and know nothing of 号楼/单元/室.

Examples
--------
>>> from geo.address import Building, Community, Gazetteer, normalise
>>> normalise("春安 新区，三 栋-２单元")
'春安新区3号楼2单元'
>>> gaz = Gazetteer(
...     communities=[Community(code="C1", name="春安新区", name_en="Chun'an New District",
...                            pinyin="Chun'an Xinqu", aliases=("春安",))],
...     buildings=[Building(code="C1-03", community_code="C1", number=3, units=3)],
... )
>>> best = gaz.lookup("春安3号楼2单元1203室")[0]
>>> best.address, best.building_code, best.unit, best.room, best.score
('春安新区3号楼2单元1203室', 'C1-03', 2, '1203', 92.0)
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz

__all__ = [
    "ADMIN_PREFIXES",
    "THRESHOLD",
    "Building",
    "Community",
    "Gazetteer",
    "Match",
    "ParsedAddress",
    "chinese_numeral_to_int",
    "normalise",
]

THRESHOLD: float = 60.0
"""Scores below this are no answer: the API replies 404 ``no_match``."""

# Community-part scores (see the module docstring).
S_NAME = 100.0
S_NAME_INSIDE = 97.0
S_ENGLISH = 95.0
S_ALIAS = 92.0
S_ALIAS_PINYIN = 90.0
S_HOMOPHONE = 88.0
S_ALIAS_HOMOPHONE = 85.0
S_FUZZY_MAX = 87.0
FUZZY_CUTOFF = 75.0
S_MISSING_UNIQUE = 70.0
S_MISSING_AMBIGUOUS = 55.0
UNRESOLVED_PENALTY = 20.0
S_OTHER_COMMUNITY = 40.0
# Penalties.
P_UNIT = 15.0
P_ROOM = 5.0
P_LEFTOVER = 5.0

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


# --------------------------------------------------------------------------- numerals

_CN_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9, "幺": 1}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}


def chinese_numeral_to_int(s: str) -> int:
    """Convert a Chinese (or Arabic, or full-width) numeral to an int.

    Parameters
    ----------
    s : str
        ``三``, ``十二``, ``二十一``, ``一百零五``, ``两``, ``〇``/``零``,
        ``一百一`` (colloquial 110), a digit-by-digit reading such as
        ``一二零三`` (1203), ``三万``, or plain digits ``12`` / ``１２``.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        Empty, or a character that is not part of a numeral.

    Examples
    --------
    >>> [chinese_numeral_to_int(x) for x in ["三", "十二", "二十一", "一百零五", "两", "〇"]]
    [3, 12, 21, 105, 2, 0]
    >>> chinese_numeral_to_int("一二零三"), chinese_numeral_to_int("１２")
    (1203, 12)
    """
    t = unicodedata.normalize("NFKC", s).strip()
    if not t:
        raise ValueError("empty numeral")
    if t.isascii() and t.isdigit():
        return int(t)
    bad = [c for c in t if c not in _CN_DIGITS and c not in _CN_UNITS and c != "万" and not c.isdigit()]
    if bad:
        raise ValueError(f"not a Chinese numeral: {s!r} (unexpected {bad[0]!r})")
    if not any(c in _CN_UNITS or c == "万" for c in t):
        # Digit by digit (一二零三 -> 1203), as room numbers are read out.
        return int("".join(str(_CN_DIGITS[c]) if c in _CN_DIGITS else c for c in t))
    total = 0  # completed 万 groups
    section = 0  # below 万
    digit: int | None = None
    last_unit = 1
    zero_since_unit = False
    for c in t:
        if c in _CN_DIGITS or c.isdigit():
            d = _CN_DIGITS[c] if c in _CN_DIGITS else int(c)
            if d == 0:
                zero_since_unit = True
            digit = d
        elif c in _CN_UNITS:
            u = _CN_UNITS[c]
            section += (1 if digit is None else digit) * u
            digit, last_unit, zero_since_unit = None, u, False
        else:  # 万
            section += digit or 0
            total += (section or 1) * 10000
            section, digit, last_unit, zero_since_unit = 0, None, 10000, False
    if digit is not None:
        if last_unit >= 100 and not zero_since_unit:
            section += digit * (last_unit // 10)  # 一百一 = 110, 三千五 = 3500
        else:
            section += digit
    return total + section


_NUMERAL_RUN = re.compile(
    r"第?([零〇○一二两三四五六七八九十百千幺]+)(?=号|號|栋|棟|幢|座|楼|樓|单|單|门|門|室|户|层|層|#|-|$)"
)


def _numeral_sub(m: re.Match[str]) -> str:
    run = m.group(1)
    if not any(c in _CN_UNITS for c in run):
        return "".join(str(_CN_DIGITS[c]) for c in run)  # keeps leading zeros: 零三 -> 03
    return str(chinese_numeral_to_int(run))


# --------------------------------------------------------------------------- normalise

_DASHES = re.compile(r"[\u2010-\u2015\u2212~～_/\\]")
_SEP_BETWEEN_DIGITS = re.compile(r"(?<=\d)[^\w#]+(?=\d)")
_NOISE = re.compile(r"[^\w#-]+")
_HAS_NUMERAL = re.compile(r"[零〇○一二两三四五六七八九十百千幺]")
_DI = re.compile(r"第(?=\d)")
_ASCII_LETTER = re.compile(r"[a-z]")
_ROOM_AFTER_UNIT = re.compile(r"(单元|单|门|單元|單|門)(\d+)[号號]")
_NO_PREFIX = re.compile(r"(?:number|num|no)(?=\d)")
_HASH_PREFIX = re.compile(r"(?<!\d)#(\d+)(?:楼|栋)?(?!\d|号楼)")
# English prefixes, in one left-to-right pass so that "unit2bldg3" never fuses into "23".
_PREFIX_MARKERS = {
    "building": "号楼", "bldg": "号楼", "bld": "号楼", "block": "号楼", "blk": "号楼", "tower": "号楼",
    "unit": "单元", "entrance": "单元",
    "room": "室", "rm": "室", "apt": "室", "flat": "室", "suite": "室",
    "floor": "层", "fl": "层",
}
_ENGLISH_PREFIX = re.compile(
    "(" + "|".join(sorted(_PREFIX_MARKERS, key=len, reverse=True)) + r")(\d+)(?!\d|号楼|单元|室|层)"
)
# Markers after a number, in one pass (longest alternative first).
_SUFFIX_MARKERS = {
    **dict.fromkeys(
        ["号楼", "號樓", "号栋", "号幢", "栋楼", "#楼", "#栋", "#", "栋", "幢", "棟", "座", "号",
         "號", "haolou", "hao", "dong", "zhuang", "building", "bldg", "block"], "号楼"),
    **dict.fromkeys(["单元", "单", "门洞", "门", "單元", "單", "門", "danyuan", "entrance"], "单元"),
    **dict.fromkeys(["室", "户", "房", "戶", "shi", "room"], "室"),
    **dict.fromkeys(["楼层", "层", "樓層", "層", "floor", "ceng"], "层"),
}
_SUFFIX = re.compile(r"(\d+)(" + "|".join(sorted(_SUFFIX_MARKERS, key=len, reverse=True)) + ")")
_BARE_LOU = re.compile(r"(\d+)楼(?!层)")
_STRAY_DASH = re.compile(r"(?<!\d)-|-(?!\d)")


def normalise(q: str) -> str:
    """Normalise an address query to the gazetteer's canonical text.

    NFKC (full-width to ASCII), lower case, Chinese numerals before a marker to
    Arabic, spaces and punctuation removed (a separator between two numbers
    becomes ``-``), building markers (``栋``/``幢``/``座``/``#``/``#楼``/``号``/
    ``Building``/``hao lou``...) to ``号楼``, unit markers (``单``/``门``/
    ``Unit``/``danyuan``) to ``单元``, rooms to ``室`` and floors to ``层``.
    A bare ``N楼`` is the building when no other building marker is present,
    else a floor.

    Parameters
    ----------
    q : str
        The query as typed.

    Returns
    -------
    str

    Examples
    --------
    >>> normalise("春安新区３号楼２单元")
    '春安新区3号楼2单元'
    >>> normalise("宁丰社区十二栋二单元")
    '宁丰社区12号楼2单元'
    >>> normalise("【春安新区】3号楼")
    '春安新区3号楼'
    >>> normalise("宏盛家园5#楼"), normalise("5#")
    ('宏盛家园5号楼', '5号楼')
    >>> normalise("3 - 2 - 1203"), normalise("3栋2单元1203")
    ('3-2-1203', '3号楼2单元1203')
    >>> normalise("Chun'an New District Building 3 Unit 2")
    'chunannewdistrict3号楼2单元'
    """
    s = _DASHES.sub("-", unicodedata.normalize("NFKC", q).lower())
    s = _SEP_BETWEEN_DIGITS.sub("-", s)
    s = _NOISE.sub("", s).replace("_", "")
    if _HAS_NUMERAL.search(s):
        s = _NUMERAL_RUN.sub(_numeral_sub, s)
    if "第" in s:
        s = _DI.sub("", s)
    if "号" in s or "號" in s:
        s = _ROOM_AFTER_UNIT.sub(r"\1\2室", s)
    if _ASCII_LETTER.search(s):
        # English prefixes first ("Unit 2 Bldg 3": the 2 belongs to the unit), then suffixes.
        s = _ENGLISH_PREFIX.sub(lambda m: m.group(2) + _PREFIX_MARKERS[m.group(1)], s)
        s = _NO_PREFIX.sub("", s)
    s = _SUFFIX.sub(lambda m: m.group(1) + _SUFFIX_MARKERS[m.group(2)], s)
    if "#" in s:
        s = _HASH_PREFIX.sub(r"\1号楼", s).replace("#", "")
    if "楼" in s:
        if "号楼" not in s:
            s = _BARE_LOU.sub(r"\1号楼", s, count=1)
        s = _BARE_LOU.sub(r"\1层", s)
    if "-" in s:
        s = _STRAY_DASH.sub("", s)
    return s


# --------------------------------------------------------------------------- records


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
    """What :meth:`Gazetteer.parse` read from a query.

    Attributes
    ----------
    community_text : str or None
        The community part, normalised, administrative prefixes dropped; None if absent.
    building, unit : int or None
    room : str or None
        E.g. ``"1203"`` (floor 12, door 03).
    normalised : str
        :func:`normalise` of the whole query.
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
        0-100, see the module docstring; compare with :data:`THRESHOLD`.
    """

    address: str
    community_code: str
    building_code: str
    building: int
    unit: int | None
    room: str | None
    score: float


# --------------------------------------------------------------------------- gazetteer

_CJK = re.compile(r"[\u3400-\u9fff]")
# community part, then the run of numbers with markers, then whatever is left
_ADDRESS = re.compile(r"(\D*)((?:\d+(?:号楼|单元|层|室)?-?)+)(.*)", re.S)
_TOKEN = re.compile(r"(\d+)(号楼|单元|层|室)?")


def _key(s: str) -> str:
    """Name key: NFKC, lower case, letters/digits/CJK only (``Chun'an Xinqu`` -> ``chunanxinqu``)."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", s).lower()).replace("-", "").replace("_", "")


@lru_cache(maxsize=65536)
def _pinyin(s: str) -> str:
    return "".join(lazy_pinyin(s))


def _fuzzy(q: str, choice: str) -> float:
    """rapidfuzz similarity, with partial matches scaled down by length coverage
    (so that a short fragment such as 家园 does not match 宏盛家园 well)."""
    lq, lc = len(q), len(choice)
    if not lq or not lc:
        return 0.0
    cover = min(lq, lc) / max(lq, lc)
    return max(fuzz.ratio(q, choice), fuzz.WRatio(q, choice) * (0.5 + 0.5 * cover))


class Gazetteer:
    """The standard-address gazetteer of a set of communities and buildings.

    Build once (per plan); thread-safe for lookups. The community part of every
    distinct query text is resolved once and cached.

    Parameters
    ----------
    communities : sequence of Community
    buildings : sequence of Building
    admin_prefixes : sequence of str, optional
        Administrative names to drop from queries (default :data:`ADMIN_PREFIXES`).
    cache_size : int, optional
        Distinct community texts kept in the cache (cleared when full).

    Examples
    --------
    >>> gaz = Gazetteer(
    ...     communities=[Community(code="A", name="宁丰社区", aliases=("宁丰",)),
    ...                  Community(code="B", name="宏盛家园")],
    ...     buildings=[Building(code="A-03", community_code="A", number=3, units=2),
    ...                Building(code="B-03", community_code="B", number=3, units=4)],
    ... )
    >>> [(m.building_code, m.score) for m in gaz.lookup("3号楼4单元")]
    [('B-03', 55.0), ('A-03', 40.0)]
    >>> gaz.lookup_many(["宁丰3栋2单元", "3号楼"])[1] is None  # ambiguous: no answer
    True
    """

    def __init__(
        self,
        *,
        communities: Sequence[Community],
        buildings: Sequence[Building],
        admin_prefixes: Sequence[str] = ADMIN_PREFIXES,
        cache_size: int = 200_000,
    ) -> None:
        self._communities: dict[str, Community] = {c.code: c for c in communities}
        self._by_number: dict[int, list[Building]] = {}
        self._by_key: dict[tuple[str, int], Building] = {}
        for b in buildings:
            if b.community_code not in self._communities:
                raise ValueError(f"building {b.code} names unknown community {b.community_code}")
            self._by_key[(b.community_code, b.number)] = b
            self._by_number.setdefault(b.number, []).append(b)
        for lst in self._by_number.values():
            lst.sort(key=lambda b: b.community_code)

        # Exact tables: key -> {community code: score}; the best kind wins per community.
        self._exact: dict[str, dict[str, float]] = {}
        self._homophones: dict[str, dict[str, float]] = {}
        self._cjk_forms: list[tuple[str, str]] = []  # (form, community code)
        self._ascii_forms: list[tuple[str, str]] = []
        self._names: list[tuple[str, str]] = []

        def add(table: dict[str, dict[str, float]], key: str, code: str, score: float) -> None:
            if key:
                slot = table.setdefault(key, {})
                slot[code] = max(slot.get(code, 0.0), score)

        for c in communities:
            name = _key(c.name)
            self._names.append((name, c.code))
            add(self._exact, name, c.code, S_NAME)
            self._cjk_forms.append((name, c.code))
            add(self._homophones, _pinyin(name), c.code, S_HOMOPHONE)
            for en in (c.name_en, c.pinyin, _pinyin(name) if _CJK.search(name) else None):
                if en:
                    add(self._exact, _key(en), c.code, S_ENGLISH)
                    self._ascii_forms.append((_key(en), c.code))
            for a in c.aliases:
                ak = _key(a)
                if not ak:
                    continue
                add(self._exact, ak, c.code, S_ALIAS)
                if _CJK.search(ak):
                    self._cjk_forms.append((ak, c.code))
                    add(self._homophones, _pinyin(ak), c.code, S_ALIAS_HOMOPHONE)
                    add(self._exact, _pinyin(ak), c.code, S_ALIAS_PINYIN)
                    self._ascii_forms.append((_pinyin(ak), c.code))
                else:
                    self._ascii_forms.append((ak, c.code))
        self._names.sort(key=lambda t: -len(t[0]))
        # A name/alias never counts as an administrative prefix.
        own = {k for k in self._exact}
        self._admin = tuple(
            p for p in sorted({_key(p) for p in admin_prefixes}, key=len, reverse=True)
            if p and p not in own
        )
        self._own_starts = tuple(sorted(own, key=len, reverse=True))
        self._cache: dict[str, tuple[tuple[str, float], ...] | None] = {}
        self._cache_size = cache_size
        self._prefixes: dict[str, str] = {}  # raw community part -> admin names dropped

    # ------------------------------------------------------------------ parse

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
        """Read the community text, building, unit and room from a query.

        Parameters
        ----------
        q : str

        Returns
        -------
        ParsedAddress

        Examples
        --------
        >>> gaz = Gazetteer(communities=[], buildings=[])
        >>> p = gaz.parse("山西省大同市云冈区高山镇春安新区3号楼2单元1203室")
        >>> p.community_text, p.building, p.unit, p.room
        ('春安新区', 3, 2, '1203')
        >>> p = gaz.parse("3-2-1203")
        >>> p.community_text, p.building, p.unit, p.room
        (None, 3, 2, '1203')
        """
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

    # ------------------------------------------------------------------ community

    def resolve_community(self, text: str) -> tuple[tuple[str, float], ...] | None:
        """Score the communities a community text may mean (cached per text).

        Parameters
        ----------
        text : str
            A :attr:`ParsedAddress.community_text`.

        Returns
        -------
        tuple of (community code, score), best first, or None
            None when nothing scores at least the fuzzy cutoff (75).
        """
        hit = self._cache.get(text, False)
        if hit is not False:
            return hit  # type: ignore[return-value]
        res = self._resolve(text)
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[text] = res
        return res

    def _resolve(self, text: str) -> tuple[tuple[str, float], ...] | None:
        def ranked(d: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
            if len(d) > 1 and len(set(d.values())) == 1:  # a name shared by several
                return tuple((c, S_MISSING_AMBIGUOUS) for c in sorted(d))
            return tuple(sorted(d.items(), key=lambda kv: (-kv[1], kv[0])))

        exact = self._exact.get(text)
        if exact:
            return ranked(exact)
        for name, code in self._names:  # a full standard name inside longer text
            if len(name) >= 3 and name in text:
                return ((code, S_NAME_INSIDE),)
        cjk = bool(_CJK.search(text))
        # Sound-alike matching only from 3 characters on: two-character texts
        # are too often generic (家园 sounds like the alias 佳苑).
        sound = cjk and len(text) >= 3
        if sound:
            py = _pinyin(text)
            homo = self._homophones.get(py)
            if homo:
                return ranked(homo)
        if (cjk and len(text) < 2) or (not cjk and len(text) < 4):
            return None
        best: dict[str, float] = {}
        if cjk:
            for form, code in self._cjk_forms:
                best[code] = max(best.get(code, 0.0), _fuzzy(text, form))
            if sound:
                for form, code in self._ascii_forms:
                    best[code] = max(best.get(code, 0.0), _fuzzy(py, form))
        else:
            for form, code in self._ascii_forms:
                best[code] = max(best.get(code, 0.0), _fuzzy(text, form))
        found = {c: round(min(S_FUZZY_MAX, s), 1) for c, s in best.items() if s >= FUZZY_CUTOFF}
        return tuple(sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))) or None

    # ------------------------------------------------------------------ lookup

    def _score(self, b: Building, score: float, p: ParsedAddress) -> tuple[float, Building, int | None, str | None]:
        """Apply the penalties: (score, building, unit kept, room kept)."""
        unit, room = p.unit, p.room
        if unit is not None and not 1 <= unit <= b.units:
            unit, room, score = None, None, score - P_UNIT
        if room is not None and b.floors is not None and len(room) >= 3:
            floor = int(room[:-2])
            if not 1 <= floor <= b.floors:
                room, score = None, score - P_ROOM
        if p.leftover:
            score -= P_LEFTOVER
        return round(max(0.0, min(100.0, score)), 1), b, unit, room

    def _to_match(self, scored: tuple[float, Building, int | None, str | None]) -> Match:
        score, b, unit, room = scored
        address = f"{self._communities[b.community_code].name}{b.number}号楼"
        if unit is not None:
            address += f"{unit}单元"
        if room is not None:
            address += f"{room}室"
        return Match(address, b.community_code, b.code, b.number, unit, room, score)

    def _candidates(self, p: ParsedAddress, *, best_only: bool = False
                    ) -> list[tuple[float, Building, int | None, str | None]]:
        """Scored candidates, best first (ties by community code).

        With ``best_only`` (batch lookups), candidates that cannot reach
        :data:`THRESHOLD` are not scored at all: penalties only lower a base
        score, so a base below the threshold can be skipped. At city scale a
        building number exists in hundreds of communities, and scoring them all
        for an answer that will be "no match" anyway dominated the batch.
        """
        if p.building is None:
            return []
        same_number = self._by_number.get(p.building)
        if not same_number:
            return []
        if p.community_text is None:
            base = S_MISSING_UNIQUE if len(same_number) == 1 else S_MISSING_AMBIGUOUS
            if best_only and base < THRESHOLD:
                return []
            out = [self._score(b, base, p) for b in same_number]
        else:
            resolved = self.resolve_community(p.community_text)
            if resolved is None:
                base = (S_MISSING_UNIQUE if len(same_number) == 1 else S_MISSING_AMBIGUOUS) - UNRESOLVED_PENALTY
                if best_only and base < THRESHOLD:
                    return []
                out = [self._score(b, base, p) for b in same_number]
            else:
                out = []
                for code, score in resolved:
                    b = self._by_key.get((code, p.building))
                    if b is not None:
                        out.append(self._score(b, score, p))
                if (not out or max(c[0] for c in out) < THRESHOLD) and not (best_only and S_OTHER_COMMUNITY < THRESHOLD):
                    seen = {c[1].community_code for c in out}
                    out += [self._score(b, S_OTHER_COMMUNITY, p) for b in same_number
                            if b.community_code not in seen]
        if len(out) > 1:
            out.sort(key=lambda c: (-c[0], c[1].community_code))
        return out

    def lookup(self, q: str, *, limit: int = 5) -> list[Match]:
        """Ranked matches of a query, best first.

        Parameters
        ----------
        q : str
            Free text, e.g. ``春安新区3号楼2单元``, ``宁丰12栋``, ``3-2-1203``.
        limit : int, default 5

        Returns
        -------
        list of Match
            Best first (ties by community code). May hold candidates below
            :data:`THRESHOLD` (the caller answers no_match and lists them);
            empty when nothing is plausible.

        Examples
        --------
        >>> gaz = Gazetteer(communities=[Community(code="A", name="宏盛家园")],
        ...                 buildings=[Building(code="A-05", community_code="A", number=5, units=2)])
        >>> gaz.lookup("宏胜家园5#")[0].score       # homophone typo
        88.0
        >>> gaz.lookup("宏盛家园5号楼7单元")[0].unit is None   # no unit 7: building kept, -15
        True
        >>> gaz.lookup("宏盛家园99号楼")
        []
        """
        return [self._to_match(c) for c in self._candidates(self.parse(q))[:limit]]

    def lookup_many(self, qs: Sequence[str]) -> list[Match | None]:
        """The best match of each query, in input order; None below :data:`THRESHOLD`.

        Parameters
        ----------
        qs : sequence of str

        Returns
        -------
        list of Match or None
        """
        out: list[Match | None] = []
        append = out.append
        done: dict[str, Match | None] = {}  # repeated queries within the batch
        for q in qs:
            if q in done:
                append(done[q])
                continue
            best: Match | None = None
            if q:
                cands = self._candidates(self.parse(q), best_only=True)
                if cands and cands[0][0] >= THRESHOLD:
                    best = self._to_match(cands[0])
            done[q] = best
            append(best)
        return out
