"""What is wrong with a geometry: :class:`GeometryProblem`, and how places are written in its messages.

:class:`Malformed` is raised while reading raw input (:mod:`geo.validation.parse`,
:mod:`geo.validation.wkb`) and carries the problem; the public functions turn
it into a :class:`GeometryProblem` or a :class:`geo.errors.InvalidGeometry`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from geo.messages import zh

__all__ = ["GeometryProblem", "Malformed", "format_point"]


@dataclass(frozen=True)
class GeometryProblem:
    """Why a geometry is invalid.

    Attributes
    ----------
    reason : str
        A snake_case kind: ``null``, ``empty``, ``malformed``, ``three_d``,
        ``invalid_coordinate``, ``ring_not_closed``, ``too_few_points``,
        ``self_intersection``, ``ring_self_intersection``,
        ``hole_outside_shell``, ``nested_holes``, ``disconnected_interior``,
        ``nested_shells``, ``overlapping_parts``, ``duplicate_rings``, ``invalid``,
        and (from :func:`require_valid` only) ``wrong_type``.
    message : str
        The sentence for a person: what, where, and how to fix it.
    location : (float, float) or None
        Where, in the geometry's coordinates, when known.
    """

    reason: str
    message: str
    location: tuple[float, float] | None = None

    @property
    def message_zh(self) -> str:
        """The Chinese of the problem: the catalogue's words for its :attr:`reason` (geo/messages.py)."""
        return zh(f"geometry.{self.reason}")

    def render(self, lang: int) -> str:
        """As a field of a catalogue message: the catalogue's Chinese (0), or this :attr:`message` (1)."""
        return self.message_zh if lang == 0 else self.message

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for error details)."""
        return {
            "reason": self.reason,
            "message": self.message,
            "message_zh": self.message_zh,
            "location": list(self.location) if self.location is not None else None,
        }


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    s = f"{v:.7f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def format_point(xy) -> str:
    """``(x, y)`` with at most 7 decimals, as messages write a place.

    Examples
    --------
    >>> format_point((113.1, 40.05)), format_point((1.0, -0.0))
    ('(113.1, 40.05)', '(1, 0)')
    """
    return f"({_fmt(float(xy[0]))}, {_fmt(float(xy[1]))})"


class Malformed(Exception):
    """Raw input that cannot be read as a geometry; :attr:`problem` says why."""

    def __init__(self, reason: str, message: str, location=None):
        super().__init__(message)
        self.problem = GeometryProblem(reason, message, location)
