"""The numbers of the score scheme (the table in :mod:`geo.address`'s docstring).

A match's score is the score of its community part (``S_*``) minus the
penalties (``P_*``); :data:`THRESHOLD` separates an answer from no answer.
"""

from __future__ import annotations

__all__ = [
    "FUZZY_CUTOFF",
    "P_LEFTOVER",
    "P_ROOM",
    "P_UNIT",
    "S_ALIAS",
    "S_ALIAS_HOMOPHONE",
    "S_ALIAS_PINYIN",
    "S_ENGLISH",
    "S_FUZZY_MAX",
    "S_HOMOPHONE",
    "S_MISSING_AMBIGUOUS",
    "S_MISSING_UNIQUE",
    "S_NAME",
    "S_NAME_INSIDE",
    "S_OTHER_COMMUNITY",
    "THRESHOLD",
    "UNRESOLVED_PENALTY",
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
