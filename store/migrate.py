"""Versioned schema migrations: ``migrations/NNNN_name.sql``, applied in order, once.

All pending files run in one transaction under a transaction-scoped advisory lock,
so concurrent migrators (several API replicas starting at once) apply each file
exactly once, and a failing file leaves the schema as it was. A file must
therefore not use statements that refuse transactions (CREATE INDEX
CONCURRENTLY, VACUUM). An applied file must never be edited: its checksum is
recorded and checked.
"""

from __future__ import annotations

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
