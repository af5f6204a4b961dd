"""Normalisation: an address query as typed to the gazetteer's canonical text.

Full-width characters folded, Chinese numerals to digits, spaces and
punctuation dropped, every building / unit / room / floor marker (Chinese,
pinyin or English, before or after the number) to ``号楼`` / ``单元`` / ``室``
/ ``层``. :func:`name_key` is the looser key names and aliases are compared by.
"""

from __future__ import annotations

import re
import unicodedata

from geo.address.numerals import arabic_numerals

__all__ = ["name_key", "normalise"]

_DASHES = re.compile(r"[\u2010-\u2015\u2212~～_/\\]")
_SEP_BETWEEN_DIGITS = re.compile(r"(?<=\d)[^\w#]+(?=\d)")
_NOISE = re.compile(r"[^\w#-]+")
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
    s = arabic_numerals(s)
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


def name_key(s: str) -> str:
    """Name key: NFKC, lower case, letters/digits/CJK only (``Chun'an Xinqu`` -> ``chunanxinqu``).

    Examples
    --------
    >>> name_key("Chun'an Xinqu"), name_key("【春安 新区】")
    ('chunanxinqu', '春安新区')
    """
    return _NOISE.sub("", unicodedata.normalize("NFKC", s).lower()).replace("-", "").replace("_", "")
