"""A project-local PostgreSQL 15 + TimescaleDB cluster for development and tests.

Layout under ``root`` (default ``<repo>/.var/pg``, see :func:`default_root`)::

    data/        PGDATA
    socket/      unix socket directory; admin work uses peer auth through it
    server.log   the server's log
    password     the ``callprobe`` role's password (0600), made at init

TCP listens on 127.0.0.1 only and asks for scram-sha-256. initdb and postgres
refuse to run as root, so when we are root they run as the ``postgres`` system
user, which then owns ``root`` and must be able to traverse every directory
above it.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import pwd
import re
import secrets
import socket
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from store.errors import ClusterError, ClusterNotRunning, PortInUse, TimescaleDBNotInstalled

PG_BIN = Path("/usr/lib/postgresql/15/bin")
DEFAULT_PORT = 25432
"""Below Linux's ephemeral range (32768-60999): a port in it can be held by any client
socket's TIME_WAIT (seen: a test cluster refused to start on 55434 that way)."""
DATABASE = "callprobe"
ROLE = "callprobe"
SERVER_USER = "postgres"
INSTALL_HINT = "run scripts/install-timescaledb.sh as root"
FALLBACK_PARENT = Path("/var/lib/callprobe")

_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

log = logging.getLogger(__name__)

_SETTINGS = """
# callprobe embedded cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = '{socket_dir}'
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = off
"""

_BOOTSTRAP_SQL = """
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', '{role}', {password})
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') \\gexec
SELECT format('CREATE DATABASE %I OWNER %I', '{database}', '{role}')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{database}') \\gexec
"""


@dataclass(frozen=True, kw_only=True, slots=True)
class ClusterStatus:
    """What :func:`status` found under a cluster root."""

    root: Path
    initialized: bool
    running: bool
    pid: int | None = None
    port: int | None = None


def default_root(name: str = "pg") -> Path:
    """``<repo>/.var/<name>``, or a dir under /var/lib/callprobe if postgres cannot reach it."""
    return reachable_root(Path(__file__).resolve().parent.parent / ".var", name)


def reachable_root(parent: Path, name: str) -> Path:
    """``parent/name`` if the server user can reach it, else one under /var/lib/callprobe."""
    if _server_can_reach(_nearest_existing(parent)):
        return parent / name
    digest = hashlib.sha256(str(parent).encode()).hexdigest()[:12]
    return FALLBACK_PARENT / f"{name}-{digest}"


def start(root: Path, port: int = DEFAULT_PORT) -> str:
    """Init if needed, start if stopped, ensure role, database and extension; return the URL."""
    root = root.resolve()
    _require_binaries()
    _prepare_root(root)
    with _locked(root):
        current = status(root)
        if current.running:
            _require_same_port(current, port)
        else:
            _require_free_port(port)
            _initdb(root)
            _launch(root, port)
        _bootstrap(root, port)
    return url(root)


def stop(root: Path) -> None:
    """Stop the cluster (fast shutdown); a stopped cluster is left alone."""
    root = root.resolve()
    if not status(root).running:
        return
    _run_as_server(root, [str(PG_BIN / "pg_ctl"), "stop", "-D", str(root / "data"), "-m", "fast"])
    log.info("cluster stopped", extra={"root": str(root)})


def status(root: Path) -> ClusterStatus:
    """Read the cluster's state from its files (``postmaster.pid``) without connecting."""
    root = root.resolve()
    initialized = (root / "data" / "PG_VERSION").is_file()
    lines = _pid_file_lines(root)
    if not lines or not lines[0].isdigit() or not _alive(int(lines[0])):
        return ClusterStatus(root=root, initialized=initialized, running=False)
    pid = int(lines[0])
    port = int(lines[3]) if len(lines) > 3 and lines[3].isdigit() else None
    return ClusterStatus(root=root, initialized=initialized, running=True, pid=pid, port=port)


def url(root: Path) -> str:
    """The ``callprobe`` role's TCP URL of a running cluster (it holds the password)."""
    current = status(root)
    if not current.running or current.port is None:
        raise ClusterNotRunning(f"no cluster running under {root}: start it first")
    password = quote((current.root / "password").read_text().strip(), safe="")
    return f"postgresql://{ROLE}:{password}@127.0.0.1:{current.port}/{DATABASE}"


def create_database(root: Path, name: str) -> str:
    """A new empty database ``name`` (owned by the ``callprobe`` role, with TimescaleDB)
    in a running cluster, for scratch work such as tests that drop chunks or a restore;
    its URL."""
    _require_plain_name(name)
    current = status(root.resolve())
    if not current.running or current.port is None:
        raise ClusterNotRunning(f"no cluster running under {root}: start it first")
    _psql(current.root, current.port, "postgres", f'CREATE DATABASE "{name}" OWNER {ROLE};')
    _psql(current.root, current.port, name, "CREATE EXTENSION timescaledb;")
    return url(root).rsplit("/", 1)[0] + f"/{name}"


def drop_database(root: Path, name: str) -> None:
    """Drop database ``name`` of a running cluster (sessions still on it are ended)."""
    _require_plain_name(name)
    current = status(root.resolve())
    if current.running and current.port is not None:
        sql = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE);'
        _psql(current.root, current.port, "postgres", sql)


def _require_plain_name(name: str) -> None:
    if _PLAIN_NAME.fullmatch(name) is None:
        raise ClusterError(f"database name {name!r} is not a plain lower-case identifier")


def _require_binaries() -> None:
    if not (PG_BIN / "initdb").is_file():
        raise ClusterError(f"PostgreSQL 15 is not installed ({PG_BIN}): {INSTALL_HINT}")
    sharedir = _run([str(PG_BIN / "pg_config"), "--sharedir"]).strip()
    if not (Path(sharedir) / "extension" / "timescaledb.control").is_file():
        raise TimescaleDBNotInstalled(f"TimescaleDB is missing for PostgreSQL 15: {INSTALL_HINT}")


def _prepare_root(root: Path) -> None:
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not _is_root():
        return
    os.chown(root, _server_uid(), -1)
    if not _server_can_reach(root):
        raise ClusterError(
            f"the {SERVER_USER} user cannot traverse to {root}: choose a root under a "
            f"world-traversable directory, e.g. {FALLBACK_PARENT} (see store.cluster.default_root)"
        )


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    """Serialise start() between processes (pytest workers, CLI and tests at once)."""
    with (root / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _initdb(root: Path) -> None:
    data = root / "data"
    if (data / "PG_VERSION").is_file():
        return
    _write_password(root / "password")
    socket_dir = root / "socket"
    socket_dir.mkdir(mode=0o700, exist_ok=True)
    if _is_root():
        os.chown(socket_dir, _server_uid(), -1)
    initdb = [str(PG_BIN / "initdb"), "-D", str(data), "-E", "UTF8", "--no-locale"]
    _run_as_server(root, [*initdb, "--auth-local=peer", "--auth-host=scram-sha-256"])
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(_SETTINGS.format(socket_dir=socket_dir))
    log.info("cluster initialised", extra={"root": str(root)})


def _write_password(path: Path) -> None:
    if path.exists():
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")


def _launch(root: Path, port: int) -> None:
    pg_ctl = [str(PG_BIN / "pg_ctl"), "start", "-D", str(root / "data"), "-w", "-t", "60"]
    try:
        _run_as_server(root, [*pg_ctl, "-l", str(root / "server.log"), "-o", f"-p {port}"])
    except ClusterError as exc:
        raise ClusterError(f"{exc}\n--- {root / 'server.log'} ---\n{_log_tail(root)}") from exc
    log.info("cluster started", extra={"root": str(root), "port": port})


def _bootstrap(root: Path, port: int) -> None:
    """Create role, database and extension if missing (cheap, so done on every start)."""
    password = (root / "password").read_text().strip()
    literal = "'" + password.replace("'", "''") + "'"
    sql = _BOOTSTRAP_SQL.format(role=ROLE, database=DATABASE, password=literal)
    _psql(root, port, "postgres", sql)
    _psql(root, port, DATABASE, "CREATE EXTENSION IF NOT EXISTS timescaledb;")


def _psql(root: Path, port: int, database: str, sql: str) -> None:
    """Run SQL as the cluster's superuser over the unix socket (peer auth, no password)."""
    args = [str(PG_BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"]
    _run_as_server(root, [*args, "-h", str(root / "socket"), "-p", str(port), "-d", database], sql)


def _require_same_port(current: ClusterStatus, port: int) -> None:
    if current.port != port:
        raise ClusterError(
            f"the cluster under {current.root} already runs on port {current.port}, not {port}"
        )


def _require_free_port(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise PortInUse(f"port {port} on 127.0.0.1 is already in use: {exc}") from exc


def _run_as_server(root: Path, args: Sequence[str], stdin: str | None = None) -> str:
    prefix = ["runuser", "-u", SERVER_USER, "--"] if _is_root() else []
    return _run([*prefix, *args], stdin=stdin, cwd=root, label=Path(args[0]).name)


def _run(
    args: Sequence[str], stdin: str | None = None, cwd: Path | None = None, label: str = ""
) -> str:
    """Run a command with no PG* variables leaking in; a failure becomes ClusterError."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    done = subprocess.run(
        args, input=stdin, cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        name = label or Path(args[0]).name
        raise ClusterError(f"{name} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def _pid_file_lines(root: Path) -> list[str]:
    try:
        return (root / "data" / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return []


def _log_tail(root: Path, lines: int = 20) -> str:
    try:
        return "\n".join((root / "server.log").read_text().splitlines()[-lines:])
    except FileNotFoundError:
        return "(no server log)"


def _server_can_reach(path: Path) -> bool:
    if not _is_root():
        return True
    check = ["runuser", "-u", SERVER_USER, "--", "test", "-x", str(path)]
    return subprocess.run(check, capture_output=True, check=False).returncode == 0


def _nearest_existing(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_root() -> bool:
    return os.geteuid() == 0


def _server_uid() -> int:
    try:
        return pwd.getpwnam(SERVER_USER).pw_uid
    except KeyError as exc:
        raise ClusterError(f"no {SERVER_USER} system user: apt-get install postgresql-15") from exc
