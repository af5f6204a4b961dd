"""The words of the domain, defined once: statuses, kinds, roles, incident categories and workflow,
and the source's household and population bands.

Pure data: imported by the schema's models (geo/store/models.py), the domain modules, the demo
generator and the pages. (Migrations repeat the lists they were written with, on purpose: a
migration is a snapshot.)
"""

from __future__ import annotations

PLAN_STATUSES = ("draft", "published", "retired")
CAMERA_KINDS = ("bullet", "dome", "ptz", "fisheye")
CAMERA_STATUSES = ("online", "offline", "fault")
CAMERA_MOUNTS = ("pole", "wall", "ceiling")
KEY_PLACE_KINDS = ("gate", "square", "parking", "kindergarten", "school", "market", "clinic", "other")
STAFF_ROLES = ("cadre", "grid_member", "building_chief", "unit_chief")
#: API key roles, lowest first (``operator`` and ``planner`` are siblings above ``viewer``).
ROLES = ("client", "viewer", "operator", "planner", "admin")

#: The source's bands for one grid (inclusive): 200–300 households, 400–500 people. The running
#: service takes its bands from the settings (``GRIDMAP_GRID_HOUSEHOLDS_MIN`` ...), whose defaults these are.
HOUSEHOLDS_BAND = (200, 300)
POPULATION_BAND = (400, 500)

#: Incident categories and their subcategories.
INCIDENT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "dispute": ("neighbour", "family", "property"),
    "safety_hazard": ("fire", "gas", "electrical", "structural"),
    "public_order": ("noise", "parking", "other"),
    "environment": ("sanitation", "other"),
    "facilities": ("lighting", "lift", "water", "other"),
    "other": ("other",),
}
INCIDENT_SOURCES = ("patrol", "hotline", "camera", "resident", "building_chief")
#: The four-step workflow of the source (discover & accept → assign → assist → close): state → next states.
INCIDENT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "reported": ("accepted", "rejected", "duplicate"),
    "accepted": ("assigned", "rejected", "duplicate"),
    "assigned": ("assisting", "assigned"),
    "assisting": ("closed", "assigned"),
    "closed": (),
    "rejected": (),
    "duplicate": (),
}
INCIDENT_STATUSES = tuple(INCIDENT_TRANSITIONS)
INCIDENT_OPEN_STATES = tuple(s for s, nxt in INCIDENT_TRANSITIONS.items() if nxt)
INCIDENT_LABELS = {
    "reported": "已上报 reported", "accepted": "已受理 accepted", "assigned": "已交办 assigned",
    "assisting": "协办中 assisting", "closed": "已办结 closed", "rejected": "不予受理 rejected",
    "duplicate": "重复 duplicate",
}
