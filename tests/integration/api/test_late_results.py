"""Late and clock-skewed agent results (issue 13, faults) through the API on the real
database: a former holder's late result counts once, into the hour it started, and a
skewed agent's start is placed on the server's clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Cluster
from tests.integration.api.conftest import Tenant
from tests.integration.api.test_api_hardening_tenant import AgentWorld, _sql

pytestmark = pytest.mark.db


@pytest.fixture
def world(client: TestClient, tenant: Tenant, db: Cluster) -> AgentWorld:
    """A location with two agents and a TCP probe due now."""
    agents = AgentWorld(client, tenant, db)
    agents.make_due()
    return agents


def _expire(db: Cluster, run_id: str) -> None:
    _sql(
        db, "UPDATE runs SET lease_expires = now() - interval '1 second' WHERE run_id = %s", run_id
    )


def _stored(db: Cluster, run_id: str) -> tuple[datetime, datetime]:
    [(started, received)] = _sql(
        db, "SELECT started_at, received_at FROM call_results WHERE run_id = %s", run_id
    )
    return started, received


def _judged_health(world: AgentWorld, db: Cluster) -> list[dict[str, Any]]:
    """Health once the judging loop has taken every mark of the probe: the creation's
    judgement (``unknown``) is there at once, so reading before would race the loop."""
    waiting = "SELECT count(*) FROM judging_queue WHERE probe_id = %s"
    deadline = time.monotonic() + 20
    while _sql(db, waiting, world.probe["id"]) != [(0,)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _sql(db, waiting, world.probe["id"]) == [(0,)], "the judging loop left marks"
    return list(world.health())


def test_a_former_holder_delivers_late_and_the_first_result_wins(
    world: AgentWorld, db: Cluster
) -> None:
    [first] = world.lease(0)
    _expire(db, first["run_id"])
    [again] = world.lease(1)
    assert again["run_id"] == first["run_id"] and again["attempt"] == 2

    # Agent 0 was cut off while its lease went to agent 1: its spooled result still counts.
    late = world.post(0, first["run_id"], datetime.now(UTC) - timedelta(seconds=5))
    assert (late["accepted"], late["refused"]) == (1, []), late
    assert world.post(1, again["run_id"], datetime.now(UTC))["duplicates"] == 1
    assert world.post(0, first["run_id"], datetime.now(UTC))["duplicates"] == 1
    assert world.stored() == 1


def test_a_late_result_counts_in_the_hour_it_started_and_is_judged_as_old_news(
    world: AgentWorld, db: Cluster
) -> None:
    [leased] = world.lease(0)
    run_id = leased["run_id"]
    # The agent was cut off for two hours: its run was first leased then.
    _sql(
        db,
        "UPDATE runs SET due_at = due_at - interval '2 hours', first_leased_at = now() -"
        " interval '2 hours', leased_at = now() - interval '2 hours' WHERE run_id = %s",
        run_id,
    )
    [(first_leased,)] = _sql(db, "SELECT first_leased_at FROM runs WHERE run_id = %s", run_id)
    began = first_leased + timedelta(seconds=1)
    assert world.post(0, run_id, began)["accepted"] == 1

    started, received = _stored(db, run_id)
    assert started == began and received - began > timedelta(minutes=119)
    rollup = _sql(
        db,
        "SELECT bucket, runs FROM result_rollup_hourly WHERE probe_id = %s",
        world.probe["id"],
    )
    assert rollup == [(began.replace(minute=0, second=0, microsecond=0), 1)]
    # Re-judged with it, but two-hour-old news does not make the probe healthy now.
    assert {row["state"] for row in _judged_health(world, db)} == {"unknown"}


def test_a_skewed_agent_start_is_placed_on_the_server_clock(world: AgentWorld, db: Cluster) -> None:
    [behind] = world.lease(0)
    [(first_leased,)] = _sql(
        db, "SELECT first_leased_at FROM runs WHERE run_id = %s", behind["run_id"]
    )
    # A clock 30 s slow dates the start before the lease: it is moved up to the lease.
    assert world.post(0, behind["run_id"], datetime.now(UTC) - timedelta(seconds=30))["accepted"]
    assert _stored(db, behind["run_id"])[0] == first_leased

    world.make_due()
    [ahead] = world.lease(0)
    # A clock 30 s fast dates it in the future: it is moved back to when it arrived.
    assert world.post(0, ahead["run_id"], datetime.now(UTC) + timedelta(seconds=30))["accepted"]
    started, received = _stored(db, ahead["run_id"])
    assert started == received
    assert {row["state"] for row in _judged_health(world, db)} == {"healthy"}
