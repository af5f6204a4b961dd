"""Domain errors raised by :mod:`geo`.

Every error carries a snake_case ``code`` (which ``api/errors.py`` maps to an
HTTP status and puts in ``{"error": {"code", "message", "details"}}``), a
human ``message`` saying what was wrong and how to fix it, and optional
JSON-serialisable ``details``.

Examples
--------
>>> from geo.errors import BadCRS, BadInput
>>> err = BadCRS("unknown CRS 'foo'", details={"accepted": ["wgs84"]})
>>> err.code, isinstance(err, BadInput), str(err)
('bad_crs', True, "unknown CRS 'foo'")
"""

from __future__ import annotations

from geo.messages import en, zh


class GridmapError(Exception):
    """Base class of all domain errors.

    Parameters
    ----------
    message : str
        What was wrong and how to fix it, for a person.
    details : object, optional
        JSON-serialisable extra information (offending values, locations, ...).
    """

    code = "gridmap_error"
    #: The message's id in the catalogue (geo/messages.py) and its fields, when it was made from there
    #: (:meth:`say`): the error envelope then carries ``message_zh`` too.
    message_id: str | None = None
    fields: dict[str, object] | None = None

    def __init__(self, message: str, *, details: object = None):
        super().__init__(message)
        self.message = message
        self.details = details

    @classmethod
    def say(cls, message_id: str, *, details: object = None, **fields: object):
        """The error whose message is catalogue entry *message_id* (geo/messages.py) with *fields*."""
        err = cls(en(message_id, **fields), details=details)
        err.message_id, err.fields = message_id, fields
        return err

    @property
    def message_zh(self) -> str | None:
        """The Chinese of the message, when it has a catalogue id (else None)."""
        if self.message_id is None:
            return None
        return zh(self.message_id, **(self.fields or {}))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, details={self.details!r})"


class NotFound(GridmapError):
    """The thing asked for does not exist."""

    code = "not_found"


class BadInput(GridmapError):
    """The caller sent something unusable."""

    code = "bad_input"


class BadCRS(BadInput):
    """An unknown or unsupported coordinate reference system."""

    code = "bad_crs"


class BadCoordinates(BadInput):
    """Coordinates that are not finite or out of range (e.g. swapped lon/lat)."""

    code = "bad_coordinates"


class InvalidGeometry(BadInput):
    """A geometry that is empty, malformed or not OGC-valid."""

    code = "invalid_geometry"


class Conflict(GridmapError):
    """The request conflicts with the current state (versions, uniqueness)."""

    code = "conflict"


class Unauthorized(GridmapError):
    """No credentials, or credentials that are not (or no longer) valid."""

    code = "unauthorized"


class Forbidden(GridmapError):
    """Valid credentials whose role does not allow this."""

    code = "forbidden"


class Unavailable(GridmapError):
    """A dependency (the database) is not answering; try again shortly."""

    code = "unavailable"


class OutsideGrids(NotFound):
    """A point that no grid of the plan covers."""

    code = "outside_grids"


class NoMatch(NotFound):
    """An address that matches no building well enough."""

    code = "no_match"


class TooLarge(BadInput):
    """A request over a documented limit (rows, bytes, vertices)."""

    code = "too_large"


class OverBudget(TooLarge):
    """An analysis or edit whose work, computed before it starts (cells x neighbours, pairs, frames x
    cells, sites x k, vertices), is over its budget; ``details`` names the budget, the estimate and
    how to narrow the request (HTTP 422)."""

    code = "over_budget"


class UnsafeFile(BadInput):
    """An uploaded file whose bytes are not the declared format, or that asks the reader to follow a
    path, URL or SQL of its own (a VRT, a GeoPackage view, a zip bomb)."""

    code = "unsafe_file"


class UnsupportedMediaType(BadInput):
    """A request body in a format the operation does not read (HTTP 415); the message names those it does."""

    code = "unsupported_media_type"


class VersionRequired(GridmapError):
    """An edit that does not say which version of the plan it was made against (HTTP 428)."""

    code = "version_required"


class StaleVersion(Conflict):
    """The plan changed since the version an edit was made against: somebody else edited it."""

    code = "stale_version"


class NotADraft(Conflict):
    """Only drafts are edited or published."""

    code = "not_a_draft"


class PlanInUse(Conflict):
    """A draft that something else refers to (a plan copied from it, incidents placed in its grids) is kept."""

    code = "plan_in_use"


class PlanInvalid(Conflict):
    """A plan with validation errors cannot be published."""

    code = "plan_invalid"


class WarningsNotAcknowledged(Conflict):
    """A plan with band warnings is published only when the planner acknowledges them."""

    code = "warnings_not_acknowledged"


class NothingToUndo(Conflict):
    code = "nothing_to_undo"


class NothingToRedo(Conflict):
    code = "nothing_to_redo"


class RateLimited(GridmapError):
    """Too many requests from one key or address; ``details.retry_after_s`` says when to retry (HTTP 429)."""

    code = "rate_limited"


#: How many characters of a value a message may quote.
EXCERPT_CHARS = 12


def excerpt(value: object, *, chars: int = EXCERPT_CHARS) -> str:
    """A value as a message may quote it: its first few characters, repr-quoted.

    Examples
    --------
    >>> excerpt("14021410000100")
    "'140214100001…'"
    >>> excerpt("ab")
    "'ab'"
    >>> excerpt(400)
    '400'
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}" if isinstance(value, float) else str(value)
    s = str(value)
    return repr(s) if len(s) <= chars else repr(s[:chars])[:-1] + "…'"


class InvalidParameter(BadInput):
    """A query parameter of an OGC API request that cannot be used (a malformed bbox, an unknown
    property, a CQL2 filter that does not parse): HTTP 400, as OGC API – Features requires."""

    code = "invalid_parameter"
