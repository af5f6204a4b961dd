"""The project's own embedded PostGIS cluster, under ``var/pg`` (git-ignored).

Never the system's cluster: ``initdb`` makes a private data directory, the server
listens only on a Unix socket in that directory (no TCP port is opened, so no
password is needed and nobody else on the machine can reach it), and the
``pg_ctl`` of the newest installed PostgreSQL runs it.

PostgreSQL refuses to run as root. When we are root the server (and initdb)
run as the ``postgres`` system user, which owns the data directory. If that
user cannot reach ``var/`` (for instance a clone under ``/root``), the data
directory lives in a fresh ``/var/tmp/gridmap-pg-*`` of its own and ``var/pg`` is a
symlink to it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from geo.errors import GridmapError

#: Longest Unix socket path the kernel accepts (sun_path is 108 bytes with the NUL).
_MAX_SOCKET_PATH = 100


class ClusterError(GridmapError):
    code = "cluster_error"


def find_pg_bin() -> Path:
    """Directory of the newest installed PostgreSQL server binaries.

    ``GRIDMAP_PG_BIN`` overrides the search.
    """
    override = os.environ.get("GRIDMAP_PG_BIN")
    if override:
        return Path(override)
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not candidates:
        found = shutil.which("pg_ctl")
        if found:
            return Path(found).parent
        raise ClusterError(
            "PostgreSQL server binaries not found: install postgresql-15 "
            "(apt-get install postgresql-15) or set GRIDMAP_PG_BIN"
        )
    return candidates[-1].parent


def postgis_available(pg_bin: Path) -> bool:
    """Whether the PostGIS extension is installed for the PostgreSQL at ``pg_bin``."""
    out = subprocess.run(
        [str(pg_bin / "pg_config"), "--sharedir"], capture_output=True, text=True
    )
    sharedir = Path(out.stdout.strip()) if out.returncode == 0 else Path(
        f"/usr/share/postgresql/{pg_bin.parent.name}"
    )
    return (sharedir / "extension" / "postgis.control").exists()


@dataclass
class Cluster:
    """A private PostgreSQL cluster rooted at ``var_dir / "pg"``."""

    var_dir: Path
    port: int = 54329

    def __post_init__(self) -> None:
        self.var_dir = Path(self.var_dir).resolve()
        self.pg_bin = find_pg_bin()
        self.as_postgres = os.geteuid() == 0

    # -- paths ---------------------------------------------------------------
    @property
    def root(self) -> Path:
        """Where data, socket and log live (``var/pg``, possibly a symlink)."""
        return self.var_dir / "pg"

    @property
    def data_dir(self) -> Path:
        # Resolved: the postgres user may be able to reach the link's target but not the link.
        return self.root.resolve() / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root.resolve() / "run"

    @property
    def log_file(self) -> Path:
        return self.root.resolve() / "postgres.log"

    def url(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` in this cluster, over the Unix socket."""
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    # -- running commands ----------------------------------------------------
    def _cmd(self, *args: str) -> list[str]:
        if self.as_postgres:
            return ["runuser", "-u", "postgres", "--", *args]
        return list(args)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        # cwd "/": as the postgres user, the caller's working directory may be out of reach.
        proc = subprocess.run(self._cmd(*args), capture_output=True, text=True, cwd="/")
        if check and proc.returncode != 0:
            raise ClusterError(
                f"{Path(args[0]).name} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}"
                + (f"; see {self.log_file}" if self.log_file.exists() else "")
            )
        return proc

    def _postgres_can_reach(self, path: Path) -> bool:
        if not self.as_postgres:
            return True
        probe = subprocess.run(
            ["runuser", "-u", "postgres", "--", "test", "-w", str(path)], capture_output=True, cwd="/"
        )
        return probe.returncode == 0

    def _prepare_root(self) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        if self.root.exists():
            return
        target = self.root
        if self.as_postgres:
            # The data directory must be owned by postgres, and postgres must be able
            # to walk to it. Try var/pg first; fall back to /var/tmp when it cannot.
            target.mkdir(mode=0o700)
            os.chown(target, _postgres_uid(), _postgres_gid())
            if not self._postgres_can_reach(target) or len(str(target / "run")) > _MAX_SOCKET_PATH - 20:
                target.rmdir()
                # A fresh directory of this clone's own: never a stale cluster left by an earlier clone
                # at the same path.
                outside = Path(tempfile.mkdtemp(prefix="gridmap-pg-", dir="/var/tmp"))
                os.chown(outside, _postgres_uid(), _postgres_gid())
                self.root.symlink_to(outside)
                print(f"postgres cannot reach {self.var_dir}: cluster data in {outside} (var/pg links to it)")
        else:
            target.mkdir(mode=0o700)

    # -- lifecycle -------------------------------------------------------------
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def running(self) -> bool:
        if not self.initialised():
            return False
        return self._run(str(self.pg_bin / "pg_ctl"), "-D", str(self.data_dir), "status", check=False).returncode == 0

    def init(self) -> None:
        """Create the data directory with ``initdb`` (once)."""
        if self.initialised():
            return
        if not postgis_available(self.pg_bin):
            raise ClusterError(
                f"PostGIS is not installed for PostgreSQL {self.pg_bin.parent.name}: "
                f"apt-get install postgresql-{self.pg_bin.parent.name}-postgis-3"
            )
        self._prepare_root()
        if self.data_dir.exists() and not (self.data_dir / "PG_VERSION").exists():
            # What a failed initdb left behind: ours to clear.
            self._run("rm", "-rf", str(self.data_dir))
        self._run(
            str(self.pg_bin / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
            "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions",
        )
        conf = self.data_dir / "postgresql.auto.conf"
        settings = {
            "listen_addresses": "''",
            "unix_socket_directories": f"'{self.socket_dir}'",
            "unix_socket_permissions": "0700",
            "port": str(self.port),
            "max_connections": "200",
            "shared_buffers": "'256MB'",
            "fsync": "on",
            "logging_collector": "off",
        }
        text = "".join(f"{k} = {v}\n" for k, v in settings.items())
        self._run("sh", "-c", f"cat >> '{conf}' <<'EOF'\n{text}EOF\nmkdir -p '{self.socket_dir}'")

    def start(self, *, timeout_s: float = 60) -> bool:
        """Start the cluster; returns False when it was already running."""
        self.init()
        if self.running():
            return False
        self._run(
            str(self.pg_bin / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file),
            "-o", f"-p {self.port}", "-w", "-t", str(int(timeout_s)), "start",
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [str(self.pg_bin / "pg_isready"), "-h", str(self.socket_dir), "-p", str(self.port)],
                capture_output=True,
            )
            if ready.returncode == 0:
                return True
            time.sleep(0.2)
        raise ClusterError(f"the cluster did not accept connections in {timeout_s:.0f} s; see {self.log_file}")

    def stop(self, *, mode: str = "fast") -> bool:
        """Stop the cluster; returns False when it was not running."""
        if not self.running():
            return False
        self._run(str(self.pg_bin / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop")
        return True

    def ensure_database(self, name: str) -> bool:
        """Create database ``name`` if missing; returns True when created."""
        exists = self._psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
        if exists.strip() == "1":
            return False
        self._psql("postgres", f'CREATE DATABASE "{name}"')
        return True

    def drop_database(self, name: str) -> None:
        self._psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _psql(self, database: str, sql: str) -> str:
        return self._run(
            str(self.pg_bin / "psql"), "-X", "-q", "-t", "-A", "-h", str(self.socket_dir),
            "-p", str(self.port), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-c", sql,
        ).stdout


def _postgres_uid() -> int:
    return pwd.getpwnam("postgres").pw_uid


def _postgres_gid() -> int:
    return pwd.getpwnam("postgres").pw_gid
