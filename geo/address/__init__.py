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

Where things are
----------------
:mod:`geo.address.scores`
    The numbers of the table above and :data:`THRESHOLD`.
:mod:`geo.address.numerals`
    :func:`chinese_numeral_to_int` and Chinese numerals to digits inside an address.
:mod:`geo.address.normalise`
    :func:`normalise` (markers, punctuation, full-width) and the name key.
:mod:`geo.address.records`
    :class:`Community`, :class:`Building` (from GeoJSON properties or rows),
    :class:`ParsedAddress` and :class:`Match`.
:mod:`geo.address.parse`
    Reading the community text, building, unit and room; :data:`ADMIN_PREFIXES`.
:mod:`geo.address.match`
    The community part: exact, alias, pinyin, homophone and fuzzy scores.
:mod:`geo.address.gazetteer`
    :class:`Gazetteer`: the buildings, the penalties, :meth:`~Gazetteer.lookup`
    and :meth:`~Gazetteer.lookup_many`.

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

from geo.address.gazetteer import Gazetteer
from geo.address.normalise import normalise
from geo.address.numerals import chinese_numeral_to_int
from geo.address.parse import ADMIN_PREFIXES
from geo.address.records import Building, Community, Match, ParsedAddress
from geo.address.scores import THRESHOLD

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
