"""Handing back runs: only the holder's open runs, whose lease then expires at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from store import runs
from tests.conftest import Cluster, Run
from tests.integration.test_store_runs import _lease, _world

pytestmark = pytest.mark.db


async def _release(url: str, world: dict[str, uuid.UUID], run_ids: list[uuid.UUID]) -> int:
    holder = runs.Holder(
        project_id=world["project"], location_id=world["location"], agent_id=world["agent"]
    )
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        return await runs.release_runs(conn, run_ids, holder)


def test_a_released_run_is_leased_again_at_once(db: Cluster, run: Run[Any]) -> None:
    world = run(_world(db.url))
    (leased,) = run(_lease(db.url, world))
    stranger = {**world, "agent": uuid.uuid4()}
    assert run(_release(db.url, stranger, [leased.run_id])) == 0, "not its run"
    assert run(_lease(db.url, world)) == []
    assert run(_release(db.url, world, [leased.run_id, uuid.uuid4()])) == 1
    assert run(_release(db.url, world, [leased.run_id])) == 0, "already handed back"
    (again,) = run(_lease(db.url, world))
    assert (again.run_id, again.attempt) == (leased.run_id, 2)


def test_a_completed_run_is_not_released(db: Cluster, run: Run[Any]) -> None:
    world = run(_world(db.url))
    (leased,) = run(_lease(db.url, world))
    holder = runs.Holder(
        project_id=world["project"], location_id=world["location"], agent_id=world["agent"]
    )

    async def complete() -> None:
        async with await psycopg.AsyncConnection.connect(db.url, autocommit=True) as conn:
            await runs.complete_runs(
                conn, started={leased.run_id: datetime.now(UTC)}, holder=holder, skew_s=60
            )

    run(complete())
    assert run(_release(db.url, world, [leased.run_id])) == 0
    assert run(_lease(db.url, world)) == []
