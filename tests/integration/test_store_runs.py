"""Leasing against the real database: each due slot once, expired leases re-issued."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from store import runs
from tests.integration.conftest import inserted_id, new_probe

pytestmark = pytest.mark.db


async def _world(url: str, interval_s: int = 60) -> dict[str, uuid.UUID]:
    """A committed project with one location, one agent and one probe due now."""
    async with await psycopg.AsyncConnection.connect(url) as conn:
        project, probe = await new_probe(conn, target="127.0.0.1:9", interval_s=interval_s)
        location = await inserted_id(
            conn,
            "INSERT INTO locations (project_id, name) VALUES (%s, 'ams') RETURNING id",
            (project,),
        )
        agent = await inserted_id(
            conn,
            "INSERT INTO agents (project_id, location_id, name, prefix, token_hash)"
            " VALUES (%s, %s, 'a', 'cpa_x', %s) RETURNING id",
            (project, location, uuid.uuid4().bytes),
        )
        await conn.execute(
            "INSERT INTO probe_locations (probe_id, location_id) VALUES (%s, %s)",
            (probe, location),
        )
        await conn.execute(
            "INSERT INTO schedules (probe_id, location_id, target, next_due)"
            " VALUES (%s, %s, '127.0.0.1:9', now() - interval '1 second')",
            (probe, location),
        )
    return {"project": project, "location": location, "agent": agent, "probe": probe}


async def _lease(url: str, world: dict[str, uuid.UUID], grace: float = 30) -> list[Any]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        rows = await runs.lease_runs(
            conn, location_id=world["location"], agent_id=world["agent"], limit=10, grace_s=grace
        )
    return [row.run for row in rows]


def test_a_due_slot_is_leased_once_by_concurrent_agents(db, run) -> None:
    world = run(_world(db.url))

    async def race() -> list[list[Any]]:
        return list(await asyncio.gather(*(_lease(db.url, world) for _ in range(8))))

    leases = run(race())
    leased = [row for lease in leases for row in lease]
    assert len(leased) == 1
    assert leased[0].kind == "tcp" and leased[0].attempt == 1
    assert run(_lease(db.url, world)) == []


def test_an_expired_lease_is_reissued_with_the_same_run_id(db, run) -> None:
    world = run(_world(db.url))
    first = run(_lease(db.url, world, grace=-10))  # expires at once
    again = run(_lease(db.url, world))
    assert [r.run_id for r in again] == [first[0].run_id]
    assert again[0].attempt == 2


def test_a_run_completes_once_and_only_for_its_location(db, run) -> None:
    world = run(_world(db.url))
    leased = run(_lease(db.url, world))
    now = datetime.now(UTC)
    started = {leased[0].run_id: now, uuid.uuid4(): now}

    async def complete(location: uuid.UUID) -> runs.Completion:
        holder = runs.Holder(
            project_id=world["project"], location_id=location, agent_id=world["agent"]
        )
        async with await psycopg.AsyncConnection.connect(db.url) as conn:
            return await runs.complete_runs(conn, started=started, holder=holder, skew_s=60)

    assert run(complete(uuid.uuid4())) == runs.Completion()
    done = run(complete(world["location"]))
    assert [d.run_id for d in done.completed] == [leased[0].run_id] and not done.duplicates
    assert run(complete(world["location"])) == runs.Completion(duplicates={leased[0].run_id})


def test_the_next_slot_follows_the_interval(db, run) -> None:
    world = run(_world(db.url, interval_s=5))
    first = run(_lease(db.url, world))

    async def make_due() -> None:
        """Move the clock 5 s forward by moving the schedule and the leased slot back."""
        async with await psycopg.AsyncConnection.connect(db.url) as conn:
            await conn.execute(
                "UPDATE runs SET due_at = due_at - interval '5 seconds' WHERE probe_id = %s",
                (world["probe"],),
            )
            await conn.execute(
                "UPDATE schedules SET next_due = next_due - interval '5 seconds'"
                " WHERE probe_id = %s",
                (world["probe"],),
            )

    run(make_due())
    second = run(_lease(db.url, world))
    assert second[0].due_at == first[0].due_at  # one interval after the moved first slot
    assert second[0].run_id != first[0].run_id


def _runs_of(url: str, world: dict[str, uuid.UUID]) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT leased_by FROM runs WHERE project_id = %s", (world["project"],)
        ).fetchall()


@pytest.mark.parametrize("table", ["probes", "locations", "projects"])
def test_deleting_what_a_run_belongs_to_deletes_the_run(db, run, table: str) -> None:
    """Runs have no foreign keys (migration 0013): triggers do what their cascades did."""
    world = run(_world(db.url))
    assert len(run(_lease(db.url, world))) == 1
    key = {"probes": "probe", "locations": "location", "projects": "project"}[table]
    with psycopg.connect(db.url) as conn:
        conn.execute(f"DELETE FROM {table} WHERE id = %s", (world[key],))  # type: ignore[arg-type]
    assert _runs_of(db.url, world) == []


def test_deleting_an_agent_keeps_its_runs_without_a_holder(db, run) -> None:
    world = run(_world(db.url))
    assert len(run(_lease(db.url, world))) == 1
    with psycopg.connect(db.url) as conn:
        conn.execute("DELETE FROM agents WHERE id = %s", (world["agent"],))
    assert _runs_of(db.url, world) == [(None,)]
