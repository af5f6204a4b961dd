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


# ---------------------------------------------------------------------------- one home for SQL

#: Modules outside geo/store that may still hold SQL, with the reason. Empty: the pure packages
#: (geo/analysis, geo/coverage, geo/demo, geo/suggest) have no database at all, and api/cli.py reaches it
#: only through geo.store and the services. A path here must still hold SQL
#: (test_the_sql_allowlist_is_not_stale), so the list can only shrink.
SQL_ALLOWED: dict[str, str] = {}

#: Where SQL lives: every statement of the service modules and routes is a function of geo/store.
SQL_HOME = "geo/store/"


def _is_string(node: ast.expr) -> bool:
    """A literal, an f-string, or a string built with + or % or .format() from one."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return _is_string(node.left) or _is_string(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _is_string(node.func.value)
    return False


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _sql_calls(source: str, rel: Path) -> list[str]:
    """Calls in ``source`` (the file ``rel``) that run SQL: ``sqlalchemy.text(...)`` however imported
    (``from sqlalchemy import text [as t]``, ``import sqlalchemy as sa; sa.text``, ``sqlalchemy.sql.text``),
    ``exec_driver_sql(...)``, and ``.execute(<a string>)`` (a driver-level statement).

    ``.execute`` on a name bound to ``sqlite3.connect(...)`` is not ours: that is Python's sqlite3 reading an
    uploaded GeoPackage (geo/file_safety.py), not the database.
    """
    tree = ast.parse(source, filename=str(rel))
    text_names: set[str] = set()   # local names of sqlalchemy's text()
    sa_names: set[str] = set()     # local names of sqlalchemy or of its sql / expression modules
    sqlite: set[str] = set()       # names bound to sqlite3.connect(...)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sqlalchemy":
            for a in node.names:
                if a.name == "text":
                    text_names.add(a.asname or a.name)
                elif a.name in ("sql", "expression"):
                    sa_names.add(a.asname or a.name)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "sqlalchemy":
                    sa_names.add(a.asname or "sqlalchemy")
        elif isinstance(node, (ast.Assign, ast.withitem)):
            value = node.value if isinstance(node, ast.Assign) else node.context_expr
            targets = node.targets if isinstance(node, ast.Assign) else [node.optional_vars]
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
                    and value.func.attr == "connect" and _root_name(value.func) == "sqlite3":
                sqlite |= {t.id for t in targets if isinstance(t, ast.Name)}
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f, at = node.func, (node.lineno, node.col_offset)
        if isinstance(f, ast.Name) and f.id in text_names:
            found.append((*at, f"{rel}:{node.lineno} {f.id}(...)"))
        elif isinstance(f, ast.Attribute) and f.attr == "text" and _root_name(f.value) in sa_names:
            found.append((*at, f"{rel}:{node.lineno} {ast.unparse(f)}(...)"))
        elif isinstance(f, ast.Attribute) and f.attr == "exec_driver_sql":
            found.append((*at, f"{rel}:{node.lineno} .exec_driver_sql(...)"))
        elif isinstance(f, ast.Attribute) and f.attr == "execute" and node.args and _is_string(node.args[0]) \
                and _root_name(f.value) not in sqlite:
            found.append((*at, f"{rel}:{node.lineno} .execute(<a string>)"))
    return [what for *_, what in sorted(found)]


def _sql_outside_store() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if rel.as_posix().startswith(SQL_HOME):
                continue
            found = _sql_calls(path.read_text(), rel)
            if found:
                out[rel.as_posix()] = found
    return out


def _allowed(rel: str) -> bool:
    return any(rel == a or rel.startswith(a.rstrip("*")) for a in SQL_ALLOWED)


def test_sql_lives_in_geo_store() -> None:
    """One home for SQL: services (geo/plans.py, incidents, ...) and routes call geo/store functions."""
    found = [f for rel, calls in _sql_outside_store().items() if not _allowed(rel) for f in calls]
    assert not found, "move these statements into geo/store/<resource>.py:\n" + "\n".join(found)


def test_the_sql_allowlist_is_not_stale() -> None:
    holding = _sql_outside_store()
    stale = [a for a in SQL_ALLOWED if not any(rel == a or rel.startswith(a.rstrip("*")) for rel in holding)]
    assert not stale, f"these hold no SQL any more: remove them from SQL_ALLOWED: {stale}"


def test_the_sql_check_sees_sql() -> None:
    src = (
        "import sqlite3\nimport sqlalchemy as sa\nfrom sqlalchemy import text\nfrom sqlalchemy import text as t\n"
        "conn.execute(text('SELECT 1'))\n"                         # 5
        "conn.execute(sa.text('SELECT 2'))\n"                      # 6
        "conn.execute(t(f'SELECT {n}'))\n"                         # 7
        "cur.execute('SELECT 3')\n"                                # 8
        "cur.execute('SELECT ' + name)\n"                          # 9
        "conn.exec_driver_sql(sql)\n"                              # 10
        "db = sqlite3.connect('x.gpkg')\ndb.execute('SELECT 4')\n"  # 12: sqlite on a file: not ours
        "store.rows(conn, limit=3)\nconn.execute(statement)\nax.text(0, 0, 'label')\n"
    )
    assert _sql_calls(src, Path("geo/probe.py")) == [
        "geo/probe.py:5 text(...)",
        "geo/probe.py:6 sa.text(...)",
        "geo/probe.py:7 t(...)",
        "geo/probe.py:8 .execute(<a string>)",
        "geo/probe.py:9 .execute(<a string>)",
        "geo/probe.py:10 .exec_driver_sql(...)",
    ]
    assert _sql_calls("from sqlalchemy import sql\nsql.text('SELECT 1')\n", Path("api/x.py")) == [
        "api/x.py:2 sql.text(...)"]
