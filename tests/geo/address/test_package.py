"""geo.address as a package: the doctests of every module (the package docstring's examples and each
module's own)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import geo.address

MODULES = [geo.address] + [importlib.import_module(f"geo.address.{m.name}")
                           for m in pkgutil.iter_modules(geo.address.__path__)]


def test_doctests():
    attempted = 0
    for module in MODULES:
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, module.__name__
        attempted += result.attempted
    assert attempted > 10
