"""The gazetteer: every building of a set of communities, and the ranked matches of a query.

:class:`Gazetteer` indexes the buildings by number and by (community, number),
reads a query with :class:`~geo.address.parse.AddressParser`, scores its
community part with :class:`~geo.address.match.CommunityMatcher`, and applies
the penalties of :mod:`geo.address.scores` to each building of that number
(the scheme is in :mod:`geo.address`'s docstring).
"""

from __future__ import annotations

from collections.abc import Sequence

from geo.address.match import CommunityMatcher
from geo.address.parse import ADMIN_PREFIXES, AddressParser
from geo.address.records import Building, Community, Match, ParsedAddress
from geo.address.scores import (
    P_LEFTOVER,
    P_ROOM,
    P_UNIT,
    S_MISSING_AMBIGUOUS,
    S_MISSING_UNIQUE,
    S_OTHER_COMMUNITY,
    THRESHOLD,
    UNRESOLVED_PENALTY,
)

__all__ = ["Gazetteer"]


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

        self._matcher = CommunityMatcher(communities, cache_size=cache_size)
        self._parser = AddressParser(own_names=self._matcher.exact_keys(), admin_prefixes=admin_prefixes,
                                     cache_size=cache_size)

    # ------------------------------------------------------------------ parse

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
        return self._parser.parse(q)

    # ------------------------------------------------------------------ community

    def resolve_community(self, text: str) -> tuple[tuple[str, float], ...] | None:
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
        return self._matcher.resolve(text)

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
            resolved = self._matcher.resolve(p.community_text)
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
        return [self._to_match(c) for c in self._candidates(self._parser.parse(q))[:limit]]

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
                cands = self._candidates(self._parser.parse(q), best_only=True)
                if cands and cands[0][0] >= THRESHOLD:
                    best = self._to_match(cands[0])
            done[q] = best
            append(best)
        return out
