"""Versioned schema migrations: ``migrations/NNNN_name.sql``, applied in order, once.

All pending files run in one transaction under a transaction-scoped advisory lock,
so concurrent migrators (several API replicas starting at once) apply each file
exactly once, and a failing file leaves the schema as it was. A file must
therefore not use statements that refuse transactions (CREATE INDEX
CONCURRENTLY, VACUUM). An applied file must never be edited: its checksum is
recorded and checked.

Migrations only go forward, so code older than the schema must not touch it: a
database holding a version this code does not ship is refused (by :func:`migrate`,
by :func:`check`, which the API runs at start when it does not migrate, and by
:func:`schema_problem`, which ``/readyz`` asks).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from store.errors import MigrationError
from store.pool import connect

LOCK_KEY = 0x63616C6C70726F62
"""Advisory-lock key: "callprob" in ASCII, so it is recognisable in pg_locks."""

_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True, slots=True)
class Migration:
    """One SQL file of ``store/migrations``."""

    version: int
    name: str
    sql: bytes

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql).hexdigest()


def available() -> list[Migration]:
    """Every migration file shipped with the package, by version."""
    folder = resources.files("store").joinpath("migrations")
    found = sorted(
        (_load(entry) for entry in folder.iterdir() if entry.name.endswith(".sql")),
        key=lambda migration: migration.version,
    )
    versions = [migration.version for migration in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions in {versions}")
    return found


def migrate(conn: psycopg.Connection[Any]) -> list[int]:
    """Apply the pending migrations and commit; return the versions applied."""
    migrations = available()
    with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        cur.execute(_CREATE_TABLE)
        rows = cur.execute("SELECT version, checksum FROM schema_migrations").fetchall()
        applied: dict[int, str] = dict(rows)
        _refuse_newer(migrations, applied)
        _refuse_edited(migrations, applied)
        pending = [migration for migration in migrations if migration.version not in applied]
        for migration in pending:
            _apply(cur, migration)
    return [migration.version for migration in pending]


def migrate_database(url: str) -> list[int]:
    """Apply the pending migrations to the database at ``url`` over a connection of its own
    (what the API, the CLI and ``callprobe db start`` do before using a database)."""
    with connect(url) as conn:
        return migrate(conn)


def check_database(url: str) -> None:
    """:func:`check` the database at ``url`` over a connection of its own."""
    with connect(url) as conn:
        check(conn)


def check(conn: psycopg.Connection[Any]) -> None:
    """Raise :class:`MigrationError` unless the schema is exactly what this code ships
    (for replicas that leave migrating to ``callprobe db migrate``)."""
    if conn.execute("SELECT to_regclass('schema_migrations')").fetchone() == (None,):
        applied: set[int] = set()
    else:
        applied = {row[0] for row in conn.execute(_VERSIONS).fetchall()}
    problem = _problem(shipped(), applied)
    if problem is not None:
        raise MigrationError(problem)


async def schema_problem(conn: psycopg.AsyncConnection[Any]) -> str | None:
    """Why the schema does not match this code (newer, or migrations pending), or None."""
    rows = await (await conn.execute(_VERSIONS)).fetchall()
    return _problem(shipped(), {row[0] for row in rows})


@functools.cache
def shipped() -> frozenset[int]:
    """The versions of the migration files this code ships (read once)."""
    return frozenset(migration.version for migration in available())


_VERSIONS = "SELECT version FROM schema_migrations"


def _problem(known: frozenset[int], applied: set[int]) -> str | None:
    """What is wrong with a schema holding ``applied`` for code shipping ``known``."""
    unknown = applied - known
    if unknown:
        return (
            f"database schema is at {max(applied):04d} but this callprobe knows only up to"
            f" {max(known, default=0):04d}: upgrade callprobe"
        )
    pending = known - applied
    if pending:
        return (
            f"database schema is at {max(applied, default=0):04d} but this callprobe needs"
            f" {max(pending):04d}: run `callprobe db migrate`"
        )
    return None


def _refuse_newer(migrations: list[Migration], applied: dict[int, str]) -> None:
    known = frozenset(migration.version for migration in migrations)
    problem = _problem(known, set(applied) | known)
    if problem is not None:
        raise MigrationError(problem)


def _load(entry: Traversable) -> Migration:
    match = _FILE_NAME.match(entry.name)
    if match is None:
        raise MigrationError(f"migration file {entry.name!r} is not named NNNN_name.sql")
    version = int(match["version"])
    return Migration(version=version, name=match["name"], sql=entry.read_bytes())


def _refuse_edited(migrations: list[Migration], applied: dict[int, str]) -> None:
    for migration in migrations:
        recorded = applied.get(migration.version)
        if recorded is not None and recorded != migration.checksum:
            raise MigrationError(
                f"migration {migration.version:04d}_{migration.name} was edited after it was "
                "applied: add a new migration instead"
            )


def _apply(cur: psycopg.Cursor[tuple[Any, ...]], migration: Migration) -> None:
    # The file is trusted package data, hence bytes rather than a LiteralString.
    cur.execute(migration.sql)
    cur.execute(
        "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
        (migration.version, migration.name, migration.checksum),
    )
    log.info("migration applied", extra={"version": migration.version, "name": migration.name})
