"""Chinese numerals: ``三``, ``十二``, ``一百零五``, ``一二零三`` to integers and to Arabic digits.

Hand-written (see "Why hand-written" in :mod:`geo.address`): cn2an and the
like convert a numeral on its own, not a numeral run inside an address, before
a marker such as ``号楼`` or ``单元``.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["arabic_numerals", "chinese_numeral_to_int"]

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


_HAS_NUMERAL = re.compile(r"[零〇○一二两三四五六七八九十百千幺]")


def arabic_numerals(s: str) -> str:
    """Replace the Chinese numerals before a marker (``号``, ``栋``, ``单``, ``室``, ``-``, end...) by digits.

    A run without 十/百/千 is read digit by digit and keeps its leading zeros
    (``零三`` gives ``03``); other runs are read as numbers; a leading ``第`` goes.

    Parameters
    ----------
    s : str
        Text already folded by NFKC, lower case, without spaces.

    Returns
    -------
    str

    Examples
    --------
    >>> arabic_numerals("十二栋二单元一二零三室"), arabic_numerals("第三栋")
    ('12栋2单元1203室', '3栋')
    """
    if _HAS_NUMERAL.search(s):
        s = _NUMERAL_RUN.sub(_numeral_sub, s)
    return s
