"""geo.validation as a package: the doctests of every module (the package docstring's examples and each
module's own)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import geo.validation

MODULES = [geo.validation] + [importlib.import_module(f"geo.validation.{m.name}")
                              for m in pkgutil.iter_modules(geo.validation.__path__)]


def test_doctests():
    attempted = 0
    for module in MODULES:
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, module.__name__
        attempted += result.attempted
    assert attempted > 5
