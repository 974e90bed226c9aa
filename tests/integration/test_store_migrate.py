from __future__ import annotations

from datetime import timedelta

import pytest

from store import migrate, pool
from store.errors import MigrationError
from tests.integration.conftest import new_probe

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


CLEANUP_MARK = "-- Calls stored before this"


def test_migration_5_clears_scores_of_silent_calls_and_their_rollups(conn, run) -> None:
    """Rows stored before 0005 said 0 % loss and E-model 4.4 for a call with no packet."""
    [five] = [m for m in migrate.available() if m.version == 5]
    cleanup = five.sql.decode()[five.sql.decode().index(CLEANUP_MARK) :]

    async def scenario():
        _, probe = await new_probe(conn, kind="sip_call", target="", timeout_s=10)
        rows = [  # (outcome, rx_packets, loss, mos): a silent call, then a good one
            ("no_audio", 0, 0.0, 4.4),
            ("ok", 500, 1.0, 4.2),
        ]
        for outcome, packets, loss, mos in rows:
            await conn.execute(
                "INSERT INTO call_results (run_id, probe, target, started_at, outcome, transport,"
                " rx_packets, rx_loss_pct, emodel_mos, r_factor, probe_id, location)"
                " VALUES (gen_random_uuid(), 'trunk', 'sip:x', '2026-01-01 10:10+00', %s, 'udp',"
                " %s, %s, %s, 90, %s, 'ams')",
                (outcome, packets, loss, mos, probe),
            )
        await conn.execute(
            "INSERT INTO result_rollup_hourly (probe_id, location, bucket, runs, ok_runs,"
            " mos_sum, mos_n, loss_sum, loss_n) VALUES (%s, 'ams', '2026-01-01 10:00+00',"
            " 2, 1, 8.6, 2, 1.0, 2)",
            (probe,),
        )
        await conn.execute(cleanup)
        cur = await conn.execute(
            "SELECT outcome, rx_loss_pct, emodel_mos, r_factor, audio_failed FROM call_results"
            " WHERE probe_id = %s ORDER BY outcome",
            (probe,),
        )
        results = await cur.fetchall()
        cur = await conn.execute(
            "SELECT mos_sum, mos_n, loss_sum, loss_n FROM result_rollup_hourly WHERE probe_id = %s",
            (probe,),
        )
        return results, await cur.fetchone()

    results, rollup = run(scenario())
    assert results == [("no_audio", None, None, None, "inbound"), ("ok", 1.0, 4.2, 90.0, None)]
    assert rollup == (pytest.approx(4.2), 1, 1.0, 1)
