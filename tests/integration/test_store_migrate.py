from __future__ import annotations

from datetime import timedelta

import pytest

from store import migrate, pool
from store.errors import MigrationError

pytestmark = pytest.mark.db


def test_migrating_twice_applies_nothing(db) -> None:
    with pool.connect(db.url) as conn:
        assert migrate.migrate(conn) == []
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [version for (version,) in rows] == [m.version for m in migrate.available()]


def test_an_edited_migration_is_refused(db) -> None:
    with pool.connect(db.url) as conn:
        conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
        with pytest.raises(MigrationError, match="edited"):
            migrate.migrate(conn)
        conn.rollback()


def test_call_results_is_a_hypertable_by_day_on_started_at(conn, run) -> None:
    async def dimension():
        cur = await conn.execute(
            "SELECT column_name, time_interval FROM timescaledb_information.dimensions"
            " WHERE hypertable_name = 'call_results'"
        )
        return await cur.fetchone()

    assert run(dimension()) == ("started_at", timedelta(days=1))


def test_timescaledb_lists_call_results(conn, run) -> None:
    async def names():
        cur = await conn.execute("SELECT hypertable_name FROM timescaledb_information.hypertables")
        return await cur.fetchall()

    assert ("call_results",) in run(names())
