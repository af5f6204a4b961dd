"""The layering holds: import-linter's contracts (pyproject.toml), every geo module placed in one of
them, and no module reaching into another's private names.

The contracts are checked by the real ``lint-imports`` on the real source tree; one test runs it on a
contract the tree is known to break, so a linter that silently checks nothing would fail here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("geo", "api", "maps")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def _contract(contract_id: str) -> dict:
    return next(c for c in _config()["contracts"] if c["id"] == contract_id)


def _lint(config: Path | None = None) -> subprocess.CompletedProcess[str]:
    args = [str(LINT_IMPORTS), "--no-cache"] + (["--config", str(config)] if config else [])
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_import_contracts_are_kept() -> None:
    run = _lint()
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{len(_config()['contracts'])} kept, 0 broken" in run.stdout


def test_a_broken_contract_is_reported(tmp_path: Path) -> None:
    """geo.lookup (a service) reads the database: a contract forbidding that must fail, naming the import."""
    config = tmp_path / "broken.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["geo"]\n\n'
        '[[tool.importlinter.contracts]]\nname = "lookup without storage"\ntype = "forbidden"\n'
        'source_modules = ["geo.lookup"]\nforbidden_modules = ["geo.store"]\n'
    )
    run = _lint(config)
    assert run.returncode != 0
    assert "geo.lookup -> geo.store" in run.stdout


def _geo_modules() -> set[str]:
    out = set()
    for path in (ROOT / "geo").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.add(".".join(parts))
    return out


def test_every_geo_module_is_pure_a_service_or_storage() -> None:
    """A new module must be placed: listed as pure (no database) or as a service (which storage may not
    import), or live under geo.store. Sub-modules of a listed package count as listed."""
    pure = _contract("pure-no-storage")["source_modules"]
    services = _contract("store-no-services")["forbidden_modules"]
    placed = pure + services + ["geo.store"]
    unplaced = sorted(m for m in _geo_modules() - {"geo"}
                      if not any(m == p or m.startswith(p + ".") for p in placed))
    assert not unplaced, f"place these in pyproject.toml's import contracts: {unplaced}"
    assert not set(pure) & set(services)


def _private_imports(source: str, rel: Path) -> list[str]:
    """``from ours import _name`` and ``ours_module._name`` in ``source`` (the file ``rel``, relative to the
    root) where the module is another one of ours."""
    tree = ast.parse(source, filename=str(rel))
    here = ".".join(rel.with_suffix("").parts)
    aliases: dict[str, str] = {}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] in PACKAGES and node.module != here:
            for a in node.names:
                if a.name.startswith("_") and not a.name.startswith("__"):
                    found.append(f"{rel}:{node.lineno} from {node.module} import {a.name}")
                else:
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in PACKAGES:
                    aliases[a.asname or a.name.split(".")[0]] = a.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases \
                and node.attr.startswith("_") and not node.attr.startswith("__"):
            found.append(f"{rel}:{node.lineno} {node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("package", [*PACKAGES, "bench"])
def test_no_module_uses_another_modules_private_names(package: str) -> None:
    """Tests may reach into internals; the code and the benchmarks use each other's public names only."""
    found = [f for path in sorted((ROOT / package).rglob("*.py"))
             for f in _private_imports(path.read_text(), path.relative_to(ROOT))]
    assert not found, "\n".join(found)


def test_the_private_name_check_sees_a_private_import() -> None:
    src = "from geo.batch import _json_repr\nimport geo.crs as crs\ncrs._proj('a', 'b')\nfrom geo import batch\nbatch.json_repr(1)\n"
    assert _private_imports(src, Path("bench/probe.py")) == [
        "bench/probe.py:1 from geo.batch import _json_repr",
        "bench/probe.py:3 crs._proj",
    ]
