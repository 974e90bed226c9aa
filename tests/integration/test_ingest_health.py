"""Ingest end to end on the real database: runs complete once, health follows thresholds."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from api.services.ingest import Poster, ingest
from api.services.judging_queue import JudgingLoop
from api.services.sweeper import sweep_once
from probes.result import CallResult, Outcome
from store import health, pool
from tests.integration.test_store_runs import _lease, _world

pytestmark = pytest.mark.db


def _result(run_id: Any, outcome: Outcome = Outcome.OK, latency: float = 5.0) -> dict[str, Any]:
    return CallResult(
        run_id=run_id, kind="tcp", target="claimed", outcome=outcome, latency_ms=latency
    ).to_json()


async def _execute(url: str, world: dict[str, Any], **kwargs: Any) -> Any:
    """Lease the due run, 'execute' it, ingest its result and let the judging loop judge it."""
    leased = await _lease(url, world)
    source = pool.create_pool(url)
    await source.open()
    loop = JudgingLoop(source)
    try:
        poster = Poster(
            agent_id=world["agent"],
            project_id=world["project"],
            location_id=world["location"],
            location="ams",
        )
        items = [_result(leased[0].run_id, **kwargs)]
        ingested = await ingest(source, loop, poster, items, skew_s=60)
        assert ingested.probe_ids == {world["probe"]}
        await loop.drain()
        return ingested.report
    finally:
        await source.close()


async def _setup(url: str) -> dict[str, Any]:
    world = await _world(url, interval_s=5)
    async with await psycopg.AsyncConnection.connect(url) as conn:
        await conn.execute(
            "INSERT INTO thresholds (project_id, probe_id, metric, warning, critical)"
            " VALUES (%s, %s, 'latency_ms', 100, 500)",
            (world["project"], world["probe"]),
        )
    return world


async def _due_again(url: str, world: dict[str, Any]) -> None:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        await conn.execute(
            "UPDATE schedules SET next_due = now() - interval '1 second' WHERE probe_id = %s",
            (world["probe"],),
        )


async def _state(url: str, world: dict[str, Any]) -> tuple[str, list[str]]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        rows = {r.location: r for r in await health.health_rows(conn, [world["probe"]])}
        found = await health.incidents(conn, world["project"])
    return rows[""].state, [f"{i.worst_state}:{i.resolved_at is None}" for i in found]


def test_results_drive_health_incidents_and_are_stored_once(db, run) -> None:
    world = run(_setup(db.url))
    report = run(_execute(db.url, world, latency=20.0))
    assert (report.accepted, report.duplicates, report.rejected) == (1, 0, [])
    assert run(_state(db.url, world)) == ("healthy", [])

    run(_due_again(db.url, world))
    run(_execute(db.url, world, latency=250.0))
    assert run(_state(db.url, world)) == ("degraded", ["degraded:True"])

    run(_due_again(db.url, world))
    run(_execute(db.url, world, outcome=Outcome.FAILED))
    assert run(_state(db.url, world)) == ("unhealthy", ["unhealthy:True"])

    run(_due_again(db.url, world))
    run(_execute(db.url, world, latency=10.0))
    assert run(_state(db.url, world)) == ("healthy", ["unhealthy:False"])


def test_a_replayed_or_foreign_result_is_not_stored_twice(db, run) -> None:
    world = run(_setup(db.url))
    leased = run(_lease(db.url, world))
    item = _result(leased[0].run_id)

    async def post(items: list[dict[str, Any]], location: Any = None) -> Any:
        source = pool.create_pool(db.url)
        await source.open()
        poster = Poster(
            agent_id=world["agent"],
            project_id=world["project"],
            location_id=location or world["location"],
            location="ams",
        )
        try:
            return (await ingest(source, JudgingLoop(source), poster, items, skew_s=60)).report
        finally:
            await source.close()

    assert run(post([item], location=world["agent"])).rejected  # not this location's run
    assert run(post([item])).accepted == 1
    again = run(post([item, {"run_id": "not-a-uuid"}]))
    assert (again.accepted, again.duplicates, len(again.rejected)) == (0, 1, 1)


def test_silence_turns_a_probe_unknown_on_the_sweep(db, run) -> None:
    world = run(_setup(db.url))

    async def stale_after(seconds: float) -> None:
        async with await psycopg.AsyncConnection.connect(db.url) as conn:
            await conn.execute(
                "UPDATE probes SET policy = jsonb_build_object('stale_after_s', %s::float8)"
                " WHERE id = %s",
                (seconds, world["probe"]),
            )

    run(stale_after(1.0))
    run(_execute(db.url, world))
    assert run(_state(db.url, world))[0] == "healthy"

    async def sweep_until_unknown() -> str:
        """Sweep and judge until the probe is unknown (5 s at most). A server another
        test left running sweeps this database too and may mark the pair first (each due
        pair is marked once) and be judging it: the outcome is what is checked here; the
        sweep's counts are, on a database of its own, in test_judging_queue.py."""
        source = pool.create_pool(db.url)
        await source.open()
        try:
            await asyncio.sleep(1.2)
            for _ in range(50):
                await sweep_once(source)
                await JudgingLoop(source).drain()
                state = (await _state(db.url, world))[0]
                if state == "unknown":
                    break
                await asyncio.sleep(0.1)
            return state
        finally:
            await source.close()

    assert run(sweep_until_unknown()) == "unknown"
