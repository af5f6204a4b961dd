"""Which community a community text means: exact names, aliases, pinyin, homophones, fuzzy matches.

:class:`CommunityMatcher` scores the communities a text may mean with the
community-part scores of :mod:`geo.address` (:mod:`geo.address.scores`): exact
tables of names, English names, pinyin and aliases first, then a standard name
inside longer text, then a homophone (same toneless pinyin, pypinyin), then
rapidfuzz's similarity on characters and on pinyin. Sound-alike and pinyin-fuzzy
matching start at 3 characters (two-character texts are too often generic).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz

from geo.address.normalise import name_key
from geo.address.records import Community
from geo.address.scores import (
    FUZZY_CUTOFF,
    S_ALIAS,
    S_ALIAS_HOMOPHONE,
    S_ALIAS_PINYIN,
    S_ENGLISH,
    S_FUZZY_MAX,
    S_HOMOPHONE,
    S_MISSING_AMBIGUOUS,
    S_NAME,
    S_NAME_INSIDE,
)

__all__ = ["CommunityMatcher"]

_CJK = re.compile(r"[\u3400-\u9fff]")


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


class CommunityMatcher:
    """The community names of a gazetteer, and the scores of what a community text may mean.

    Parameters
    ----------
    communities : sequence of Community
    cache_size : int, optional
        Distinct texts whose scores are kept in the cache (cleared when full).

    Examples
    --------
    >>> m = CommunityMatcher([Community(code="A", name="春安新区", aliases=("春安",))])
    >>> m.resolve("春安"), m.resolve("春按新区"), m.resolve("宏盛")
    ((('A', 92.0),), (('A', 88.0),), None)
    """

    def __init__(self, communities: Sequence[Community], *, cache_size: int = 200_000) -> None:
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
            name = name_key(c.name)
            self._names.append((name, c.code))
            add(self._exact, name, c.code, S_NAME)
            self._cjk_forms.append((name, c.code))
            add(self._homophones, _pinyin(name), c.code, S_HOMOPHONE)
            for en in (c.name_en, c.pinyin, _pinyin(name) if _CJK.search(name) else None):
                if en:
                    add(self._exact, name_key(en), c.code, S_ENGLISH)
                    self._ascii_forms.append((name_key(en), c.code))
            for a in c.aliases:
                ak = name_key(a)
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
        self._cache: dict[str, tuple[tuple[str, float], ...] | None] = {}
        self._cache_size = cache_size

    def exact_keys(self) -> set[str]:
        """Every key that matches a community exactly: names, English names, pinyin, aliases."""
        return {k for k in self._exact}

    def resolve(self, text: str) -> tuple[tuple[str, float], ...] | None:
        """Score the communities a community text may mean (cached per text).

        Parameters
        ----------
        text : str
            A :attr:`geo.address.ParsedAddress.community_text`.

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

