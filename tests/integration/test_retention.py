"""Retention per project against backdated rows in a throwaway database: old chunks are
dropped, each project keeps its own days, and what status pages show is unchanged."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.services.retention import compress_where_possible, retain_forever
from api.settings import Settings
from statuspages import load
from statuspages.charts import window
from store import retention
from store.pool import create_pool, transaction
from tests.integration.scratch import scratch_database

pytestmark = pytest.mark.db

ADMIN = "admin-retention-test-0123456789abcdef"
AGES_DAYS = (200, 40, 1)


@pytest.fixture(scope="module")
def scratch(db) -> Any:
    with scratch_database(db, "cp_retention") as url:
        yield url


@pytest.fixture(scope="module")
def client(scratch, tmp_path_factory) -> Any:
    settings = Settings(
        database_url=scratch, admin_token=ADMIN, data_dir=tmp_path_factory.mktemp("ret"),
        notify_dispatch=False, page_cache_s=0,
    )  # fmt: skip
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def new_project(client: TestClient) -> tuple[str, dict[str, str]]:
    made = client.post(
        "/v1/projects", json={"name": "ret"}, headers={"Authorization": f"Bearer {ADMIN}"}
    )
    assert made.status_code == 201, made.text
    return made.json()["project"]["id"], {"Authorization": f"Bearer {made.json()['key']['token']}"}


def test_retention_is_set_per_project_with_validation_and_audit(client) -> None:
    _, key = new_project(client)
    assert client.get("/v1/project", headers=key).json()["raw_retention_days"] == 30
    changed = client.patch("/v1/project", json={"raw_retention_days": 7}, headers=key).json()
    assert (changed["raw_retention_days"], changed["rollup_retention_days"]) == (7, 400)
    for refused in ({"rollup_retention_days": 89}, {"raw_retention_days": 0}, {"name": "x"}):
        assert client.patch("/v1/project", json=refused, headers=key).status_code == 422
    entries = client.get("/v1/audit", headers=key).json()
    [entry] = [e for e in entries if (e["target_type"], e["action"]) == ("project", "update")]
    assert (entry["before"]["raw_retention_days"], entry["after"]["raw_retention_days"]) == (30, 7)


async def seed(conn: psycopg.AsyncConnection[Any], project: str, now: datetime) -> uuid.UUID:
    """A probe of ``project`` with a result, a run and both rollups at each age, and
    health transitions over the last 100 days; the probe's id."""
    location = await one(
        conn, "INSERT INTO locations (project_id, name) VALUES (%s, 'ams') RETURNING id", (project,)
    )
    probe = await one(
        conn,
        "INSERT INTO probes (project_id, name, kind, target, interval_s, timeout_s)"
        " VALUES (%s, 'trunk', 'tcp', 'h:1', 60, 5) RETURNING id",
        (project,),
    )
    for days in AGES_DAYS:
        at = now - timedelta(days=days, hours=1)
        params = {"project": project, "probe": probe, "location": location, "at": at}
        for query in SEED:
            await conn.execute(query, params)
    for days, before, after in TRANSITIONS:
        await conn.execute(
            "INSERT INTO health_transitions (project_id, probe_id, at, from_state, to_state)"
            " VALUES (%s, %s, %s, %s, %s)",
            (project, probe, now - timedelta(days=days), before, after),
        )
    return probe


TRANSITIONS = (
    (100, "unknown", "healthy"),
    (40, "healthy", "unhealthy"),
    (39, "unhealthy", "healthy"),
    (1, "healthy", "degraded"),
)
SEED = (
    "INSERT INTO call_results (run_id, probe, target, started_at, outcome, transport, kind,"
    " probe_id, location, project_id, latency_ms)"
    " VALUES (gen_random_uuid(), 'trunk', 'h:1', %(at)s, 'ok', 'tcp', 'tcp', %(probe)s, 'ams',"
    " %(project)s, 12)",
    "INSERT INTO runs (project_id, probe_id, location_id, target, due_at, leased_at,"
    " lease_expires, completed_at)"
    " VALUES (%(project)s, %(probe)s, %(location)s, 'h:1', %(at)s, %(at)s, %(at)s, %(at)s)",
    "INSERT INTO result_rollup_hourly (probe_id, location, bucket, runs, ok_runs, latency_sum,"
    " latency_n) VALUES (%(probe)s, 'ams', date_trunc('hour', %(at)s), 1, 1, 12, 1)",
    "INSERT INTO health_rollup_hourly (probe_id, bucket, healthy_s)"
    " VALUES (%(probe)s, date_trunc('hour', %(at)s), 3600)",
)


TIME_COLUMNS = (
    ("call_results", "started_at"),
    ("runs", "due_at"),
    ("result_rollup_hourly", "bucket"),
    ("health_rollup_hourly", "bucket"),
)


async def one(conn: psycopg.AsyncConnection[Any], query: str, params: Any) -> Any:
    row = await (await conn.execute(query, params)).fetchone()
    return row[0]


async def ages(conn: psycopg.AsyncConnection[Any], probe: uuid.UUID) -> dict[str, list[int]]:
    """Per table, the ages in days of the probe's rows."""
    found = {}
    for table, column in TIME_COLUMNS:
        cur = await conn.execute(
            f"SELECT extract(day FROM now() - {column})::int FROM {table}"
            " WHERE probe_id = %s ORDER BY 1 DESC",
            (probe,),
        )
        found[table] = [row[0] for row in await cur.fetchall()]
    return found


async def chunk_ages(conn: psycopg.AsyncConnection[Any]) -> list[int]:
    cur = await conn.execute(
        "SELECT extract(day FROM now() - range_start)::int FROM timescaledb_information.chunks"
        " WHERE hypertable_name = 'call_results' ORDER BY 1 DESC"
    )
    return [row[0] for row in await cur.fetchall()]


async def what_pages_show(conn: psycopg.AsyncConnection[Any], slug: str, now: datetime) -> Any:
    """The page's bars and uptime, its SLA reports for this month and the month 40 days
    ago, and the component's 90-day chart series (from the hourly rollups)."""
    view = await load.published_view(conn, slug, now)
    months = {(now - timedelta(days=d)).strftime("%Y-%m") for d in (0, 40)}
    slas = [await load.sla_report(conn, view, month) for month in sorted(months)]
    [component] = view.components
    series = await load.component_series(
        conn, view, component.public_id, window(now, 90, view.zone)
    )
    return [(c.bar, c.uptime) for c in view.components], slas, series


def test_a_pass_drops_old_chunks_keeps_each_projects_days_and_the_pages(
    client, scratch, run
) -> None:
    project_a, key_a = new_project(client)  # raw 30 days (default), rollups 150 days
    project_b, key_b = new_project(client)  # raw 60 days: the longest, so the chunk cut
    client.patch("/v1/project", json={"rollup_retention_days": 150}, headers=key_a)
    client.patch("/v1/project", json={"raw_retention_days": 60}, headers=key_b)
    now = datetime.now(UTC)

    async def scenario() -> Any:
        async with transaction(scratch) as conn:
            probe_a = await seed(conn, project_a, now)
            probe_b = await seed(conn, project_b, now)
        slug = f"ret-{uuid.uuid4().hex[:8]}"
        page = {
            "name": "Voice",
            "slug": slug,
            "components": [{"probe_id": str(probe_a), "name": "Trunk"}],
        }
        assert client.post("/v1/pages", json=page, headers=key_a).status_code == 201
        async with transaction(scratch) as conn:
            shown = await what_pages_show(conn, slug, now)
            chunks = await chunk_ages(conn)
        async with transaction(scratch) as conn:
            pruned = await retention.prune(conn)
        async with transaction(scratch) as conn:
            after = await what_pages_show(conn, slug, now), await chunk_ages(conn)
            kept = await ages(conn, probe_a), await ages(conn, probe_b)
        return shown, chunks, pruned, *after, *kept

    shown, chunks_before, pruned, shown_after, chunks_after, kept_a, kept_b = run(scenario())
    assert [age for age in chunks_before if age > 60] == [200]
    assert [age for age in chunks_after if age > 60] == []  # the 200-day chunk is gone
    assert pruned is not None and pruned.chunks == 1
    assert kept_a == {
        "call_results": [1], "runs": [1],  # 30 days raw
        "result_rollup_hourly": [40, 1], "health_rollup_hourly": [40, 1],  # 150 days
    }  # fmt: skip
    assert kept_b == {
        "call_results": [40, 1], "runs": [40, 1],  # 60 days raw
        "result_rollup_hourly": [200, 40, 1], "health_rollup_hourly": [200, 40, 1],  # 400
    }  # fmt: skip
    assert shown_after == shown
    bars, _, series = shown
    assert bars[0][1] is not None and any(
        point.bucket < now - timedelta(days=30) for point in series
    )


def test_only_one_pass_runs_at_a_time(scratch, run) -> None:
    async def scenario() -> Any:
        async with transaction(scratch) as first:
            await first.execute("SELECT pg_advisory_xact_lock(%s)", (retention.LOCK_KEY,))
            async with transaction(scratch) as second:
                return await retention.prune(second)

    assert run(scenario()) is None


def test_the_apache_edition_skips_compression_with_one_log_line(scratch, run, caplog) -> None:
    async def scenario() -> bool:
        pool = create_pool(scratch)
        await pool.open()
        try:
            return await compress_where_possible(pool, 7)
        finally:
            await pool.close()

    with caplog.at_level(logging.INFO, logger="api.services.retention"):
        assert run(scenario()) is False
    assert [r.getMessage() for r in caplog.records] == [
        "compression skipped: TimescaleDB apache edition has none"
    ]


def test_the_full_editions_statements_parse_and_resolve_here(scratch, run) -> None:
    """The Apache edition cannot run them; it refuses them with 0A000 (its licence check)
    only after parsing them and resolving the functions and their argument names (a
    misspelt argument gives 42883 instead), which is as far as they can be checked here."""

    async def refusal(statement: str, params: tuple[Any, ...]) -> str | None:
        async with await psycopg.AsyncConnection.connect(scratch) as conn:
            try:
                await conn.execute(statement, params)
            except psycopg.Error as exc:
                return exc.sqlstate
        return None

    alter, policy = retention.COMPRESSION
    assert run(refusal(alter, ())) == "0A000"
    assert run(refusal(policy, (7,))) == "0A000"
    assert run(refusal(policy.replace("if_not_exists", "if_not_existz"), (7,))) == "42883"


def test_the_loop_checks_compression_once_and_prunes_every_interval(scratch, run, caplog) -> None:
    async def scenario() -> None:
        pool = create_pool(scratch)
        await pool.open()
        stop = asyncio.Event()
        loop = asyncio.create_task(retain_forever(pool, 0.2, 7, stop))
        await asyncio.sleep(1.0)
        stop.set()
        await loop
        await pool.close()

    with caplog.at_level(logging.INFO, logger="api.services.retention"):
        run(scenario())
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("compression skipped: TimescaleDB apache edition has none") == 1
    assert 3 <= messages.count("retention pass done") <= 5
