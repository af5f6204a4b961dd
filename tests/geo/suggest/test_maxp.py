"""geo.suggest.maxp: the bounded max-p is spopt's, and spopt still has the private phases it calls."""

from __future__ import annotations

import inspect
import tomllib
from importlib.metadata import version
from pathlib import Path

import numpy as np
from packaging.requirements import Requirement

import geo.suggest.cells as sgc
import geo.suggest.maxp as sgm
from tests.geo.suggest.conftest import HH, POP, town


def test_bounded_maxp_is_spopts_maxp() -> None:
    """With no cap on the annealed constructions, the bounded max-p gives exactly
    ``MaxPHeuristic(...).solve()``'s labels (spopt's own phases, same parameters)."""
    assert sgm._maxp_phases() is not None  # spopt 0.7 keeps them in spopt.region.maxp
    c = town(2)
    geoms, h, p = sgc.check_cells(c.cells)
    (part,) = sgc.connected_parts(geoms, h, p)
    bands = sgc.BandLimits(*HH, *POP)
    for seed in (0, 1):
        public = sgm.solve_maxp(part, bands, seed, annealed=None)
        bounded = sgm.solve_maxp(part, bands, seed, annealed=10_000)
        np.testing.assert_array_equal(bounded, public)
    capped = sgm.solve_maxp(part, bands, 0)  # the default: at most _MAXP_ANNEALED annealings
    assert capped.shape == (30,) and capped.max() >= 8


#: What geo.suggest.maxp passes, positionally, to spopt 0.7's private max-p phases.
PHASES = {
    "_construction_phase": ["arr", "attr", "threshold_array", "distance_matrix", "weight", "spatial_thre",
                            "random_assign_choice", "max_it"],
    "_perform_sa": ["init_labels", "init_region_list", "init_region_spatial_attr", "threshold_array", "weight",
                    "distance_matrix", "threshold", "alpha", "tabu_length", "max_no_move"],
    "_calculate_within_region_distance": ["region_list", "distance_matrix"],
}


def test_spopt_still_has_the_private_phases_maxp_calls() -> None:
    """geo.suggest.maxp calls spopt's private max-p phases positionally: a spopt that moved or
    re-ordered them would silently fall back to the unbounded MaxPHeuristic.solve (or mis-call them)."""
    import spopt.region.maxp as spopt_maxp

    for name, params in PHASES.items():
        fn = getattr(spopt_maxp, name, None)
        assert fn is not None, (f"spopt {version('spopt')} has no spopt.region.maxp.{name}: geo/suggest/maxp.py "
                                "must be adapted (or spopt pinned back to the range in pyproject.toml)")
        got = list(inspect.signature(fn).parameters)
        assert got == params, (f"spopt {version('spopt')} changed spopt.region.maxp.{name}{inspect.signature(fn)}; "
                               f"geo/suggest/maxp.py passes {params}: adapt it before widening the pin")
    assert sgm._maxp_phases() is not None


def test_installed_spopt_is_in_the_pinned_range() -> None:
    """pyproject.toml pins spopt to the minor version whose private phases the tests above checked."""
    deps = tomllib.loads((Path(__file__).resolve().parents[3] / "pyproject.toml").read_text())["project"]["dependencies"]
    (req,) = [Requirement(d) for d in deps if Requirement(d).name == "spopt"]
    assert req.specifier, "spopt must be pinned (geo/suggest/maxp.py uses its private max-p phases)"
    assert version("spopt") in req.specifier, f"spopt {version('spopt')} is outside the tested range {req.specifier}"
